"""A generic name → class registry with one factory, glob listing and close-name suggestions."""

from __future__ import annotations

import fnmatch
import warnings
from typing import Any, Generic, TypeVar

from facebench.errors import UnknownNameError
from facebench.zoo.registry import suggest

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Classes registered under their ``name`` class attribute.

    Args:
        argument: the user-facing argument name, for error messages (``detector``, ``recognizer``).
    """

    def __init__(self, argument: str) -> None:
        self.argument = argument
        self._classes: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Class decorator: make ``cls`` buildable as ``create(cls.name)``."""
        name = cls.name  # type: ignore[attr-defined]
        if name in self._classes:
            warnings.warn(f"{self.argument} {name!r} registered twice; the later one wins", stacklevel=2)
        self._classes[name] = cls
        return cls

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the glob ``pattern``, sorted."""
        return sorted(name for name in self._classes if fnmatch.fnmatch(name, pattern))

    def get(self, name: str) -> type[T]:
        try:
            return self._classes[name]
        except KeyError:
            known = self.names()
            raise UnknownNameError(
                f"Expected argument `{self.argument}` to be one of {', '.join(known)}, but got {name!r}."
                f"{suggest(name, known)}"
            ) from None

    def create(self, name: str, **options: Any) -> T:
        return self.get(name)(**options)
