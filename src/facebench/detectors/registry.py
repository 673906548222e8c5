"""Detector registry: `register_detector` on the class, `create(name, **options)` to build."""

from __future__ import annotations

from typing import Any

from facebench.defaults import DEFAULT_DETECTOR
from facebench.detectors.base import Detector
from facebench.registry import Registry

__all__ = ["DEFAULT_DETECTOR", "create", "detector_class", "list_detectors", "register_detector"]

DETECTORS: Registry[Detector] = Registry("detector")
register_detector = DETECTORS.register
list_detectors = DETECTORS.names
detector_class = DETECTORS.get


def create(name: str, **options: Any) -> Detector:
    """Build the detector registered as ``name`` with ``options`` (see `Detector`).

    Example:
        >>> detector = create("yunet", score_threshold=0.7)  # doctest: +SKIP
        >>> faces = detector.detect("photo.jpg")  # doctest: +SKIP
    """
    return DETECTORS.create(name, **options)
