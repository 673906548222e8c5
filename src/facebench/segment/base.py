"""Segmenters: per-pixel probability maps from a LiteRT model, run on a crop of the image."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import cv2
import numpy as np

from facebench.loading import WeightCardModel
from facebench.ops.blob import to_blob
from facebench.ops.runtime import litert_interpreter
from facebench.registry import Registry

__all__ = ["Segmenter", "create_segmenter", "list_segmenters", "register_segmenter"]


class Segmenter(WeightCardModel):
    """A LiteRT segmentation model: `probabilities` of an RGB uint8 image, at the image's size.

    The input size, colour order and scaling come from the weight card; the image is stretched to
    the input (the card's ``size_policy="stretch"``, as MediaPipe feeds these models) and the map is
    resized back bilinearly.
    """

    requires: ClassVar[tuple[str, ...]] = ("ai_edge_litert",)

    @property
    def input_size(self) -> tuple[int, int]:
        size = self.card.preprocess.input_size
        assert size is not None, f"the card of {self.name} states no input size"
        return size

    def _load(self) -> None:
        self.interpreter = litert_interpreter(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        self.output_index = self.interpreter.get_output_details()[0]["index"]

    def _input(self, rgb: np.ndarray) -> np.ndarray:
        """The ``(1, H, W, C)`` float input for RGB uint8 ``rgb`` (already at the input size)."""
        return to_blob(rgb, self.card.preprocess)

    @abstractmethod
    def _probability(self, output: np.ndarray) -> np.ndarray:
        """The ``(H, W)`` float32 probability of the class of interest from the raw output."""

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """``(H, W)`` float32 probability in ``[0, 1]`` for RGB uint8 ``rgb`` of any size."""
        self.load()
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or 0 in rgb.shape[:2]:
            raise ValueError(f"{self.name} needs a non-empty (H, W, 3) uint8 RGB image, got {rgb.shape}")
        width, height = self.input_size
        resized = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
        self.interpreter.set_tensor(self.input_index, self._input(resized))
        self.interpreter.invoke()
        probability = self._probability(self.interpreter.get_tensor(self.output_index)[0])
        back = cv2.resize(probability, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.clip(back, 0.0, 1.0)

    @property
    def config(self) -> dict[str, Any]:
        return {"segmenter": self.name, "weights_sha256": [f.sha256 for f in self.card.files]}


SEGMENTERS: Registry[Segmenter] = Registry("segmenter")
register_segmenter = SEGMENTERS.register
list_segmenters = SEGMENTERS.names


def create_segmenter(name: str, **options: Any) -> Segmenter:
    return SEGMENTERS.create(name, **options)
