"""Landmark refiners: replace a detector's 5 points (or supply them) from a dedicated landmark model."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from facebench.extras import require_all
from facebench.registry import Registry
from facebench.types import Faces
from facebench.zoo import ModelStore, WeightCard, default_store, get_card

__all__ = ["Refiner", "create_refiner", "list_refiners", "register_refiner"]


class Refiner(ABC):
    """Recomputes the 5 landmarks of already-detected faces, keeping their boxes and scores."""

    name: ClassVar[str]
    card_name: ClassVar[str]
    #: optional modules this model cannot run without (``torch``, ``ai_edge_litert``, ``dlib``):
    #: checked first, so a missing extra fails with one line naming ``pip install "facebench[…]"``
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        threads: int | None = None,
        store: ModelStore | None = None,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        require_all(self.requires, self.name)
        self.threads = threads
        self.store = store or default_store()
        self.weights = weights

    @property
    def card(self) -> WeightCard:
        return get_card(self.card_name)

    @abstractmethod
    def _landmarks(
        self, image: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """New ``(N, 5, 2)`` points for ``boxes`` in RGB ``image``, and dense points or ``None``."""

    def refine(self, image: np.ndarray, faces: Faces) -> Faces:
        """``faces`` with landmarks from this refiner (boxes and scores unchanged)."""
        if faces.is_empty:
            return faces
        points, dense = self._landmarks(image, faces.boxes, faces.landmarks)
        return Faces(faces.boxes, faces.scores, points, f"{faces.detector}+{self.name}", dense)


REFINERS: Registry[Refiner] = Registry("refine")
register_refiner = REFINERS.register
list_refiners = REFINERS.names


def create_refiner(name: str, **options: Any) -> Refiner:
    return REFINERS.create(name, **options)
