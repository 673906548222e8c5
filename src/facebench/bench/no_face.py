"""What a benchmark does with an image in which its detector finds no face (``--on-no-face``).

- ``fail`` (the default): the image has no embedding, and every pair holding it is decided
  "different" at every threshold.
- ``center``: the image's central square (half its shorter side: LFW's 250-px images hold a
  ~110-px face at their centre) is embedded without landmarks, as many published protocols do.
- ``fallback:DET[,DET…]``: the listed detectors try in turn, then the pipeline's own detector on
  the image upscaled ×2 (a face too small for it may be found then).

The policy belongs to the detection stage: it is part of the detector's ``config`` (so a stored
detection is reused only under the same policy) and of its name in results (``yunet~center``),
and each rescued face records where it came from (`FaceSource`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from facebench.bench.records import FaceSource
from facebench.errors import FacebenchError
from facebench.types import Face, Faces

__all__ = ["CENTER_FRACTION", "NoFacePolicy", "RescuingDetector", "central_face"]

#: side of the ``center`` crop as a fraction of the image's shorter side
CENTER_FRACTION = 0.5
_UPSCALE = 2.0


def central_face(faces: Faces, width: int, height: int) -> Face | None:
    """The face whose box centre is nearest the image centre (benchmark datasets centre their subject)."""
    if faces.is_empty:
        return None
    centre = np.array([width / 2, height / 2], np.float32)
    best = int(np.argmin(np.linalg.norm((faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2 - centre, axis=1)))
    return faces[best].to_faces()[0]


@dataclass(frozen=True)
class NoFacePolicy:
    """A parsed ``--on-no-face`` value."""

    kind: Literal["fail", "center", "fallback"] = "fail"
    fallbacks: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> NoFacePolicy:
        """``fail``, ``center`` or ``fallback:DET[,DET…]`` (detector names, checked when built).

        Raises:
            FacebenchError: any other value.
        """
        text = (text or "fail").strip()
        if text in ("fail", "center"):
            return cls(text)  # type: ignore[arg-type]
        kind, _, names = text.partition(":")
        fallbacks = tuple(name.strip() for name in names.split(",") if name.strip())
        if kind != "fallback" or not fallbacks:
            raise FacebenchError(
                f"Expected --on-no-face to be fail, center or fallback:DET[,DET...], but got {text!r}"
            )
        return cls("fallback", fallbacks)

    @property
    def spec(self) -> str:
        return f"fallback:{','.join(self.fallbacks)}" if self.kind == "fallback" else self.kind

    def source_name(self, source: int) -> str:
        """How results name a `FaceSource` under this policy (``fallback:mtcnn``, ``upscaled``)."""
        if source == FaceSource.DETECTOR:
            return "detector"
        if source == FaceSource.CENTER:
            return "center"
        if source == FaceSource.UPSCALED:
            return "upscaled"
        return f"fallback:{self.fallbacks[source - FaceSource.FALLBACK]}"


class RescuingDetector:
    """A detector under a no-face policy: the detector's own API (attributes are its), a
    ``config`` that names the policy, and `rescue` for the images in which it found no face."""

    def __init__(self, primary: Any, policy: NoFacePolicy, fallbacks: list[Any]) -> None:
        self.primary = primary
        self.policy = policy
        self.fallbacks = fallbacks

    def __getattr__(self, name: str) -> Any:
        return getattr(self.primary, name)

    @property
    def config(self) -> dict[str, Any]:
        return {
            **self.primary.config,
            "on_no_face": self.policy.spec,
            "fallback_configs": [fallback.config for fallback in self.fallbacks],
        }

    def load(self) -> RescuingDetector:
        self.primary.load()
        for fallback in self.fallbacks:
            fallback.load()
        return self

    def rescue(self, rgb: np.ndarray) -> tuple[Face | None, int]:
        """A face for full-resolution RGB ``rgb`` in which the detector found none, and its source."""
        height, width = rgb.shape[:2]
        if self.policy.kind == "center":
            side = CENTER_FRACTION * min(width, height)
            x0, y0 = (width - side) / 2, (height - side) / 2
            return Face(
                box=np.array([x0, y0, x0 + side, y0 + side], np.float32), score=0.0
            ), FaceSource.CENTER
        if self.policy.kind == "fallback":
            for index, fallback in enumerate(self.fallbacks):
                face = central_face(fallback.detect_faces(rgb), width, height)
                if face is not None:
                    return face, FaceSource.FALLBACK + index
            upscaled = cv2.resize(rgb, None, fx=_UPSCALE, fy=_UPSCALE, interpolation=cv2.INTER_CUBIC)
            faces = self.primary.detect_faces(upscaled).scaled(1 / _UPSCALE, 1 / _UPSCALE)
            face = central_face(faces, width, height)
            if face is not None:
                return face, FaceSource.UPSCALED
        return None, FaceSource.DETECTOR

    def __repr__(self) -> str:
        return f"RescuingDetector({self.primary!r}, on_no_face={self.policy.spec!r})"
