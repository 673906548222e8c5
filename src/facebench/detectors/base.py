"""The detector interface every face detector implements, and the options they all share."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import cv2
import numpy as np

from facebench.detectors.refiners import Refiner
from facebench.extras import require_all
from facebench.image import DecodedImage, ImageInput, decode_image
from facebench.loading import LoadsOnFirstUse
from facebench.ops.nms import nms
from facebench.ops.resize import InputSize
from facebench.types import Face, Faces
from facebench.zoo import DetectorDefaults, ModelStore, WeightCard, default_store, get_card

__all__ = ["Detector"]


class Detector(LoadsOnFirstUse, ABC):
    """Base class of all detectors.

    Subclasses set ``name`` and ``card_name`` and implement `_detect_rgb`, which receives an RGB
    uint8 image and returns candidate `Faces` in original-image coordinates, already thresholded
    and NMS-suppressed. The base class applies the options every detector shares. Every default
    (threshold, NMS, input size, refiner) comes from the weight card's `DetectorDefaults`.

    Args:
        score_threshold: minimum confidence; default is the model authors' value.
        nms_iou: IoU above which overlapping detections are suppressed.
        max_faces: keep only the best ``max_faces`` faces (``None`` keeps all).
        min_face_size: drop faces whose shorter box side is below this many pixels.
        input_size: ``original``, ``max_side=N`` or ``fixed=WxH`` (see `InputSize`); a model
            with a fixed input uses ``fixed`` whatever is asked, and records that.
        threads: inference threads (default ``$FACEBENCH_THREADS`` or all cores).
        refine: a landmark refiner (``facemesh``, ``dlib5``) that recomputes the 5 points;
            ``"none"`` keeps the detector's own; default: the detector's (``dlib5`` for dlib's).
        batch_size: same-size images per forward pass, up to the model's `max_batch` (default: the
            card's, 1 unless a batched pass is bit-identical; elsewhere a batched pass rounds
            differently, and int8 recognizers downstream amplify that).
        store: model store to resolve weights with (default: configured from the environment).
        weights: explicit path of the weight file (still sha256-checked).
    """

    name: ClassVar[str]
    card_name: ClassVar[str]
    gives_landmarks: ClassVar[bool] = True
    #: optional modules this model cannot run without (``torch``, ``ai_edge_litert``, ``dlib``):
    #: checked first, so a missing extra fails with one line naming ``pip install "facebench[…]"``
    requires: ClassVar[tuple[str, ...]] = ()
    #: bumped when a change to this detector's code changes its outputs: cached results of the
    #: old code are then never reused
    code_version: ClassVar[int] = 1
    #: most same-size images one forward pass can take (1: the graph has its batch size baked in)
    max_batch: ClassVar[int] = 1
    #: the grey a ``fixed=WxH`` letterbox pads with (the model authors' value)
    letterbox_pad: ClassVar[float] = 0.0

    def __init__(
        self,
        *,
        score_threshold: float | None = None,
        nms_iou: float | None = None,
        max_faces: int | None = None,
        min_face_size: float = 0.0,
        input_size: InputSize | str | None = None,
        threads: int | None = None,
        refine: str | None = None,
        batch_size: int | None = None,
        store: ModelStore | None = None,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        require_all(self.requires, self.name)
        defaults = self.defaults
        self.score_threshold = defaults.score_threshold if score_threshold is None else float(score_threshold)
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"`score_threshold` must lie in [0, 1], got {self.score_threshold}")
        self.nms_iou = defaults.nms_iou if nms_iou is None else float(nms_iou)
        if not 0.0 < self.nms_iou <= 1.0:
            raise ValueError(f"`nms_iou` must lie in (0, 1], got {self.nms_iou}")
        if max_faces is not None and max_faces < 1:
            raise ValueError(f"`max_faces` must be at least 1 or None, got {max_faces}")
        self.max_faces = max_faces
        batch_size = defaults.batch_size if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be at least 1, got {batch_size}")
        self.batch_size = min(int(batch_size), self.max_batch)
        self.min_face_size = float(min_face_size)
        requested = InputSize.parse(input_size if input_size is not None else defaults.input_size)
        self.input_size = InputSize.parse(defaults.input_size) if defaults.fixed_input else requested
        self.threads = threads
        self.store = store or default_store()
        self.weights = weights
        chosen = defaults.refine if refine is None else (None if refine == "none" else refine)
        self.refiner: Refiner | None = None
        if chosen is not None:
            from facebench.detectors.refiners import REFINERS

            # described only: its weights are read when this detector is loaded (`load`)
            self.refiner = REFINERS.describe(chosen, threads=threads, store=self.store)

    @property
    def card(self) -> WeightCard:
        return get_card(self.card_name)

    @property
    def defaults(self) -> DetectorDefaults:
        """The card's default options (the only place they are stated)."""
        assert self.card.detector_defaults is not None, (
            f"{self.card_name}: a detector card states its defaults"
        )
        return self.card.detector_defaults

    @property
    def config(self) -> dict[str, Any]:
        """The settings that shaped a result; stored next to every result."""
        return {
            "detector": self.name,
            "model": self.card_name,
            "score_threshold": self.score_threshold,
            "nms_iou": self.nms_iou,
            "max_faces": self.max_faces,
            "min_face_size": self.min_face_size,
            "input_size": str(self.input_size),
            "refine": self.refiner.name if self.refiner else None,
            # the bytes the outputs came from, and the code that turned them into faces
            "weights_sha256": [weight_file.sha256 for weight_file in self.card.files],
            "code_version": self.code_version,
            "batch_size": self.batch_size,  # a batched forward pass may round differently
            # a fixed letterbox retries a miss on an image it enlarged too much, smaller
            **({"largest_face": self.defaults.largest_face} if self.input_size.kind == "fixed" else {}),
        }

    @abstractmethod
    def _detect_rgb(self, image: np.ndarray) -> Faces:
        """Candidates for one RGB uint8 image, in original coordinates, after threshold and NMS."""

    def load(self) -> Self:
        """Read this detector's weights, and its refiner's (once; thread-safe)."""
        super().load()
        if self.refiner is not None:
            self.refiner.load()
        return self

    def decode_fit(self) -> tuple[int, int] | None:
        """The (width, height) this detector shrinks every image into, or ``None`` (``original``).

        A file is then decoded at reduced resolution when it is at least twice that size (JPEG
        by DCT scaling), so a 100 MP photo costs a fraction of 100 MP of memory; coordinates
        are still reported in the original image's pixels.
        """
        if self.input_size.kind == "fixed":
            return int(self.input_size.width), int(self.input_size.height)  # type: ignore[arg-type]
        if self.input_size.kind == "max_side":
            return int(self.input_size.max_side), int(self.input_size.max_side)  # type: ignore[arg-type]
        return None

    def _second_scale(self, height: int, width: int) -> float | None:
        """Scale of the fallback pass a ``fixed=WxH`` letterbox needs for an image this size, or ``None``.

        The letterbox scales every image to fill the input, so a 120-px tight crop reaches a
        640-px SCRFD input enlarged 5×, its face bigger than any the model was trained on (it
        then finds none). When the letterbox would show the image larger than the card's
        `largest_face` share of the input, a fallback pass can see it at that share, never enlarged.
        """
        if self.input_size.kind != "fixed":
            return None
        canvas_w, canvas_h = int(self.input_size.width), int(self.input_size.height)  # type: ignore[arg-type]
        letterbox = min(canvas_w / width, canvas_h / height)
        share = self.defaults.largest_face
        second = min(1.0, share * canvas_w / width, share * canvas_h / height)
        # within 25% of the letterbox's own scale the first pass already saw the image so
        return second if second < 0.8 * letterbox else None

    def _with_second_pass(self, image: np.ndarray, faces: Faces) -> Faces:
        """``faces``, or where none passes the score threshold and the letterbox enlarged the
        image past `largest_face`, the faces of a second pass on the image at that share.

        Only on a miss: an image whose face the first pass finds costs one pass and keeps its
        results (so GFLOPs count one pass), and a tight crop the first pass misses costs two.
        """
        if not faces.is_empty and bool((faces.scores >= self.score_threshold).any()):
            return faces
        height, width = image.shape[:2]
        scale = self._second_scale(height, width)
        if scale is None:
            return faces
        canvas_w, canvas_h = int(self.input_size.width), int(self.input_size.height)  # type: ignore[arg-type]
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        small = image if scale == 1.0 else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        # padded to exactly the input size, so the letterbox passes it through unscaled, and
        # at the bottom/right, so its pixel coordinates are the shrunk image's
        canvas = cv2.copyMakeBorder(
            small,
            0,
            canvas_h - new_h,
            0,
            canvas_w - new_w,
            cv2.BORDER_CONSTANT,
            value=(self.letterbox_pad,) * 3,
        )
        second = self._detect_rgb(canvas).scaled(width / new_w, height / new_h)
        if second.is_empty:
            return faces
        merged = Faces.merge([faces, second]) if not faces.is_empty else second
        return merged[nms(merged.boxes, merged.scores, self.nms_iou)]

    def _candidates(self, image: np.ndarray) -> Faces:
        return self._with_second_pass(image, self._detect_rgb(image))

    def _detect_rgb_batch(self, images: list[np.ndarray]) -> list[Faces]:
        """`_detect_rgb` for same-size images (a detector whose graph batches overrides this)."""
        return [self._detect_rgb(image) for image in images]

    def detect_decoded(self, images: Sequence[DecodedImage]) -> list[Faces]:
        """Faces of each decoded image; runs of same-size images share a forward pass (`batch_size`).

        Decoding is the caller's (the benchmark engine decodes in a thread pool ahead of
        inference), and each image's faces are exactly those `detect_faces` gives up to float
        rounding of the batched network.
        """
        self.load()
        results: list[Faces] = []
        start = 0
        while start < len(images):
            shape = images[start].rgb.shape
            stop = start + 1
            while stop < len(images) and stop - start < self.batch_size and images[stop].rgb.shape == shape:
                stop += 1
            group = [decoded.rgb for decoded in images[start:stop]]
            raw = (
                [
                    self._with_second_pass(i, f)
                    for i, f in zip(group, self._detect_rgb_batch(group), strict=True)
                ]
                if len(group) > 1
                else [self._candidates(group[0])]
            )
            results += [
                self._finish(decoded, faces) for decoded, faces in zip(images[start:stop], raw, strict=True)
            ]
            start = stop
        return results

    def detect_faces(self, image: ImageInput) -> Faces:
        """Like `detect`, as a struct-of-arrays `Faces` batch."""
        self.load()
        decoded = decode_image(image, fit=self.decode_fit())
        return self._finish(decoded, self._candidates(decoded.rgb))

    def _finish(self, decoded: DecodedImage, faces: Faces) -> Faces:
        """The shared options applied to a model's candidates, in original-image coordinates."""
        rgb = decoded.rgb
        if faces.is_empty:
            return faces
        height, width = rgb.shape[:2]
        boxes = faces.boxes.copy()
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
        faces = Faces(boxes, faces.scores, faces.landmarks, self.name, faces.dense_landmarks)
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        min_side = self.min_face_size / max(decoded.scale_x, decoded.scale_y)  # in decoded pixels
        faces = faces[(sides > 0) & (sides >= min_side) & (faces.scores >= self.score_threshold)]
        faces = faces.sorted_by_score()
        if self.max_faces is not None:
            faces = faces[: self.max_faces]
        if self.refiner is not None:
            faces = self.refiner.refine(rgb, faces)
        return faces.scaled(decoded.scale_x, decoded.scale_y) if decoded.reduced else faces

    def detect(self, image: ImageInput) -> list[Face]:
        """Faces in ``image``, best score first; an empty list when there is none.

        Raises:
            ImageError: the image cannot be read.
        """
        return self.detect_faces(image).to_faces()

    def detect_batch(self, images: Sequence[ImageInput]) -> list[list[Face]]:
        """`detect` for each image; same-size images share forward passes where the model batches."""
        decoded = [decode_image(image, fit=self.decode_fit()) for image in images]
        return [faces.to_faces() for faces in self.detect_decoded(decoded)]

    def cost_graph(self, width: int, height: int) -> tuple[str, Any, tuple[int, ...]] | None:
        """What to count GFLOPs on for an image of this size: ("onnx", path, shape) or
        ("torch", module, shape); ``None`` when the work depends on the content (cascades)."""
        return None

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if k != "detector")
        return f"{type(self).__name__}({options})"
