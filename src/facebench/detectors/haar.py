"""OpenCV's Viola-Jones Haar cascade (the frontal-face default cascade bundled with OpenCV).

A baseline: boxes only, no landmarks. The score is the sigmoid of the cascade's final-stage
weight (``detectMultiScale3`` with ``outputRejectLevels``), so ranking by score is meaningful.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.activation import sigmoid
from facebench.ops.resize import resize_for_model
from facebench.types import Faces
from facebench.zoo.cards import (
    ColorOrder,
    DetectorDefaults,
    PackageFiles,
    Preprocess,
    Task,
    WeightCard,
    WeightFile,
)
from facebench.zoo.sources import github_raw

__all__ = ["HaarCascade"]


HAAR_CARD = WeightCard(
    name="haar",
    task=Task.DETECTOR,
    directory="opencv_haar",
    files=(
        WeightFile(
            "haarcascade_frontalface_default.xml",
            "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
            github_raw("opencv/opencv", "4.x", "data/haarcascades/haarcascade_frontalface_default.xml"),
            size=930127,
        ),
    ),
    license="Intel License Agreement (BSD-style, bundled with OpenCV)",
    source="OpenCV's bundled cascade (cv2.data.haarcascades)",
    paper="Viola & Jones, Rapid Object Detection using a Boosted Cascade of Simple Features, CVPR 2001",
    preprocess=Preprocess(color=ColorOrder.RGB),
    package=PackageFiles("opencv-python-headless", "cv2", "data"),
    notes="Boxes only, no landmarks.",
    detector_defaults=DetectorDefaults(
        score_threshold=0.0,
        nms_iou=0.4,
        input_size="max_side=1280",
        why="A cascade has no calibrated score: every detection is kept.",
    ),
)


@register_detector(card=HAAR_CARD)
class HaarCascade(Detector):
    name: ClassVar[str] = "haar"
    gives_landmarks: ClassVar[bool] = False
    scale_factor: ClassVar[float] = 1.1
    min_neighbors: ClassVar[int] = 5

    def _load(self) -> None:
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
        xywh = np.asarray(rects, np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        scores = sigmoid(np.asarray(weights, np.float64).reshape(-1))
        return Faces(
            resized.boxes_to_original(boxes),
            scores.astype(np.float32),
            np.full((len(boxes), 5, 2), np.nan, np.float32),
            self.name,
        )
