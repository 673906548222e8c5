"""Recognizer registry: `register_recognizer` on the class, `create(name, **options)` to build."""

from __future__ import annotations

from typing import Any

from facebench.defaults import DEFAULT_RECOGNIZER
from facebench.recognizers.base import Recognizer
from facebench.registry import Registry

__all__ = ["DEFAULT_RECOGNIZER", "create", "list_recognizers", "recognizer_class", "register_recognizer"]

RECOGNIZERS: Registry[Recognizer] = Registry("recognizer")
register_recognizer = RECOGNIZERS.register
list_recognizers = RECOGNIZERS.names
recognizer_class = RECOGNIZERS.get


def create(name: str, **options: Any) -> Recognizer:
    """Build the recognizer registered as ``name`` (see `Recognizer` for the options)."""
    return RECOGNIZERS.create(name, **options)
