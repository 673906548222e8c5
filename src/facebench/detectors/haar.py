"""OpenCV's Viola-Jones Haar cascade (the frontal-face default cascade bundled with OpenCV).

A baseline: boxes only, no landmarks. The score is the sigmoid of the cascade's final-stage
weight (``detectMultiScale3`` with ``outputRejectLevels``), so ranking by score is meaningful.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.resize import resize_for_model
from facebench.types import Faces

__all__ = ["HaarCascade"]


@register_detector
class HaarCascade(Detector):
    name: ClassVar[str] = "haar"
    card_name: ClassVar[str] = "haar"
    gives_landmarks: ClassVar[bool] = False
    scale_factor: ClassVar[float] = 1.1
    min_neighbors: ClassVar[int] = 5

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        path = self.store.resolve(self.card, path=self.weights)
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise ValueError(f"OpenCV could not parse the Haar cascade {path}")

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        resized = resize_for_model(image, self.input_size)
        gray = cv2.equalizeHist(cv2.cvtColor(resized.image, cv2.COLOR_RGB2GRAY))
        minimum = max(24, round(self.min_face_size * resized.scale))
        rects, _, weights = self.cascade.detectMultiScale3(
            gray, self.scale_factor, self.min_neighbors, minSize=(minimum, minimum), outputRejectLevels=True
        )
        if len(rects) == 0:
            return Faces.empty(self.name)
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, np.float64).reshape(-1)))
        return Faces(
            resized.boxes_to_original(boxes),
            scores.astype(np.float32),
            np.full((len(boxes), 5, 2), np.nan, np.float32),
            self.name,
        )
