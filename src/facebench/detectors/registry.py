"""Detector registry: a decorator to register, one factory to build, listing with glob filters."""

from __future__ import annotations

import fnmatch
import warnings
from typing import Any, TypeVar

from facebench.detectors.base import Detector
from facebench.errors import UnknownNameError
from facebench.zoo.registry import suggest

__all__ = ["create", "detector_class", "list_detectors", "register_detector"]

_DETECTORS: dict[str, type[Detector]] = {}
DetectorT = TypeVar("DetectorT", bound=type[Detector])


def register_detector(cls: DetectorT) -> DetectorT:
    """Class decorator: make ``cls`` available as ``create(cls.name)``."""
    if cls.name in _DETECTORS:
        warnings.warn(f"detector {cls.name!r} registered twice; the later one wins", stacklevel=2)
    _DETECTORS[cls.name] = cls
    return cls


def list_detectors(pattern: str = "*") -> list[str]:
    """Registered detector names matching the glob ``pattern``, sorted."""
    return sorted(name for name in _DETECTORS if fnmatch.fnmatch(name, pattern))


def detector_class(name: str) -> type[Detector]:
    try:
        return _DETECTORS[name]
    except KeyError:
        known = list_detectors()
        raise UnknownNameError(
            f"Expected argument `detector` to be one of {', '.join(known)}, but got {name!r}.{suggest(name, known)}"
        ) from None


def create(name: str, **options: Any) -> Detector:
    """Build the detector registered as ``name`` with ``options`` (see `Detector`).

    Example:
        >>> detector = create("yunet", score_threshold=0.7)  # doctest: +SKIP
        >>> faces = detector.detect("photo.jpg")  # doctest: +SKIP
    """
    return detector_class(name)(**options)
