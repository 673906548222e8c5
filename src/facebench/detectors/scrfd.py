"""SCRFD (InsightFace) through ONNX Runtime: anchor-free boxes and 5 keypoints, decoded here."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.blob import to_blob
from facebench.ops.nms import nms
from facebench.ops.resize import model_input_shape, resize_for_model
from facebench.ops.runtime import onnx_session
from facebench.types import NUM_LANDMARKS, Faces
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import FACE_ANALYSIS_APP, INSIGHTFACE_NC, github_raw

__all__ = ["Scrfd2p5G", "Scrfd500M", "anchor_centers"]

_STRIDES = (8, 16, 32)
_ANCHORS_PER_CELL = 2


def anchor_centers(height: int, width: int, stride: int, per_cell: int) -> np.ndarray:
    """``(rows*cols*per_cell, 2)`` x,y pixel centres, row-major, each repeated ``per_cell`` times."""
    rows, cols = height // stride, width // stride
    grid_y, grid_x = np.mgrid[:rows, :cols]
    centres = np.stack([grid_x, grid_y], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centres, per_cell, axis=0)


class _Scrfd(Detector):
    """SCRFD: outputs per stride are scores, then box distances, then keypoint offsets (×stride)."""

    def _load(self) -> None:
        self.session = onnx_session(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input_name = self.session.get_inputs()[0].name
        self._centres: dict[tuple[int, int, int], np.ndarray] = {}

    def _centres_for(self, height: int, width: int, stride: int) -> np.ndarray:
        key = (height, width, stride)
        if key not in self._centres:
            self._centres[key] = anchor_centers(height, width, stride, _ANCHORS_PER_CELL)
        return self._centres[key]

    def cost_graph(self, width: int, height: int) -> tuple[str, Any, tuple[int, ...]]:
        w, h = model_input_shape(width, height, self.input_size, stride=32)
        return "onnx", self.store.resolve(self.card, path=self.weights), (1, 3, h, w)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        resized = resize_for_model(image, self.input_size, stride=32)
        blob = to_blob(resized.image, self.card.preprocess)
        outputs = self.session.run(None, {self.input_name: blob})
        height, width = blob.shape[2:]
        boxes, scores, landmarks = [], [], []
        for level, stride in enumerate(_STRIDES):
            score = outputs[level].reshape(-1)
            keep = np.flatnonzero(score >= self.score_threshold)
            if keep.size == 0:
                continue
            centres = self._centres_for(height, width, stride)[keep]
            distances = outputs[level + 3].reshape(-1, 4)[keep] * stride
            offsets = outputs[level + 6].reshape(-1, NUM_LANDMARKS, 2)[keep] * stride
            boxes.append(np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], axis=1))
            landmarks.append(centres[:, None, :] + offsets)
            scores.append(score[keep])
        if not boxes:
            return Faces.empty(self.name)
        all_boxes, all_scores = np.concatenate(boxes), np.concatenate(scores)
        keep = nms(all_boxes, all_scores, self.nms_iou)
        return resized.faces_to_original(
            all_boxes[keep], all_scores[keep], np.concatenate(landmarks)[keep], self.name
        )


def _scrfd_card(name: str, file: str, sha256: str, size: int, pack: str) -> WeightCard:
    """InsightFace's SCRFD detectors share everything but the file (the same decoding and contract)."""
    return WeightCard(
        name=name,
        task=Task.DETECTOR,
        directory=f"scrfd_det_{name.split('_', 1)[1]}",
        files=(WeightFile(file, sha256, github_raw(*FACE_ANALYSIS_APP, f"models/{file}"), size=size),),
        license=INSIGHTFACE_NC,
        source=f"InsightFace {pack}.onnx (copy at yukkki7/FaceAnalysisApp@d412657)",
        paper="Guo et al., Sample and Computation Redistribution for Efficient Face Detection, ICLR 2022",
        preprocess=Preprocess(
            input_size=(640, 640),
            size_policy="letterbox",
            color=ColorOrder.RGB,
            mean=(127.5,) * 3,
            std=(128.0,) * 3,
        ),
        notes="9 outputs: scores, bbox distances, kps for strides 8/16/32, 2 anchors per cell.",
        detector_defaults=DetectorDefaults(
            score_threshold=0.5,
            nms_iou=0.4,
            input_size="fixed=640x640",
            why="InsightFace's FaceAnalysis defaults (det_thresh 0.5, det_size 640).",
        ),
    )


SCRFD_500M_CARD = _scrfd_card(
    "scrfd_500m",
    "scrfd_500m.onnx",
    "5e4447f50245bbd7966bd6c0fa52938c61474a04ec7def48753668a9d8b4ea3a",
    2524817,
    "buffalo_sc det_500m",
)
SCRFD_2_5G_CARD = _scrfd_card(
    "scrfd_2.5g",
    "scrfd_2.5g.onnx",
    "041f73f47371333d1d17a6fee6c8ab4e6aecabefe398ff32cca4e2d5eaee0af9",
    3292009,
    "buffalo_m det_2.5g",
)


@register_detector(card=SCRFD_500M_CARD)
class Scrfd500M(_Scrfd):
    name: ClassVar[str] = "scrfd_500m"


@register_detector(card=SCRFD_2_5G_CARD)
class Scrfd2p5G(_Scrfd):
    name: ClassVar[str] = "scrfd_2.5g"
