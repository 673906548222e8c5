"""A generic name → class registry with one factory, glob listing and close-name suggestions."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from facebench import plugins
from facebench.errors import UnknownNameError
from facebench.zoo.cards import WeightCard
from facebench.zoo.registry import register_card, suggest

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
        self._resolvers: dict[str, Any] = {}

    @overload
    def register(self, cls: type[T], *, card: WeightCard | None = None) -> type[T]: ...
    @overload
    def register(
        self, cls: None = None, *, card: WeightCard | None = None
    ) -> Callable[[type[T]], type[T]]: ...

    def register(
        self, cls: type[T] | None = None, *, card: WeightCard | None = None
    ) -> type[T] | Callable[[type[T]], type[T]]:
        """Class decorator: make ``cls`` buildable as ``create(cls.name)``.

        ``@register(card=CARD)`` also registers the weight card declared beside the class and
        points the class at it (``card_name``): the card is then the only home of the model's
        files, preprocessing contract and defaults. Several classes may share one card (the
        engines of one model).
        """

        def decorate(cls: type[T]) -> type[T]:
            if card is not None:
                register_card(card)
                cls.card_name = card.name  # type: ignore[attr-defined]
            self.add(cls.name, cls)  # type: ignore[attr-defined]
            return cls

        return decorate(cls) if cls is not None else decorate

    def add(self, name: str, item: type[T]) -> None:
        """Register ``item`` (a class, or any factory or spec) under ``name``."""
        if name in self._classes:
            warnings.warn(f"{self.argument} {name!r} registered twice; the later one wins", stacklevel=3)
        self._classes[name] = item

    def add_resolver(self, prefix: str, factory: Any) -> None:
        """Build names of the form ``prefix:argument`` with ``factory(argument, **options)``.

        This is how a trained checkpoint (``ckpt:runs/x/best.pt``) is used wherever a name is.
        """
        self._resolvers[prefix] = factory

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the glob ``pattern``, sorted (built-ins and plugins)."""
        plugins.discover()
        return sorted(name for name in self._classes if fnmatch.fnmatch(name, pattern))

    def get(self, name: str) -> type[T]:
        plugins.discover()
        try:
            return self._classes[name]
        except KeyError:
            known = self.names()
            raise UnknownNameError(
                f"Expected argument `{self.argument}` to be one of {', '.join(known)}"
                + "".join(f", or {prefix}:<path>" for prefix in self._resolvers)
                + f", but got {name!r}.{suggest(name, known)}"
            ) from None

    def check(self, name: str) -> None:
        """Raise `UnknownNameError` now, before any work, when ``name`` cannot be built.

        A resolver name (``ckpt:<path>``) is checked for the file's existence only; its sha256
        and contents are checked when it is built.
        """
        plugins.discover()  # resolvers (ckpt:, onnx:) are registered by model modules
        prefix, colon, argument = name.partition(":")
        if colon and prefix in self._resolvers:
            if not Path(argument).expanduser().is_file():
                raise UnknownNameError(f"`{self.argument}` {name!r}: no checkpoint file at {argument}")
            return
        self.get(name)

    def create(self, name: str, **options: Any) -> T:
        """The model ``name`` built with ``options``, its weights read (a bad file fails here)."""
        from facebench.loading import loaded

        return loaded(self.describe(name, **options))

    def describe(self, name: str, **options: Any) -> T:
        """The model ``name`` with ``options`` resolved but its weights not yet read: its card,
        options and ``config`` without the cost of loading (it loads on first use)."""
        plugins.discover()
        prefix, colon, argument = name.partition(":")
        if colon and prefix in self._resolvers:
            return self._resolvers[prefix](argument, **options)
        return self.get(name)(**options)
