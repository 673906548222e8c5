"""dlib's HOG and MMOD-CNN face detectors and its 5-point shape predictor (via `dlib-bin`).

dlib's detectors give boxes only; facebench adds the 5-point shape predictor by default. That
predictor marks the two corners of each eye and the base of the nose (not its tip): facebench
uses the eye-corner midpoints as eye centres, the nose base as the nose point, and estimates the
mouth corners from the eyes with ArcFace-template proportions (`facebench.ops.landmarks`).
Scores are dlib's raw detection scores passed through a sigmoid, so 0.5 is dlib's own threshold 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from facebench.detectors.base import Detector
from facebench.detectors.refiners import Refiner, register_refiner
from facebench.detectors.registry import register_detector
from facebench.extras import require
from facebench.ops.activation import sigmoid
from facebench.ops.landmarks import mouth_centre_from_eyes, mouth_corners_from_centre
from facebench.ops.nms import nms
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
from facebench.zoo.sources import DLIB_PACKAGE, github_raw

__all__ = ["DlibFivePoint", "DlibHog", "DlibMmod"]


def _dlib() -> Any:
    return require("dlib", "dlib models")


DLIB5_CARD = WeightCard(
    name="dlib5",
    task=Task.LANDMARKS,
    directory="dlib_shape_predictor_5",
    files=(
        WeightFile(
            "shape_predictor_5_face_landmarks.dat",
            "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
            "http://dlib.net/files/shape_predictor_5_face_landmarks.dat.bz2",
            size=9150489,
            archive="shape_predictor_5_face_landmarks.dat.bz2",
            archive_sha256="6e787bbebf5c9efdb793f6cd1f023230c4413306605f24f299f12869f95aa472",
        ),
    ),
    license="CC0-1.0 (dlib-models)",
    source="PyPI face_recognition_models 0.3.0 (dlib-models shape_predictor_5_face_landmarks)",
    preprocess=Preprocess(color=ColorOrder.RGB),
    package=DLIB_PACKAGE,
    notes="Points: outer/inner corner of each eye and the base of the nose.",
)


DLIB_HOG_CARD = WeightCard(
    name="dlib_hog",
    task=Task.DETECTOR,
    directory="dlib_hog",
    files=(),
    license="Boost Software License (dlib)",
    source="built into dlib (dlib.get_frontal_face_detector)",
    paper="Dalal & Triggs, Histograms of Oriented Gradients for Human Detection, CVPR 2005",
    preprocess=Preprocess(color=ColorOrder.RGB),
    package=PackageFiles("dlib-bin", "dlib"),
    notes="HOG + linear SVM; no landmarks of its own: facebench adds dlib's 5-point shape predictor.",
    detector_defaults=DetectorDefaults(
        score_threshold=0.5, nms_iou=0.4, input_size="max_side=1280", refine="dlib5"
    ),
)


DLIB_MMOD_CARD = WeightCard(
    name="dlib_mmod",
    task=Task.DETECTOR,
    directory="dlib_mmod_face",
    files=(
        WeightFile(
            "mmod_human_face_detector.dat",
            "be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a",
            github_raw(
                "davisking/dlib-models",
                "fd81b6308a6a73d4ce08859eb2f4b628a21e27a2",
                "mmod_human_face_detector.dat.bz2",
            ),
            size=729940,
            archive="mmod_human_face_detector.dat.bz2",
            archive_sha256="db9e9e40f092c118d5eb3e643935b216838170793559515541c56a2b50d9fc84",
            archive_size=694687,
        ),
    ),
    license="CC0-1.0 (davisking/dlib-models)",
    source="davisking/dlib-models@fd81b63:mmod_human_face_detector.dat.bz2",
    paper="King, Max-Margin Object Detection, arXiv 2015",
    preprocess=Preprocess(color=ColorOrder.RGB),
    notes="No landmarks of its own: facebench adds dlib's 5-point shape predictor.",
    detector_defaults=DetectorDefaults(
        score_threshold=0.5,
        nms_iou=0.4,
        input_size="max_side=1024",
        refine="dlib5",
        why="Images above 1024 px are shrunk: the CNN's memory grows with the pixel count.",
    ),
)


@register_refiner(card=DLIB5_CARD)
class DlibFivePoint(Refiner):
    """dlib's 5-point shape predictor: eye centres from corners, nose base, estimated mouth corners."""

    name: ClassVar[str] = "dlib5"
    requires: ClassVar[tuple[str, ...]] = ("dlib",)

    def _load(self) -> None:
        dlib = _dlib()
        self._rectangle = dlib.rectangle
        self.predictor = dlib.shape_predictor(str(self.store.resolve(self.card, path=self.weights)))

    def shapes(self, image: np.ndarray, boxes: np.ndarray) -> list[Any]:
        """dlib `full_object_detection`s for ``boxes`` (what dlib's face chips are cut from)."""
        self.load()
        return [self.predictor(image, self._rectangle(*(round(float(v)) for v in box))) for box in boxes]

    def _landmarks(
        self, image: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray
    ) -> tuple[np.ndarray, None]:
        parts = np.array(
            [[(p.x, p.y) for p in shape.parts()] for shape in self.shapes(image, boxes)], np.float32
        )
        # parts 0-1: corners of the eye on the image's right (the subject's left); 2-3: the other eye
        right_eye = parts[:, 2:4].mean(axis=1)
        left_eye = parts[:, 0:2].mean(axis=1)
        mouth = mouth_centre_from_eyes(right_eye, left_eye)
        corners = mouth_corners_from_centre(right_eye, left_eye, mouth)
        return np.concatenate([np.stack([right_eye, left_eye, parts[:, 4]], axis=1), corners], axis=1), None


class _DlibDetector(Detector):
    requires: ClassVar[tuple[str, ...]] = ("dlib",)

    #: how often dlib doubles the image before detecting (finds faces down to ~40 px at 1)
    upsample: ClassVar[int] = 0

    def _raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    #: dlib's CNN raises on images smaller than its filters; no face fits in one anyway
    smallest_input_side: ClassVar[int] = 40

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        if min(image.shape[:2]) < self.smallest_input_side:
            return Faces.empty(self.name)
        resized = resize_for_model(image, self.input_size)
        boxes, raw_scores = self._raw(np.ascontiguousarray(resized.image))
        scores = sigmoid(raw_scores).astype(np.float32)
        keep = scores >= self.score_threshold
        boxes, scores = boxes[keep], scores[keep]
        kept = nms(boxes, scores, self.nms_iou)
        boxes = resized.boxes_to_original(boxes[kept])
        return Faces(boxes, scores[kept], np.full((len(kept), 5, 2), np.nan, np.float32), self.name)


@register_detector(card=DLIB_HOG_CARD)
class DlibHog(_DlibDetector):
    """HOG features with a linear SVM (dlib's `get_frontal_face_detector`): frontal faces ≥ 80 px."""

    name: ClassVar[str] = "dlib_hog"

    def _load(self) -> None:
        self.detector = _dlib().get_frontal_face_detector()

    def _raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rects, scores, _ = self.detector.run(image, self.upsample, -1.0)
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects], np.float32)
        return boxes.reshape(-1, 4), np.asarray(scores, np.float32)


@register_detector(card=DLIB_MMOD_CARD)
class DlibMmod(_DlibDetector):
    """dlib's max-margin CNN face detector (`cnn_face_detection_model_v1`)."""

    name: ClassVar[str] = "dlib_mmod"

    def _load(self) -> None:
        self.detector = _dlib().cnn_face_detection_model_v1(
            str(self.store.resolve(self.card, path=self.weights))
        )

    def _raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = self.detector(image, self.upsample)
        boxes = np.array(
            [[d.rect.left(), d.rect.top(), d.rect.right() + 1, d.rect.bottom() + 1] for d in found],
            np.float32,
        )
        return boxes.reshape(-1, 4), np.array([d.confidence for d in found], np.float32)
