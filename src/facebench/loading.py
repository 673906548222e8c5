"""Models that read their weights on first use, so a description of one costs nothing."""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar, Self

__all__ = ["LoadsOnFirstUse", "WeightCardModel", "loaded"]

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


class WeightCardModel(LoadsOnFirstUse):
    """A registered model with a weight card: the constructor checks the optional modules it
    ``requires`` and keeps where its weights are found; `load` reads them (refiners, segmenters)."""

    name: ClassVar[str]
    card_name: ClassVar[str]
    #: optional modules this model cannot run without (``torch``, ``ai_edge_litert``, ``dlib``):
    #: checked first, so a missing extra fails with one line naming ``pip install "facebench[…]"``
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        threads: int | None = None,
        store: Any = None,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        from facebench.extras import require_all
        from facebench.zoo import default_store

        require_all(self.requires, self.name)
        self.threads = threads
        self.store = store or default_store()
        self.weights = weights

    @property
    def card(self) -> Any:
        """The model's `WeightCard` (the only home of its files and preprocessing contract)."""
        from facebench.zoo import get_card

        return get_card(self.card_name)
