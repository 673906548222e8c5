"""MediaPipe selfie segmentation (general model, 256×256): the probability that a pixel is a person."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facebench.segment.base import Segmenter, register_segmenter
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import MEDIAPIPE, github_raw

__all__ = ["SELFIE_SEGMENTATION_CARD", "SelfieSegmentation"]

SELFIE_SEGMENTATION_CARD = WeightCard(
    name="selfie_segmentation",
    task=Task.SEGMENTER,
    directory="mediapipe_selfie_segmentation",
    files=(
        WeightFile(
            "selfie_segmentation.tflite",
            "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27",
            github_raw(*MEDIAPIPE, "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"),
            size=249024,
        ),
    ),
    license="Apache-2.0 (Google MediaPipe)",
    source="google-ai-edge/mediapipe@63e679d:mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
    paper="Bazarevsky & Grishchenko, Background Features in Google Meet, Google AI Blog, 2020",
    preprocess=Preprocess(
        input_size=(256, 256), size_policy="stretch", color=ColorOrder.RGB, std=(255.0,) * 3, layout="nhwc"
    ),
    notes="[1,256,256,1] person probability (the graph ends in a sigmoid).",
)


@register_segmenter(card=SELFIE_SEGMENTATION_CARD)
class SelfieSegmentation(Segmenter):
    name: ClassVar[str] = "selfie_segmentation"

    def _probability(self, output: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(output[..., 0], dtype=np.float32)
