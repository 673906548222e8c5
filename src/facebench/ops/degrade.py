"""Input degradations for evaluation (``--degrade``) and training augmentation.

An evaluation degradation is a pipeline of named steps applied, in order, to every aligned crop:

- ``lowres:K[:bicubic|area]`` shrinks the crop K times (bicubic by default, as the
  low-resolution recognition and super-resolution literature make their inputs; ``area``
  averages pixels instead), leaving a small image for a restorer to bring back;
- ``jpeg:Q`` re-encodes it as JPEG of quality Q (1–100);
- ``blur:SIGMA`` applies a Gaussian blur of standard deviation SIGMA pixels;
- ``noise:SIGMA`` adds Gaussian noise of standard deviation SIGMA grey levels, seeded by the
  crop's own bytes so a face's noise never depends on its batch-mates or on the run.

Steps are joined by commas (``lowres:4,jpeg:50``); steps after ``lowres`` act on the small image,
as a small face is compressed or blurred in a real low-quality capture. `Degradation.spec` is
the canonical spelling (the method of every ``lowres`` stated), which results and caches record.
Bringing the small crop back to the model's input size is a restorer's job
(`facebench.restore`); without one it is scaled back bilinearly.

Training augmentation uses `degrade_lowres` (area down, bilinear back), unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["DOWNSCALE_METHODS", "Degradation", "DegradeStep", "degrade_lowres", "parse_degrade"]

#: how ``lowres`` shrinks a crop (the name after its factor)
DOWNSCALE_METHODS = {"bicubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}


def degrade_lowres(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` (``(H, W, C)`` or ``(N, H, W, C)`` uint8) downscaled by ``factor`` with area
    averaging and upscaled back bilinearly (the training augmentation)."""
    if factor <= 1.0:
        return image
    if image.ndim == 4:
        return np.stack([degrade_lowres(one, factor) for one in image])
    height, width = image.shape[:2]
    small = cv2.resize(
        image,
        (max(1, round(width / factor)), max(1, round(height / factor))),
        interpolation=cv2.INTER_AREA,
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class DegradeStep:
    """One named step: ``kind`` (lowres, jpeg, blur, noise), its ``value`` and, for lowres, ``method``."""

    kind: str
    value: float
    method: str | None = None

    @property
    def spec(self) -> str:
        text = f"{self.kind}:{self.value:g}"
        return f"{text}:{self.method}" if self.method else text

    def apply(self, image: np.ndarray) -> np.ndarray:
        """This step on one ``(H, W, 3)`` uint8 RGB image."""
        if self.kind == "lowres":
            height, width = image.shape[:2]
            size = (max(1, round(width / self.value)), max(1, round(height / self.value)))
            return cv2.resize(image, size, interpolation=DOWNSCALE_METHODS[self.method or "bicubic"])
        if self.kind == "jpeg":
            # OpenCV's encoder takes BGR: feeding it RGB would subsample the wrong chroma
            ok, encoded = cv2.imencode(
                ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(self.value)]
            )
            if not ok:
                raise RuntimeError(f"OpenCV could not JPEG-encode a {image.shape} image")
            decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
            assert decoded is not None, "OpenCV could not decode its own JPEG"
            return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        if self.kind == "blur":
            return cv2.GaussianBlur(image, (0, 0), sigmaX=self.value, sigmaY=self.value)
        if self.kind == "noise":
            seed = int.from_bytes(hashlib.blake2b(image.tobytes(), digest_size=8).digest(), "little")
            noise = np.random.default_rng(seed).normal(0.0, self.value, image.shape)
            return np.clip(np.rint(image + noise), 0, 255).astype(np.uint8)
        raise AssertionError(f"unknown degrade step {self.kind!r}")


@dataclass(frozen=True)
class Degradation:
    """A pipeline of `DegradeStep` applied in order to every aligned crop."""

    steps: tuple[DegradeStep, ...]

    @property
    def spec(self) -> str:
        """The canonical spelling, e.g. ``lowres:4:bicubic,jpeg:50``."""
        return ",".join(step.spec for step in self.steps)

    @property
    def factor(self) -> float:
        """How many times smaller the result is than the input (1 without ``lowres``)."""
        return float(np.prod([step.value for step in self.steps if step.kind == "lowres"] or [1.0]))

    def shrink(self, image: np.ndarray) -> np.ndarray:
        """Every step on one ``(H, W, 3)`` uint8 image; smaller than it where a ``lowres`` step ran."""
        for step in self.steps:
            image = step.apply(image)
        return np.ascontiguousarray(image)

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """The steps on ``(N, H, W, 3)`` crops, scaled back bilinearly to ``H×W`` (no restorer)."""
        height, width = crops.shape[1:3]
        out = []
        for crop in crops:
            small = self.shrink(crop)
            same = small.shape[:2] == (height, width)
            out.append(small if same else cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))
        return np.stack(out)


_LIMITS = {"lowres": (1.0, None), "jpeg": (1.0, 100.0), "blur": (0.0, None), "noise": (0.0, None)}
_EXAMPLES = "lowres:4, lowres:4:area, jpeg:50, blur:1.5, noise:8, or several joined by commas"


def _parse_step(text: str, spec: str) -> DegradeStep:
    kind, _, rest = text.strip().partition(":")
    argument, _, method = rest.partition(":")
    if kind not in _LIMITS:
        raise ValueError(f"`degrade` {spec!r}: unknown step {kind!r}; expected {_EXAMPLES}")
    try:
        value = float(argument)
    except ValueError:
        raise ValueError(f"`degrade` {spec!r}: step {text!r} needs a number after '{kind}:'") from None
    low, high = _LIMITS[kind]
    if (
        not np.isfinite(value)
        or value < low
        or (high is not None and value > high)
        or (kind in ("lowres", "blur") and value <= low)
    ):
        bound = f"greater than {low:g}" if kind in ("lowres", "blur") else f"at least {low:g}"
        bound += f" and at most {high:g}" if high is not None else ""
        raise ValueError(f"`degrade` {spec!r}: the value of {kind} must be {bound}, got {argument}")
    if method and kind != "lowres":
        raise ValueError(f"`degrade` {spec!r}: only lowres takes a method, not {kind}")
    if kind == "lowres":
        method = method or "bicubic"
        if method not in DOWNSCALE_METHODS:
            raise ValueError(
                f"`degrade` {spec!r}: lowres shrinks by {' or '.join(DOWNSCALE_METHODS)}, not {method!r}"
            )
    return DegradeStep(kind, value, method or None)


def parse_degrade(spec: str | None) -> Degradation | None:
    """The pipeline named by ``spec``, or ``None`` for ``None``/``none``/``""``.

    Raises:
        ValueError: an unknown step, a missing or out-of-range value, or a method where none belongs.
    """
    if spec is None or spec.strip() in ("", "none"):
        return None
    return Degradation(tuple(_parse_step(text, spec) for text in spec.split(",")))
