"""The recognizer interface: aligned face crops in, L2-normalised float32 embeddings out."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Self

import numpy as np

from facebench.align import ALIGN_METHODS, AlignMethod, Template, align_face, get_template
from facebench.extras import require_all
from facebench.image import ImageInput, load_image
from facebench.loading import LoadsOnFirstUse
from facebench.ops.blob import to_blob
from facebench.ops.degrade import parse_degrade
from facebench.restore import RESTORERS
from facebench.types import Face, Faces
from facebench.zoo import ModelStore, WeightCard, default_store, get_card

__all__ = ["Engine", "Recognizer", "l2_normalise", "similarity", "similarity_matrix"]

Engine = Literal["torch", "onnx", "litert", "dlib"]


def l2_normalise(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32)


def similarity(first: np.ndarray, second: np.ndarray, metric: str, normalized: bool) -> np.ndarray:
    """Row-wise similarity of two ``(N, D)`` embedding arrays (higher means more alike).

    Cosine (``metric="cosine"``; embeddings already L2-normalised when ``normalized``) or the
    negated Euclidean distance (``"euclidean"``, for raw features of such a model).
    """
    if metric == "euclidean":
        return -np.linalg.norm(first - second, axis=1)
    if normalized:
        return (first * second).sum(axis=1)
    return (l2_normalise(first) * l2_normalise(second)).sum(axis=1)


def similarity_matrix(probes: np.ndarray, gallery: np.ndarray, metric: str, normalized: bool) -> np.ndarray:
    """``(P, G)`` similarity of every probe to every gallery embedding, as `similarity` scores a pair.

    A NaN row (a face that was not found) stays NaN.
    """
    probes, gallery = np.asarray(probes, np.float32), np.asarray(gallery, np.float32)
    if metric == "euclidean":
        squared = (probes**2).sum(1)[:, None] + (gallery**2).sum(1)[None, :] - 2 * probes @ gallery.T
        return -np.sqrt(np.maximum(squared, 0.0))
    if not normalized:
        probes, gallery = l2_normalise(probes), l2_normalise(gallery)
    return probes @ gallery.T


class Recognizer(LoadsOnFirstUse, ABC):
    """Base class of all recognizers.

    Subclasses implement `_forward` on a preprocessed float32 batch (layout and normalisation
    from the weight card) and return raw features; the base class aligns faces to the card's
    template, batches, applies optional flip test-time augmentation and L2-normalises.

    Args:
        flip: add the embedding of the horizontally mirrored crop before normalising (off by
            default; recorded in `config`).
        batch_size: faces per forward pass. Models whose output depends on the batch (dynamic
            int8 quantization) force 1, so a face's embedding never depends on its neighbours.
        engine: inference engine (``torch``, ``onnx``, ``litert``, ``dlib``) among `engines`.
        normalize: L2-normalise embeddings (the default, and what cosine scoring needs). ``False``
            returns the model's raw features, for models whose authors compare raw vectors with
            another metric (`native_metric`, e.g. dlib's Euclidean distance); `similarity`
            follows that metric.
        threads: inference threads (default ``$FACEBENCH_THREADS`` or all cores).
        degrade: evaluate on degraded inputs: a pipeline of steps applied to every aligned crop
            (``lowres:4``, ``lowres:4:area,jpeg:50``, ``blur:1.5``, ``noise:8``; see
            `facebench.ops.degrade`); recorded in `config` in its canonical spelling.
        restore: how a crop that ``degrade`` shrank is brought back to the input size:
            ``None`` scales it back bilinearly; ``bicubic`` or a super-resolution model
            (``fsrcnn_x4``, ``espcn_x2``, ``lapsrn_x8``, ``realesrgan_x4``; `facebench.restore`).
        store: model store; ``weights``: explicit weight path (still sha256-checked).
    """

    name: ClassVar[str]
    card_name: ClassVar[str]
    engines: ClassVar[tuple[str, ...]] = ("torch",)
    #: optional modules this model cannot run without (``torch``, ``ai_edge_litert``, ``dlib``):
    #: checked first, so a missing extra fails with one line naming ``pip install "facebench[…]"``
    requires: ClassVar[tuple[str, ...]] = ()
    #: largest batch the model may see; 1 for models whose outputs depend on the batch
    max_batch_size: ClassVar[int | None] = None
    #: how the model's authors compare raw features: "cosine" or "euclidean"
    native_metric: ClassVar[str] = "cosine"
    #: alignment methods this model can be fed
    align_methods: ClassVar[tuple[str, ...]] = ALIGN_METHODS
    #: bumped when a change to this recognizer's code changes its embeddings: cached embeddings
    #: of the old code are then never reused
    code_version: ClassVar[int] = 1

    def __init__(
        self,
        *,
        flip: bool = False,
        batch_size: int = 32,
        engine: str | None = None,
        normalize: bool = True,
        threads: int | None = None,
        degrade: str | None = None,
        restore: str | None = None,
        store: ModelStore | None = None,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        require_all(self.requires, self.name)
        self.flip = bool(flip)
        self._degrade = parse_degrade(degrade)
        self.degrade = None if self._degrade is None else self._degrade.spec
        self.restore = None if restore in (None, "none") else restore
        if self.restore is not None and (self._degrade is None or self._degrade.factor <= 1):
            raise ValueError(
                f"`restore` {self.restore!r} brings back a crop that `degrade` shrank: add a lowres step"
            )
        self.store = store or default_store()
        self._restorer = (
            None
            if self.restore is None
            else RESTORERS.describe(self.restore, threads=threads, store=self.store)
        )
        self.normalize = bool(normalize)
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be at least 1, got {batch_size}")
        self.batch_size = min(batch_size, self.max_batch_size or batch_size)
        self.engine = engine or self.engines[0]
        if self.engine not in self.engines:
            raise ValueError(
                f"Expected argument `engine` to be one of {', '.join(self.engines)} for {self.name}, "
                f"but got {self.engine!r}"
            )
        self.threads = threads
        self.weights = weights

    def load(self) -> Self:
        """Read the weights (the restorer's too, so a missing file fails at construction)."""
        super().load()
        if self._restorer is not None:
            self._restorer.load()
        return self

    @property
    def card(self) -> WeightCard:
        return get_card(self.card_name)

    @property
    def template(self) -> Template:
        assert self.card.preprocess.template is not None, f"{self.name} has no alignment template"
        return get_template(self.card.preprocess.template)

    @property
    def embedding_dim(self) -> int:
        assert self.card.preprocess.embedding_dim is not None
        return self.card.preprocess.embedding_dim

    @property
    def config(self) -> dict[str, Any]:
        return {
            "recognizer": self.name,
            "model": self.card_name,
            "engine": self.engine,
            "flip": self.flip,
            "normalize": self.normalize,
            "metric": self.metric,
            "batch_size": self.batch_size,
            "template": self.card.preprocess.template,
            "embedding_dim": self.embedding_dim,
            **({"degrade": self.degrade} if self.degrade else {}),
            **({"restore": self._restorer.config} if self._restorer is not None else {}),
            # the bytes the embeddings came from, and the code that computed them
            "weights_sha256": [weight_file.sha256 for weight_file in self.card.files],
            "code_version": self.code_version,
        }

    @property
    def metric(self) -> str:
        """How `similarity` compares embeddings: cosine unless raw features use another metric."""
        return "cosine" if self.normalize else self.native_metric

    def similarity(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Row-wise similarity of two ``(N, D)`` embedding arrays (higher means more alike).

        Cosine for normalised embeddings; the negated Euclidean distance for raw features of a
        model whose native metric is Euclidean.
        """
        return similarity(first, second, self.metric, self.normalize)

    @abstractmethod
    def _forward(self, blob: np.ndarray) -> np.ndarray:
        """Raw ``(N, D)`` features for a preprocessed float32 batch."""

    def _features(self, crops: np.ndarray) -> np.ndarray:
        blob = to_blob(list(crops), self.card.preprocess)
        return self._forward(blob)

    def embed_aligned(self, crops: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings ``(N, D)`` of RGB uint8 crops already aligned to this model's template."""
        crops = np.asarray(crops)
        if crops.ndim == 3:
            crops = crops[None]
        if len(crops) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        expected = (self.template.height, self.template.width, 3)
        if crops.shape[1:] != expected:
            raise ValueError(f"{self.name} expects aligned crops of shape (N, {expected}), got {crops.shape}")
        if self._degrade is not None:
            if self._restorer is None:
                crops = self._degrade(crops)
            else:
                small = [self._degrade.shrink(crop) for crop in crops]
                crops = self._restorer.restore(small, (expected[1], expected[0]))
        self.load()
        chunks = []
        for start in range(0, len(crops), self.batch_size):
            batch = crops[start : start + self.batch_size]
            features = self._features(batch)
            if self.flip:
                features = features + self._features(np.ascontiguousarray(batch[:, :, ::-1]))
            chunks.append(features)
        features = np.concatenate(chunks).astype(np.float32)
        return l2_normalise(features) if self.normalize else features

    def _check_method(self, method: str) -> None:
        if method not in self.align_methods:
            raise ValueError(
                f"{self.name} takes only {', '.join(self.align_methods)} alignment; method {method!r} is not offered"
            )

    def align(
        self, image: np.ndarray, faces: Sequence[Face] | Faces, method: AlignMethod = "similarity"
    ) -> np.ndarray:
        """``(N, H, W, 3)`` crops of ``faces`` in RGB ``image``, aligned to this model's template."""
        self._check_method(method)
        faces = list(faces)
        template = self.template
        crops = [align_face(image, face.box, face.landmarks, template, method) for face in faces]
        return np.stack(crops) if crops else np.zeros((0, template.height, template.width, 3), np.uint8)

    def embed_faces(
        self, image: ImageInput, faces: Sequence[Face] | Faces, method: AlignMethod = "similarity"
    ) -> np.ndarray:
        """Embeddings ``(N, D)`` of detected ``faces`` in ``image``.

        Raises:
            ValueError: ``method`` needs landmarks and a face has none.
        """
        rgb = load_image(image)
        return self.embed_aligned(self.align(rgb, faces, method))

    def cost_module(self) -> Any | None:
        """A float PyTorch module with this model's architecture, for counting GFLOPs (or ``None``)."""
        self.load()
        runner = getattr(self, "runner", None)
        return None if runner is None else runner.module

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if k != "recognizer")
        return f"{type(self).__name__}({options})"
