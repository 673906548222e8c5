"""MediaPipe hair segmentation (512×512): the probability that a pixel is hair.

The model is a video model: its fourth input channel is the previous frame's hair mask. For a
still image that channel is zero, as MediaPipe's own graph feeds the first frame.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facebench.segment.base import Segmenter, register_segmenter
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import MEDIAPIPE, github_raw

__all__ = ["HAIR_SEGMENTATION_CARD", "HairSegmentation"]

HAIR_SEGMENTATION_CARD = WeightCard(
    name="hair_segmentation",
    task=Task.SEGMENTER,
    directory="mediapipe_hair_segmentation",
    files=(
        WeightFile(
            "hair_segmentation.tflite",
            "d2c940c4fd80edeaf38f5d7387d1b4235ee320ed120080df67c663e749e77633",
            github_raw(*MEDIAPIPE, "mediapipe/models/hair_segmentation.tflite"),
            size=780588,
        ),
    ),
    license="Apache-2.0 (Google MediaPipe)",
    source="google-ai-edge/mediapipe@63e679d:mediapipe/models/hair_segmentation.tflite",
    paper="Tkachenka et al., Real-time Hair Segmentation and Recoloring on Mobile GPUs, 2019",
    preprocess=Preprocess(
        input_size=(512, 512), size_policy="stretch", color=ColorOrder.RGB, std=(255.0,) * 3, layout="nhwc"
    ),
    notes="Input [1,512,512,4]: RGB in [0,1] plus the previous frame's mask (zeros for a still image); "
    "output [1,512,512,2] logits, softmax channel 1 = hair.",
)


@register_segmenter(card=HAIR_SEGMENTATION_CARD)
class HairSegmentation(Segmenter):
    name: ClassVar[str] = "hair_segmentation"

    def _input(self, rgb: np.ndarray) -> np.ndarray:
        colour = super()._input(rgb)
        previous_mask = np.zeros((*colour.shape[:3], 1), np.float32)  # a still image: no previous frame
        return np.concatenate([colour, previous_mask], axis=3)

    def _probability(self, output: np.ndarray) -> np.ndarray:
        # softmax over the two logits, channel 1 = hair: a sigmoid of their difference
        difference = output[..., 1].astype(np.float32) - output[..., 0].astype(np.float32)
        return (1.0 / (1.0 + np.exp(-np.clip(difference, -60.0, 60.0)))).astype(np.float32)
