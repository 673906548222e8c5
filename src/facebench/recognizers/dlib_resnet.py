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
from facebench.zoo.cards import ColorOrder, Preprocess, Task, WeightCard, WeightFile
from facebench.zoo.sources import DLIB_PACKAGE

__all__ = ["DlibResNet"]

#: dlib's face-chip margin (get_face_chips' default); the chip's size is the card's input size
CHIP_PADDING = 0.25


DLIB_RESNET_CARD = WeightCard(
    name="dlib_resnet",
    task=Task.RECOGNIZER,
    directory="dlib_face_recognition_resnet",
    files=(
        WeightFile(
            "dlib_face_recognition_resnet_model_v1.dat",
            "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            "http://dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2",
            size=22466066,
            archive="dlib_face_recognition_resnet_model_v1.dat.bz2",
            archive_sha256="abb1f61041e434465855ce81c2bd546e830d28bcbed8d27ffbe5bb408b11553a",
        ),
    ),
    license="CC0-1.0 (dlib-models)",
    source="PyPI face_recognition_models 0.3.0 (dlib-models dlib_face_recognition_resnet_model_v1)",
    paper="King, dlib-models: ResNet-29 metric network, LFW 99.38%",
    preprocess=Preprocess(
        input_size=(150, 150),
        size_policy="crop",
        color=ColorOrder.RGB,
        template="dlib_150",
        embedding_dim=128,
    ),
    package=DLIB_PACKAGE,
    notes="Fed dlib's own 150x150 chip from its 5-point shape; distance threshold 0.6 in dlib's examples.",
)


@register_recognizer(card=DLIB_RESNET_CARD)
class DlibResNet(Recognizer):
    name: ClassVar[str] = "dlib_resnet"
    requires: ClassVar[tuple[str, ...]] = ("dlib",)
    engines: ClassVar[tuple[str, ...]] = ("dlib",)
    native_metric: ClassVar[str] = "euclidean"
    align_methods: ClassVar[tuple[str, ...]] = ("similarity",)

    def _load(self) -> None:
        import dlib

        self._dlib = dlib
        self.model = dlib.face_recognition_model_v1(str(self.store.resolve(self.card, path=self.weights)))
        self.predictor = DlibFivePoint(store=self.store)

    @property
    def chip_size(self) -> int:
        assert self.card.preprocess.input_size is not None
        return self.card.preprocess.input_size[0]

    @property
    def template(self) -> Any:
        """dlib places its chip from its own 5-point shape: a template with no points."""
        from facebench.align import Template

        return Template(str(self.card.preprocess.template), self.chip_size, self.chip_size, ())

    def align(
        self, image: np.ndarray, faces: Sequence[Face] | Faces, method: AlignMethod = "similarity"
    ) -> np.ndarray:
        self._check_method(method)
        faces = list(faces)
        if not faces:
            return np.zeros((0, self.chip_size, self.chip_size, 3), np.uint8)
        shapes = self._dlib.full_object_detections()
        shapes.extend(self.predictor.shapes(image, np.stack([face.box for face in faces])))
        chips = self._dlib.get_face_chips(
            np.ascontiguousarray(image), shapes, size=self.chip_size, padding=CHIP_PADDING
        )
        return np.stack([np.asarray(chip) for chip in chips])

    def _features(self, crops: np.ndarray) -> np.ndarray:
        descriptors = self.model.compute_face_descriptor([np.ascontiguousarray(c) for c in crops])
        return np.array([np.asarray(d) for d in descriptors], np.float32)

    def _forward(self, blob: np.ndarray) -> np.ndarray:  # pragma: no cover - _features is overridden
        raise NotImplementedError
