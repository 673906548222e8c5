"""Face detectors behind one API: `create(name, **options)` and `detect(image, detector=...)`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from facebench.detectors.base import Detector as Detector
from facebench.detectors.refiners import Refiner as Refiner
from facebench.detectors.refiners import create_refiner as create_refiner
from facebench.detectors.refiners import list_refiners as list_refiners
from facebench.detectors.registry import DEFAULT_DETECTOR as DEFAULT_DETECTOR
from facebench.detectors.registry import create as create
from facebench.detectors.registry import detector_class as detector_class
from facebench.detectors.registry import list_detectors as list_detectors
from facebench.detectors.registry import register_detector as register_detector
from facebench.image import ImageInput
from facebench.types import Face

__all__ = [
    "DEFAULT_DETECTOR",
    "Detector",
    "clear_cache",
    "create",
    "detect",
    "detector_class",
    "list_detectors",
    "register_detector",
]


@lru_cache(maxsize=8)
def _cached(name: str, options: tuple[tuple[str, Any], ...]) -> Detector:
    return create(name, **dict(options))


def clear_cache() -> None:
    """Drop the detectors `detect` keeps alive between calls."""
    _cached.cache_clear()


def detect(image: ImageInput, detector: str = DEFAULT_DETECTOR, **options: Any) -> list[Face]:
    """Detect faces in one image, best score first.

    The detector object (and its inference session) is kept for later calls with the same name
    and options; build one with `create` to control its lifetime yourself.

    Example:
        >>> faces = detect("group.jpg", detector="yunet", score_threshold=0.7)  # doctest: +SKIP
    """
    return _cached(detector, tuple(sorted(options.items()))).detect(image)
