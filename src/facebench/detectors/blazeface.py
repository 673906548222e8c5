"""MediaPipe BlazeFace (short- and full-range) through LiteRT, with SSD anchors and decoding written here.

BlazeFace gives six keypoints: right eye, left eye, nose tip, mouth centre, right and left ear
tragion. It has no mouth corners, so facebench forms them from the mouth centre: each corner lies
0.414 × the eye-to-eye vector to either side of it, half the ratio of mouth width to eye distance
in the ArcFace 112×112 template (see `facebench.ops.landmarks`), so a frontal face maps onto that
template as if the corners had been detected. The ears are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.registry import register_detector
from facebench.ops.blob import to_blob
from facebench.ops.landmarks import mouth_corners_from_centre
from facebench.ops.nms import nms
from facebench.ops.resize import resize_for_model
from facebench.ops.runtime import litert_interpreter
from facebench.types import Faces
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import MEDIAPIPE, github_raw

__all__ = ["BlazeFaceFull", "BlazeFaceShort", "SsdAnchorSpec", "ssd_anchors"]


@dataclass(frozen=True, slots=True)
class SsdAnchorSpec:
    """MediaPipe's SsdAnchorsCalculator options for a fixed-size-anchor face detector (the input
    size is the card's)."""

    strides: tuple[int, ...]
    #: anchors per cell per layer: 2 with interpolated_scale_aspect_ratio=1, else 1
    anchors_per_layer: int


def ssd_anchors(spec: SsdAnchorSpec, input_size: int) -> np.ndarray:
    """``(N, 2)`` normalised anchor centres; consecutive layers with one stride share a grid."""
    centres = []
    layer = 0
    while layer < len(spec.strides):
        stride = spec.strides[layer]
        same = 1
        while layer + same < len(spec.strides) and spec.strides[layer + same] == stride:
            same += 1
        cells = -(-input_size // stride)
        grid_y, grid_x = np.mgrid[:cells, :cells]
        grid = np.stack([(grid_x + 0.5) / cells, (grid_y + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, same * spec.anchors_per_layer, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


def _five_points(keypoints: np.ndarray) -> np.ndarray:
    """Six BlazeFace keypoints ``(N, 6, 2)`` to facebench's five (mouth corners estimated)."""
    right_eye, left_eye, nose, mouth = keypoints[:, 0], keypoints[:, 1], keypoints[:, 2], keypoints[:, 3]
    corners = mouth_corners_from_centre(right_eye, left_eye, mouth)
    return np.concatenate([np.stack([right_eye, left_eye, nose], axis=1), corners], axis=1)


class _BlazeFace(Detector):
    requires: ClassVar[tuple[str, ...]] = ("ai_edge_litert",)
    anchor_spec: ClassVar[SsdAnchorSpec]
    letterbox_pad: ClassVar[float] = 127.5  # MediaPipe pads with mid-grey (0 after normalising)

    def _load(self) -> None:
        self.interpreter = litert_interpreter(self.store.resolve(self.card, path=self.weights), self.threads)
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: int(d["shape"][-1]))
        self.score_index, self.regressor_index = outputs[0]["index"], outputs[1]["index"]
        assert self.card.preprocess.input_size is not None, (
            f"{self.card_name}: the card states the input size"
        )
        self.side = self.card.preprocess.input_size[0]  # square: 128 (short range) or 192 (full range)
        self.anchors = ssd_anchors(self.anchor_spec, self.side)

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        resized = resize_for_model(image, self.input_size, center=True, pad_value=self.letterbox_pad)
        self.interpreter.set_tensor(self.input_index, to_blob(resized.image, self.card.preprocess))
        self.interpreter.invoke()
        logits = np.clip(
            self.interpreter.get_tensor(self.score_index)[0, :, 0].astype(np.float64), -100.0, 100.0
        )
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = np.flatnonzero(scores >= self.score_threshold)
        if keep.size == 0:
            return Faces.empty(self.name)
        raw = self.interpreter.get_tensor(self.regressor_index)[0, keep] / self.side
        anchors = self.anchors[keep]
        centre = raw[:, 0:2] + anchors
        half = raw[:, 2:4] / 2
        side = float(self.side)
        boxes = np.concatenate([centre - half, centre + half], axis=1) * side
        keypoints = (raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]) * side
        kept = nms(boxes, scores[keep], self.nms_iou)
        landmarks = _five_points(keypoints[kept])
        return resized.faces_to_original(boxes[kept], scores[keep][kept], landmarks, self.name)


def _blazeface_card(
    name: str, file: str, sha256: str, size: int, side: int, score: float, largest_face: float
) -> WeightCard:
    """MediaPipe's two BlazeFace graphs: one decoding, inputs of 128 (short range) or 192 px."""
    return WeightCard(
        name=name,
        task=Task.DETECTOR,
        directory="mediapipe_face_detection",
        files=(
            WeightFile(
                file, sha256, github_raw(*MEDIAPIPE, f"mediapipe/modules/face_detection/{file}"), size=size
            ),
        ),
        license="Apache-2.0 (Google MediaPipe)",
        source=f"google-ai-edge/mediapipe@63e679d:mediapipe/modules/face_detection/{file}",
        paper="Bazarevsky et al., BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs, 2019",
        preprocess=Preprocess(
            input_size=(side, side),
            size_policy="letterbox_center",
            color=ColorOrder.RGB,
            mean=(127.5,) * 3,
            std=(127.5,) * 3,
            layout="nhwc",
        ),
        notes="Keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear (no mouth corners).",
        detector_defaults=DetectorDefaults(
            score_threshold=score,
            nms_iou=0.3,
            input_size=f"fixed={side}x{side}",
            fixed_input=True,
            largest_face=largest_face,
            why="MediaPipe's face_detection graphs (min_score_thresh, min_suppression_threshold)."
            + (
                f" The full-range model was trained on faces far from the camera: a face filling the"
                f" frame is found when the image fills at most {largest_face:.0%} of its input"
                " (benchmarks/tight_crops.py)."
                if largest_face < 1
                else ""
            ),
        ),
    )


BLAZEFACE_SHORT_CARD = _blazeface_card(
    "blazeface_short",
    "face_detection_short_range.tflite",
    "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    229032,
    side=128,
    score=0.5,
    largest_face=1.0,
)
BLAZEFACE_FULL_CARD = _blazeface_card(
    "blazeface_full",
    "face_detection_full_range.tflite",
    "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    1083984,
    side=192,
    score=0.6,
    largest_face=0.4,
)


@register_detector(card=BLAZEFACE_SHORT_CARD)
class BlazeFaceShort(_BlazeFace):
    """Short-range BlazeFace (faces within ~2 m of a selfie camera), 128×128 input."""

    name: ClassVar[str] = "blazeface_short"
    anchor_spec: ClassVar[SsdAnchorSpec] = SsdAnchorSpec((8, 16, 16, 16), anchors_per_layer=2)


@register_detector(card=BLAZEFACE_FULL_CARD)
class BlazeFaceFull(_BlazeFace):
    """Full-range BlazeFace (faces up to ~5 m), 192×192 input, one anchor per stride-4 cell."""

    name: ClassVar[str] = "blazeface_full"
    anchor_spec: ClassVar[SsdAnchorSpec] = SsdAnchorSpec((4,), anchors_per_layer=1)
