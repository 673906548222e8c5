"""Recognizer registry: a decorator to register, one factory to build, listing with glob filters."""

from __future__ import annotations

import fnmatch
import warnings
from typing import Any, TypeVar

from facebench.errors import UnknownNameError
from facebench.recognizers.base import Recognizer
from facebench.zoo.registry import suggest

__all__ = ["create", "list_recognizers", "recognizer_class", "register_recognizer"]

_RECOGNIZERS: dict[str, type[Recognizer]] = {}
RecognizerT = TypeVar("RecognizerT", bound=type[Recognizer])


def register_recognizer(cls: RecognizerT) -> RecognizerT:
    if cls.name in _RECOGNIZERS:
        warnings.warn(f"recognizer {cls.name!r} registered twice; the later one wins", stacklevel=2)
    _RECOGNIZERS[cls.name] = cls
    return cls


def list_recognizers(pattern: str = "*") -> list[str]:
    return sorted(name for name in _RECOGNIZERS if fnmatch.fnmatch(name, pattern))


def recognizer_class(name: str) -> type[Recognizer]:
    try:
        return _RECOGNIZERS[name]
    except KeyError:
        known = list_recognizers()
        raise UnknownNameError(
            f"Expected argument `recognizer` to be one of {', '.join(known)}, but got {name!r}.{suggest(name, known)}"
        ) from None


def create(name: str, **options: Any) -> Recognizer:
    """Build the recognizer registered as ``name`` (see `Recognizer` for the options)."""
    return recognizer_class(name)(**options)
