"""Models that read their weights on first use, so a description of one costs nothing."""

from __future__ import annotations

import threading
from typing import Any, Self

__all__ = ["LoadsOnFirstUse", "loaded"]

#: one re-entrant lock for every load: loads are rare, and a model may build another (a refiner)
_LOADING = threading.RLock()


class LoadsOnFirstUse:
    """A model whose constructor only resolves options; `load` reads the weights, once.

    `Registry.create` calls `load`, so a bad file still fails at construction; planning, store
    lookups and scoring use `Registry.describe`, which does not, and every inference entry point
    calls `load` first.
    """

    _loaded: bool = False

    def load(self) -> Self:
        """Read the verified weights and build the inference engine (once; thread-safe)."""
        if not self._loaded:
            with _LOADING:
                if not self._loaded:
                    self._load()
                    self._loaded = True
        return self

    def _load(self) -> None:
        """Subclasses: read the weights and build the engine (every option is already set)."""


def loaded(model: Any) -> Any:
    """``model`` with its weights read; an object without `load` (an adopted stand-in) as it is."""
    load = getattr(model, "load", None)
    if load is not None:
        load()
    return model
