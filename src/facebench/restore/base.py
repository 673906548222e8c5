"""Restorers: bring a degraded (small) aligned face back to a recognizer's input size.

A restorer upscales a batch of small RGB uint8 crops by its `scale`; `Restorer.restore` then
resizes the result bicubically to exactly the size asked for where the two differ (a 112-px crop
shrunk 3 times is 37 px, which a ×3 model makes 111). The plain interpolations (`bicubic`, the
baseline every super-resolution model must beat) need no weights.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import cv2
import numpy as np

from facebench.loading import WeightCardModel
from facebench.registry import Registry

__all__ = ["RESTORERS", "Restorer", "create_restorer", "list_restorers", "register_restorer"]


class Restorer(WeightCardModel):
    """Upscales small RGB uint8 faces ``scale`` times (``None``: straight to the size asked for).

    Each face is restored on its own: a face's restoration, and so its embedding, never depends
    on its batch-mates.
    """

    #: the upscaling factor the model was trained for; ``None`` for a plain interpolation
    scale: ClassVar[int | None] = None
    #: bumped when a change to the code changes its output (cached embeddings are then recomputed)
    code_version: ClassVar[int] = 1

    @property
    def config(self) -> dict[str, Any]:
        card_name = getattr(self, "card_name", None)
        return {
            "restorer": self.name,
            "weights_sha256": [f.sha256 for f in self.card.files] if card_name else [],
            "code_version": self.code_version,
        }

    @abstractmethod
    def _upscale(self, image: np.ndarray) -> np.ndarray:
        """One ``(h, w, 3)`` uint8 RGB image upscaled ``scale`` times, uint8 RGB."""

    def restore(self, images: np.ndarray | list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
        """``(N, H, W, 3)`` uint8 RGB at ``size = (W, H)`` from small ``(h, w, 3)`` uint8 RGB images."""
        self.load()
        width, height = size
        out = []
        for image in images:
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise ValueError(
                    f"{self.name} restores (h, w, 3) uint8 RGB images, got {image.shape} {image.dtype}"
                )
            up = self._upscale(np.ascontiguousarray(image)) if self.scale is not None else image
            if up.shape[:2] != (height, width):
                up = cv2.resize(up, (width, height), interpolation=cv2.INTER_CUBIC)
            out.append(up)
        return np.stack(out) if out else np.zeros((0, height, width, 3), np.uint8)


RESTORERS: Registry[Restorer] = Registry("restore")
register_restorer = RESTORERS.register
list_restorers = RESTORERS.names


def create_restorer(name: str, **options: Any) -> Restorer:
    """Build the restorer registered as ``name``, its weights read (a bad file fails here)."""
    return RESTORERS.create(name, **options)
