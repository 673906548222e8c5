"""YOLO face detectors with 5 keypoints (YOLOv5-face raw heads, YOLOv8-face DFL heads), decoded here."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.activation import sigmoid
from facebench.ops.blob import to_blob
from facebench.ops.nms import nms
from facebench.ops.resize import model_input_shape, resize_for_model
from facebench.ops.runtime import onnx_session
from facebench.types import NUM_LANDMARKS, Faces
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import github_raw

__all__ = ["YoloV5Face", "YoloV8LiteFace"]


class _OnnxYolo(Detector):
    def _load(self) -> None:
        self.session = onnx_session(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input_name = self.session.get_inputs()[0].name

    def cost_graph(self, width: int, height: int) -> tuple[str, Any, tuple[int, ...]]:
        w, h = model_input_shape(width, height, self.input_size)
        return "onnx", self.store.resolve(self.card, path=self.weights), (1, 3, h, w)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        resized = resize_for_model(image, self.input_size, center=True, pad_value=self.letterbox_pad)
        outputs = self.session.run(None, {self.input_name: to_blob(resized.image, self.card.preprocess)})
        boxes, scores, landmarks = self._decode(outputs)
        if len(boxes) == 0:
            return Faces.empty(self.name)
        keep = nms(boxes, scores, self.nms_iou)
        return resized.faces_to_original(boxes[keep], scores[keep], landmarks[keep], self.name)

    def _decode(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


YOLOV5N_FACE_CARD = WeightCard(
    name="yolov5n_face",
    task=Task.DETECTOR,
    directory="yolov5_face_n0.5",
    files=(
        WeightFile(
            "yolov5n-0.5.onnx",
            "7da50650e16167e93acf24caf01f15f2922ecf168c884f2825a3c95479f8687d",
            github_raw(
                "dominhhieu1019/yolov5-face",
                "29a8e9d80252594c623a54b1e3d492e2e9e9570d",
                "weights/yolov5n-0.5.onnx",
            ),
            size=1809111,
        ),
    ),
    license="GPL-3.0 (deepcam-cn/yolov5-face)",
    source="dominhhieu1019/yolov5-face@29a8e9d:weights/yolov5n-0.5.onnx",
    paper="Qi et al., YOLO5Face: Why Reinventing a Face Detector, ECCV-W 2022",
    preprocess=Preprocess(
        input_size=(640, 640), size_policy="letterbox_center", color=ColorOrder.RGB, std=(255.0,) * 3
    ),
    notes="Raw heads [1,3,H,W,16]; anchors P3 [4,5,8,10,13,16], P4 [23,29,43,55,73,105], P5 [146,217,231,300,335,433].",
    detector_defaults=DetectorDefaults(
        score_threshold=0.5,
        nms_iou=0.5,
        input_size="fixed=640x640",
        fixed_input=True,
        why="yolov5-face's detect defaults; the exported graph is fixed at 640×640.",
    ),
)


YOLOV8LITE_T_FACE_CARD = WeightCard(
    name="yolov8lite_t_face",
    task=Task.DETECTOR,
    directory="yolov8_face_lite_t",
    files=(
        WeightFile(
            "yolov8-lite-t.onnx",
            "caa9eb121eee8fbf25a5985d3cee4e314df5a08feb4bb8c224fecdeb4afd9b86",
            github_raw(
                "hpc203/yolov8-face-landmarks-opencv-dnn",
                "1f91851f7d8d9475e5b4f0c1d6e5e385aa9bf0f4",
                "weights/yolov8-lite-t.onnx",
            ),
            size=2424912,
        ),
    ),
    license="AGPL-3.0 (derronqi/yolov8-face, an Ultralytics derivative)",
    source="hpc203/yolov8-face-landmarks-opencv-dnn@1f91851:weights/yolov8-lite-t.onnx",
    preprocess=Preprocess(
        input_size=(640, 640), size_policy="letterbox_center", color=ColorOrder.RGB, std=(255.0,) * 3
    ),
    notes="3 maps [1,80,H,W]: 64 DFL + 1 cls logit + 15 kps (x,y,vis).",
    detector_defaults=DetectorDefaults(
        score_threshold=0.45,
        nms_iou=0.5,
        input_size="fixed=640x640",
        fixed_input=True,
        why="The YOLOv8-face demo's thresholds; the exported graph is fixed at 640×640.",
    ),
)


@register_detector(card=YOLOV5N_FACE_CARD)
class YoloV5Face(_OnnxYolo):
    """YOLOv5n-0.5-face: three raw heads ``[1, 3, H, W, 16]`` (box, objectness, 10 landmark values, class)."""

    name: ClassVar[str] = "yolov5n_face"
    letterbox_pad: ClassVar[float] = 114.0  # yolov5's letterbox grey
    strides: ClassVar[tuple[int, ...]] = (8, 16, 32)
    anchors: ClassVar[tuple[tuple[float, ...], ...]] = (
        (4, 5, 8, 10, 13, 16),
        (23, 29, 43, 55, 73, 105),
        (146, 217, 231, 300, 335, 433),
    )

    def _decode(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes, scores, landmarks = [], [], []
        for head, stride, anchor_sizes in zip(outputs, self.strides, self.anchors, strict=True):
            _, num_anchors, _rows, _cols, _ = head.shape
            score = sigmoid(head[..., 4]) * sigmoid(head[..., 15])
            anchor_idx, row, col = np.nonzero(score[0] >= self.score_threshold)
            if anchor_idx.size == 0:
                continue
            raw = head[0, anchor_idx, row, col]
            anchor_wh = np.asarray(anchor_sizes, np.float32).reshape(num_anchors, 2)[anchor_idx]
            grid = np.stack([col, row], axis=1).astype(np.float32)
            centre = (sigmoid(raw[:, 0:2]) * 2.0 - 0.5 + grid) * stride
            size = (sigmoid(raw[:, 2:4]) * 2.0) ** 2 * anchor_wh
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2], axis=1))
            points = (
                raw[:, 5:15].reshape(-1, NUM_LANDMARKS, 2) * anchor_wh[:, None, :] + grid[:, None, :] * stride
            )
            landmarks.append(points)
            scores.append(score[0, anchor_idx, row, col])
        if not boxes:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, NUM_LANDMARKS, 2))
        return np.concatenate(boxes), np.concatenate(scores), np.concatenate(landmarks)


@register_detector(card=YOLOV8LITE_T_FACE_CARD)
class YoloV8LiteFace(_OnnxYolo):
    """YOLOv8-lite-t face: maps ``[1, 80, H, W]`` = 64 DFL bins, 1 class logit, 5×(x, y, visibility)."""

    name: ClassVar[str] = "yolov8lite_t_face"
    strides: ClassVar[tuple[int, ...]] = (8, 16, 32)
    bins: ClassVar[int] = 16

    def _decode(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes, scores, landmarks = [], [], []
        for head, stride in zip(outputs, self.strides, strict=True):
            _, channels, _rows, cols = head.shape
            flat = head[0].reshape(channels, -1).T  # (rows*cols, 80)
            score = sigmoid(flat[:, 4 * self.bins])
            keep = np.flatnonzero(score >= self.score_threshold)
            if keep.size == 0:
                continue
            cells = flat[keep]
            logits = cells[:, : 4 * self.bins].reshape(-1, 4, self.bins)
            logits = np.exp(logits - logits.max(axis=2, keepdims=True))
            distances = (logits / logits.sum(axis=2, keepdims=True)) @ np.arange(self.bins, dtype=np.float32)
            grid = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
            centre = grid + 0.5
            boxes.append(
                np.concatenate([centre - distances[:, :2], centre + distances[:, 2:]], axis=1) * stride
            )
            kps = cells[:, 4 * self.bins + 1 :].reshape(-1, NUM_LANDMARKS, 3)
            landmarks.append((kps[..., :2] * 2.0 + grid[:, None, :]) * stride)
            scores.append(score[keep])
        if not boxes:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, NUM_LANDMARKS, 2))
        return np.concatenate(boxes), np.concatenate(scores), np.concatenate(landmarks)
