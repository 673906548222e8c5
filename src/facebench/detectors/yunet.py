"""YuNet (OpenCV zoo, 2023mar) through ONNX Runtime, with the decoding written here."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.blob import to_blob
from facebench.ops.nms import nms
from facebench.ops.resize import Resized, model_input_shape, resize_for_model
from facebench.ops.runtime import any_size_onnx_session
from facebench.types import NUM_LANDMARKS, Faces
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import ATEC, github_raw

__all__ = ["YuNet"]

_STRIDES = (8, 16, 32)


YUNET_CARD = WeightCard(
    name="yunet",
    task=Task.DETECTOR,
    directory="yunet",
    files=(
        WeightFile(
            "face_detection_yunet_2023mar.onnx",
            "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            github_raw(*ATEC, "face_alignment/models/face_detection_yunet_2023mar.onnx"),
            size=232589,
        ),
    ),
    license="MIT (opencv_zoo / libfacedetection.train)",
    source="opencv_zoo face_detection_yunet 2023mar (copy at iwantgobackhome/Atec_EdgeFace@a9ae3bc)",
    paper="Wu et al., YuNet: A Tiny Millisecond-level Face Detector, MIR 2023",
    # The ONNX graph declares a fixed 640x640 input, but the network is fully convolutional:
    # facebench frees its spatial dimensions and feeds each image at its own size (padded to
    # a multiple of 32), as OpenCV's FaceDetectorYN does.
    preprocess=Preprocess(color=ColorOrder.BGR),
    notes="Outputs cls/obj/bbox/kps for strides 8/16/32; score = sqrt(cls*obj).",
    detector_defaults=DetectorDefaults(
        score_threshold=0.6,
        nms_iou=0.3,
        input_size="max_side=1280",
        batch_size=8,
        why=(
            "Score and NMS are OpenCV's FaceDetectorYN defaults; images above 1280 px are shrunk. Runs "
            "of same-size images go 8 to a pass: each image's outputs are bit-identical to a pass of "
            "its own (tested), and faster (docs/BENCHMARKS.md, pipeline_overhead)."
        ),
    ),
)


@register_detector(card=YUNET_CARD)
class YuNet(Detector):
    """YuNet: a 75k-parameter anchor-free detector with 5 landmarks.

    The published graph declares a fixed 640×640 input; facebench frees its spatial dimensions
    (the network is fully convolutional) so the image is fed at its own size, padded to a multiple
    of 32 as OpenCV's `FaceDetectorYN` does. Landmarks come out in facebench's order already.
    """

    name: ClassVar[str] = "yunet"
    max_batch: ClassVar[int] = 64

    def _load(self) -> None:
        path = self.store.resolve(self.card, path=self.weights)
        self.session = any_size_onnx_session(path, self.threads, cache_dir=self.store.cache_dir)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def cost_graph(self, width: int, height: int) -> tuple[str, Any, tuple[int, ...]]:
        w, h = model_input_shape(width, height, self.input_size, stride=32)
        return "onnx", self.store.resolve(self.card, path=self.weights), (1, 3, h, w)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        return self._detect_rgb_batch([image])[0]

    def _detect_rgb_batch(self, images: list[np.ndarray]) -> list[Faces]:
        """Same-size images in one forward pass. The graph's reshapes bake in a batch of 1, so each
        output comes back as ``(1, B·N, C)``, image-major; each image's rows are bit-identical to
        a pass of its own (tests/test_cache.py)."""
        resized = [resize_for_model(image, self.input_size, stride=32) for image in images]
        blob = to_blob([r.image for r in resized], self.card.preprocess)
        raw = self.session.run(self.output_names, {self.input_name: blob})
        count = len(images)
        outputs = [
            {
                name: value.reshape(count, -1, value.shape[-1])[i]
                for name, value in zip(self.output_names, raw, strict=True)
            }
            for i in range(count)
        ]
        return [self._decode(out, r, blob.shape[3]) for out, r in zip(outputs, resized, strict=True)]

    def _decode(self, outputs: dict[str, np.ndarray], resized: Resized, width: int) -> Faces:
        """One image's faces from its ``(N, C)`` outputs per stride."""
        boxes, scores, landmarks = [], [], []
        for stride in _STRIDES:
            cols = width // stride
            cls_score = np.clip(outputs[f"cls_{stride}"][:, 0], 0.0, 1.0)
            obj_score = np.clip(outputs[f"obj_{stride}"][:, 0], 0.0, 1.0)
            score = np.sqrt(cls_score * obj_score)
            keep = np.flatnonzero(score >= self.score_threshold)
            if keep.size == 0:
                continue
            col = (keep % cols).astype(np.float32)
            row = (keep // cols).astype(np.float32)
            bbox = outputs[f"bbox_{stride}"][keep]
            center_x = (col + bbox[:, 0]) * stride
            center_y = (row + bbox[:, 1]) * stride
            box_w = np.exp(bbox[:, 2]) * stride
            box_h = np.exp(bbox[:, 3]) * stride
            boxes.append(
                np.column_stack(
                    [center_x - box_w / 2, center_y - box_h / 2, center_x + box_w / 2, center_y + box_h / 2]
                )
            )
            kps = outputs[f"kps_{stride}"][keep].reshape(-1, NUM_LANDMARKS, 2)
            points = np.empty_like(kps)
            points[..., 0] = (kps[..., 0] + col[:, None]) * stride
            points[..., 1] = (kps[..., 1] + row[:, None]) * stride
            landmarks.append(points)
            scores.append(score[keep])
        if not boxes:
            return Faces.empty(self.name)
        all_boxes = np.concatenate(boxes)
        all_scores = np.concatenate(scores)
        keep = nms(all_boxes, all_scores, self.nms_iou, top_k=5000)
        return resized.faces_to_original(
            all_boxes[keep], all_scores[keep], np.concatenate(landmarks)[keep], self.name
        )
