"""Landmark refiners: replace a detector's 5 points (or supply them) from a dedicated landmark model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from facebench.loading import WeightCardModel
from facebench.registry import Registry
from facebench.types import Faces

__all__ = ["Refiner", "create_refiner", "list_refiners", "register_refiner"]


class Refiner(WeightCardModel, ABC):
    """Recomputes the 5 landmarks of already-detected faces, keeping their boxes and scores.

    Weights are read on first use (`load`); a detector loads its refiner when it is loaded.
    """

    @abstractmethod
    def _landmarks(
        self, image: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """New ``(N, 5, 2)`` points for ``boxes`` in RGB ``image``, and dense points or ``None``."""

    def refine(self, image: np.ndarray, faces: Faces) -> Faces:
        """``faces`` with landmarks from this refiner (boxes and scores unchanged)."""
        if faces.is_empty:
            return faces
        self.load()
        points, dense = self._landmarks(image, faces.boxes, faces.landmarks)
        return Faces(faces.boxes, faces.scores, points, f"{faces.detector}+{self.name}", dense)


REFINERS: Registry[Refiner] = Registry("refine")
register_refiner = REFINERS.register
list_refiners = REFINERS.names


def create_refiner(name: str, **options: Any) -> Refiner:
    return REFINERS.create(name, **options)
