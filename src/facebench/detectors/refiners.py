"""Landmark refiners: replace a detector's 5 points (or supply them) from a dedicated landmark model."""

from __future__ import annotations

import fnmatch
import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

import numpy as np

from facebench.errors import UnknownNameError
from facebench.types import Faces
from facebench.zoo import ModelStore, WeightCard, default_store, get_card
from facebench.zoo.registry import suggest

__all__ = ["Refiner", "create_refiner", "list_refiners", "register_refiner"]


class Refiner(ABC):
    """Recomputes the 5 landmarks of already-detected faces, keeping their boxes and scores."""

    name: ClassVar[str]
    card_name: ClassVar[str]

    def __init__(
        self,
        *,
        threads: int | None = None,
        store: ModelStore | None = None,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
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


_REFINERS: dict[str, type[Refiner]] = {}
RefinerT = TypeVar("RefinerT", bound=type[Refiner])


def register_refiner(cls: RefinerT) -> RefinerT:
    _REFINERS[cls.name] = cls
    return cls


def list_refiners(pattern: str = "*") -> list[str]:
    return sorted(name for name in _REFINERS if fnmatch.fnmatch(name, pattern))


def create_refiner(name: str, **options: Any) -> Refiner:
    try:
        cls = _REFINERS[name]
    except KeyError:
        known = list_refiners()
        raise UnknownNameError(
            f"Expected argument `refine` to be one of {', '.join(known)}, but got {name!r}.{suggest(name, known)}"
        ) from None
    return cls(**options)
