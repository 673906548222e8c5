"""dlib's ResNet face descriptor (128-d), fed the way dlib defines it.

dlib aligns with its own 5-point shape predictor: `dlib.get_face_chips(image, shapes, size=150,
padding=0.25)` cuts a 150×150 chip from the eye-corner and nose-base points, and the network
embeds that chip. facebench runs the same predictor inside each detector's box, so this recognizer
ignores the detector's landmarks and the alignment method; only ``similarity`` (dlib's own chip)
is offered.

dlib compares raw descriptors by Euclidean distance (same person below 0.6). facebench returns
L2-normalised embeddings by default like every recognizer; ``normalize=False`` gives dlib's raw
descriptors, and `similarity` then uses dlib's metric. docs/RESULTS.md measures both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from facebench.align import AlignMethod
from facebench.detectors.dlib_models import DlibFivePoint
from facebench.recognizers.base import Recognizer
from facebench.recognizers.registry import register_recognizer
from facebench.types import Face, Faces

__all__ = ["DlibResNet"]

CHIP_SIZE = 150
CHIP_PADDING = 0.25


@register_recognizer
class DlibResNet(Recognizer):
    name: ClassVar[str] = "dlib_resnet"
    card_name: ClassVar[str] = "dlib_resnet"
    engines: ClassVar[tuple[str, ...]] = ("dlib",)
    native_metric: ClassVar[str] = "euclidean"
    align_methods: ClassVar[tuple[str, ...]] = ("similarity",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        import dlib

        self._dlib = dlib
        self.model = dlib.face_recognition_model_v1(str(self.store.resolve(self.card, path=self.weights)))
        self.predictor = DlibFivePoint(store=self.store)

    @property
    def template(self) -> Any:
        from facebench.align import Template

        return Template("dlib_150", CHIP_SIZE, CHIP_SIZE, ())

    def align(
        self, image: np.ndarray, faces: Sequence[Face] | Faces, method: AlignMethod = "similarity"
    ) -> np.ndarray:
        self._check_method(method)
        faces = list(faces)
        if not faces:
            return np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        shapes = self._dlib.full_object_detections()
        shapes.extend(self.predictor.shapes(image, np.stack([face.box for face in faces])))
        chips = self._dlib.get_face_chips(
            np.ascontiguousarray(image), shapes, size=CHIP_SIZE, padding=CHIP_PADDING
        )
        return np.stack([np.asarray(chip) for chip in chips])

    def _features(self, crops: np.ndarray) -> np.ndarray:
        descriptors = self.model.compute_face_descriptor([np.ascontiguousarray(c) for c in crops])
        return np.array([np.asarray(d) for d in descriptors], np.float32)

    def _forward(self, blob: np.ndarray) -> np.ndarray:  # pragma: no cover - _features is overridden
        raise NotImplementedError
