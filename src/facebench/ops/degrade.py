"""Input degradations shared by training augmentation and evaluation (``--degrade lowres:k``).

Low resolution is simulated as in the low-resolution face recognition literature: shrink the aligned
crop by a factor with area averaging, then bring it back to the model's input size bilinearly, so
the network sees the same tensor shape with the detail of a ``1/k`` resolution face.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = ["degrade_lowres", "parse_degrade"]


def degrade_lowres(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` (``(H, W, C)`` or ``(N, H, W, C)`` uint8) downscaled by ``factor`` and upscaled back."""
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


def parse_degrade(spec: str | None) -> Callable[[np.ndarray], np.ndarray] | None:
    """The degradation named by ``spec`` (``lowres:K`` with K > 1), or ``None`` for ``None``/``none``."""
    if spec is None or spec == "none":
        return None
    kind, _, argument = spec.partition(":")
    if kind != "lowres":
        raise ValueError(f"Expected argument `degrade` to be 'lowres:K' or 'none', but got {spec!r}")
    try:
        factor = float(argument)
    except ValueError:
        raise ValueError(
            f"`degrade` {spec!r}: the factor after 'lowres:' must be a number, e.g. lowres:4"
        ) from None
    if factor <= 1.0:
        raise ValueError(f"`degrade` {spec!r}: the factor must be greater than 1")
    return lambda image: degrade_lowres(image, factor)
