"""The one-call API: `embed` faces in an image, `verify` whether two images show the same person."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facebench.align import AlignMethod
from facebench.detectors import DEFAULT_DETECTOR
from facebench.detectors import create as create_detector
from facebench.detectors import detect as detect_one
from facebench.errors import FacebenchError
from facebench.image import ImageInput, load_image
from facebench.recognizers import DEFAULT_RECOGNIZER, Recognizer
from facebench.recognizers import create as create_recognizer
from facebench.recognizers.thresholds import DEFAULT_THRESHOLDS
from facebench.types import Face

if TYPE_CHECKING:
    from facebench.bench.results import BenchmarkResult

__all__ = [
    "DEFAULT_DETECTOR",
    "DEFAULT_RECOGNIZER",
    "AnalyzedFace",
    "VerifyResult",
    "analyze",
    "benchmark",
    "detect",
    "embed",
    "load_results",
    "verify",
]


@dataclass(frozen=True)
class VerifyResult:
    """Cosine similarity of the two faces, the threshold used, and the decision.

    ``bool(result)`` is the decision (``if facebench.verify(a, b):`` means "the same person").

    Attributes:
        threshold_source: where the threshold came from: the value passed, a trained model's
            validation, or the LFW calibration and the pipeline it was measured for.
        calibrated_for_this_pipeline: whether that calibration used this detector and alignment
            (``None`` for a threshold passed in); a threshold belongs to a pipeline.
        faces: faces found in each image; the best one (highest score) was compared.
        error: in a list of results, why this pair has no score (``score`` NaN, ``same`` False).
    """

    score: float
    threshold: float
    same: bool
    threshold_source: str = "given"
    calibrated_for_this_pipeline: bool | None = None
    faces: tuple[int, int] = (1, 1)
    #: why no score (a list of pairs only: a single pair raises instead), e.g. no face found
    error: str | None = None

    def __bool__(self) -> bool:
        return self.same

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def notes(self) -> list[str]:
        """What a careful reader should know about this decision, one sentence each."""
        notes = [] if self.error is None else [f"no decision: {self.error}"]
        for label, count in zip(("first", "second"), self.faces, strict=True):
            if count > 1:
                notes.append(f"the {label} image holds {count} faces; the best-scoring one was compared")
        if self.calibrated_for_this_pipeline is False:
            notes.append(f"the threshold was calibrated for another pipeline ({self.threshold_source})")
        return notes


@lru_cache(maxsize=4)
def _detector(name: str) -> Any:
    return create_detector(name)


@lru_cache(maxsize=4)
def _recognizer(name: str, flip: bool) -> Recognizer:
    return create_recognizer(name, flip=flip)


def detect(
    image: ImageInput | Sequence[ImageInput], detector: str = DEFAULT_DETECTOR, **options: Any
) -> list[Face] | list[list[Face]]:
    """Faces in an image, best score first; a list or a folder of images gives one list per
    image, in order (folders sorted, walked recursively). ``options`` go to the detector
    (``score_threshold``, ``max_faces``, ``input_size`` …); the detector is kept for later calls.

    Example:
        >>> faces = facebench.detect("group.jpg", score_threshold=0.7)  # doctest: +SKIP
    """
    items, many = image_list(image)
    found = [detect_one(item, detector, **options) for item in items]
    return found if many else found[0]


def embed(
    image: ImageInput | Sequence[ImageInput],
    faces: list[Face] | None = None,
    *,
    detector: str = DEFAULT_DETECTOR,
    recognizer: str = DEFAULT_RECOGNIZER,
    align: AlignMethod = "similarity",
    flip: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """L2-normalised embeddings ``(N, D)`` of the faces in ``image``, best detection first; a list
    or a folder of images gives one such array per image, in order.

    Args:
        faces: faces already detected in ``image`` (one image only); detected with ``detector``
            when omitted.

    Example:
        >>> vectors = embed("group.jpg", recognizer="mobilefacenet_casia")  # doctest: +SKIP
    """
    items, many = image_list(image)
    if faces is not None and many:
        raise ValueError("`faces` belongs to one image; pass one image with it")
    results = []
    for item in items:
        rgb = load_image(item)
        found = faces if faces is not None else _detector(detector).detect(rgb)
        results.append(_recognizer(recognizer, flip).embed_faces(rgb, found, align))
    return results if many else results[0]


@dataclass(frozen=True)
class AnalyzedFace:
    """A detected face with its embedding attached (InsightFace's ``FaceAnalysis.get`` result).

    ``face`` is the detection (box, score, landmarks); ``embedding`` the L2-normalised vector of
    the recognizer named in ``recognizer``.
    """

    face: Face
    embedding: np.ndarray
    recognizer: str

    @property
    def box(self) -> np.ndarray:
        return self.face.box

    @property
    def score(self) -> float:
        return self.face.score

    @property
    def landmarks(self) -> np.ndarray | None:
        return self.face.landmarks

    def similarity(self, other: AnalyzedFace) -> float:
        """Cosine similarity with another face embedded by the same recognizer."""
        if other.recognizer != self.recognizer:
            raise FacebenchError(
                f"cannot compare a {self.recognizer} embedding with a {other.recognizer} one"
            )
        return float(self.embedding @ other.embedding)


def image_list(images: ImageInput | Sequence[ImageInput] | os.PathLike[str]) -> tuple[list[Any], bool]:
    """``(items, many)``: a folder is walked recursively (sorted), a list kept, one image wrapped.

    Raises:
        FacebenchError: a folder without images.
    """
    if isinstance(images, str | os.PathLike) and Path(images).is_dir():
        from facebench.annotate import find_images

        found = find_images([images])
        if not found.images:
            raise FacebenchError(f"{images}: no images in this folder")
        return [image.path for image in found.images], True
    if isinstance(images, list | tuple):
        return list(images), True
    return [images], False


def analyze(
    images: ImageInput | Sequence[ImageInput],
    *,
    detector: str = DEFAULT_DETECTOR,
    recognizer: str = DEFAULT_RECOGNIZER,
    align: AlignMethod = "similarity",
) -> list[AnalyzedFace] | list[list[AnalyzedFace]]:
    """Every face of an image with its embedding, best detection first; a list or a folder of
    images gives one such list per image, in order (folders sorted, walked recursively).

    Example:
        >>> faces = facebench.analyze("group.jpg")  # doctest: +SKIP
        >>> faces[0].similarity(faces[1])  # doctest: +SKIP
    """
    items, many = image_list(images)
    results = []
    for item in items:
        rgb = load_image(item)
        found = _detector(detector).detect(rgb)
        vectors: Any = _recognizer(recognizer, False).embed_faces(rgb, found, align) if found else []
        results.append(
            [AnalyzedFace(face, vector, recognizer) for face, vector in zip(found, vectors, strict=True)]
        )
    return results if many else results[0]


def verify(
    first: ImageInput | Sequence[ImageInput],
    second: ImageInput | Sequence[ImageInput],
    *,
    detector: str = DEFAULT_DETECTOR,
    recognizer: str = DEFAULT_RECOGNIZER,
    align: AlignMethod = "similarity",
    threshold: float | None = None,
    far: float | None = None,
    refine: str | None = None,
) -> VerifyResult | list[VerifyResult]:
    """Whether the best face of each image shows the same person.

    Either side may be a list or a folder: two of them are compared pair by pair (same length),
    one image against many is compared with each; a list of results comes back, in order, and
    every image is embedded once.

    ``refine`` (``facemesh``, ``dlib5``) replaces the detector's landmarks before alignment.

    The default ``threshold`` is the recognizer's LFW-calibrated value (see
    `facebench.recognizers.thresholds`): the one of best accuracy, or with ``far`` (1e-1, 1e-2,
    1e-3) the lowest whose false-accept rate on LFW's impostor pairs is at most ``far``. For a
    trained ``ckpt:`` model, the threshold its validation measured (all validation pairs), stored
    in the model file.

    Example:
        >>> facebench.verify("a.jpg", "b.jpg", far=1e-3).same  # doctest: +SKIP

    Raises:
        FacebenchError: an image has no face, the recognizer has no calibrated threshold (at
            ``far``) and none was given, both ``threshold`` and ``far`` were given, or two lists
            differ in length.
    """
    threshold, source, matches = _verify_threshold(recognizer, detector, align, threshold, far, refine)
    firsts, many_first = image_list(first)
    seconds, many_second = image_list(second)
    if many_first and many_second and len(firsts) != len(seconds):
        raise FacebenchError(f"cannot pair {len(firsts)} first images with {len(seconds)} second ones")
    if not many_first:
        firsts = firsts * len(seconds)
    if not many_second:
        seconds = seconds * len(firsts)
    finder = _refined_detector(detector, refine)
    model = _recognizer(recognizer, False)
    # by identity: the one image compared with many is embedded once
    embedded: dict[int, tuple[np.ndarray, int] | str] = {}

    def best_face(image: Any, label: str) -> tuple[np.ndarray, int] | str:
        """The best face's embedding and the face count, or why there is none."""
        key = id(image)
        if key not in embedded:
            name = f" {image}" if isinstance(image, str | os.PathLike) else ""
            try:
                rgb = load_image(image)
            except FacebenchError as error:
                embedded[key] = str(error)
                return embedded[key]
            faces = finder.detect(rgb)
            embedded[key] = (
                (model.embed_faces(rgb, faces[:1], align)[0], len(faces))
                if faces
                else f"no face found in the {label} image{name} by {detector}"
            )
        return embedded[key]

    results = []
    for one, other in zip(firsts, seconds, strict=True):
        a, b = best_face(one, "first"), best_face(other, "second")
        if isinstance(a, str) or isinstance(b, str):
            problem = a if isinstance(a, str) else str(b)
            if not (many_first or many_second):
                raise FacebenchError(problem)
            # one bad image among many is a result with its cause, never the end of the batch
            counts = (0 if isinstance(a, str) else a[1], 0 if isinstance(b, str) else b[1])
            results.append(VerifyResult(float("nan"), threshold, False, source, matches, counts, problem))
            continue
        score = float(a[0] @ b[0])
        results.append(VerifyResult(score, threshold, score >= threshold, source, matches, (a[1], b[1])))
    return results if many_first or many_second else results[0]


def _verify_threshold(
    recognizer: str,
    detector: str,
    align: str,
    threshold: float | None,
    far: float | None,
    refine: str | None,
) -> tuple[float, str, bool | None]:
    """``(threshold, where it came from, whether its calibration used this pipeline)``."""
    if threshold is not None and far is not None:
        raise FacebenchError("give a threshold or a target FAR, not both")
    if threshold is not None:
        return float(threshold), "given", None
    calibrated = getattr(_recognizer(recognizer, False), "calibrated_threshold", None)
    if calibrated is not None and far is None:
        return float(calibrated), "the trained model's validation", True
    if recognizer not in DEFAULT_THRESHOLDS:
        wanted = "threshold" if far is None else f"threshold for FAR {far:g}"
        raise FacebenchError(f"{recognizer} has no calibrated {wanted}; pass `threshold=`")
    entry = DEFAULT_THRESHOLDS[recognizer]
    # the engine of one detector (ONNX or PyTorch) moves its landmarks by rounding only
    same_detector = entry.detector.partition("@")[0] == detector.partition("@")[0]
    matches = same_detector and entry.align == align and not entry.flip and refine is None
    if far is None:
        return entry.value, entry.provenance, matches
    return entry.at_far(far), f"FAR {far:g} on {entry.provenance}", matches


@lru_cache(maxsize=4)
def _refined_detector(name: str, refine: str | None) -> Any:
    return _detector(name) if refine is None else create_detector(name, refine=refine)


def benchmark(
    dataset: str = "lfw",
    *,
    detectors: Sequence[str] | None = None,
    recognizers: Sequence[str] | None = None,
    align: Sequence[str] | None = None,
    out: str | os.PathLike[str] = "runs/benchmark",
    folds: Sequence[int] | None = None,
    flip: bool = False,
    threads: int | None = None,
    degrade: str | Sequence[str | None] | None = None,
    restore: str | Sequence[str | None] | None = None,
    identification: bool = False,
    on_no_face: str = "fail",
    data_root: str | os.PathLike[str] | None = None,
    write_report: bool = True,
    show_progress: bool = False,
) -> BenchmarkResult:
    """Run a detector × alignment × recognizer grid on a pair dataset and return typed results.

    What ``facebench benchmark`` runs, as a call: defaults are the README's grid on LFW View 2.
    Detections and embeddings are cached in ``out/cache.sqlite`` (a re-run computes only what is
    new); with ``write_report`` the folder also gets results.json/csv, README.md, charts and
    report.html.

    Args:
        folds: 0-based folds to keep (a quick look: ``folds=[0]``).
        degrade: one degradation pipeline (``"lowres:4,jpeg:50"``) or several, a grid axis.
        restore: one restorer (``"fsrcnn_x4"``) or several; ``None``/``"none"``: bilinear resize.
        identification: add closed-set rank-1/rank-5/CMC on the dataset's identities
            (`facebench.datasets.load_identification_set`) to every pipeline's result.
        on_no_face: ``fail``, ``center`` or ``fallback:DET[,DET…]`` (`facebench.bench.no_face`).

    Example:
        >>> result = facebench.benchmark(detectors=["yunet"], folds=[0])  # doctest: +SKIP
        >>> result.runs[0].accuracy_mean  # doctest: +SKIP
    """
    from pathlib import Path

    from facebench.bench.engine import DEFAULT_GRID, run_benchmark
    from facebench.datasets import load_identification_set, load_pair_dataset

    pairs = load_pair_dataset(dataset, Path(data_root) if data_root is not None else None)
    identities = load_identification_set(dataset, data_root) if identification else None
    if folds is not None:
        pairs = pairs.subset(np.isin(pairs.fold, list(folds)))
    out_dir = Path(out)
    result = run_benchmark(
        pairs,
        out_dir,
        dataset=dataset,
        detectors=tuple(detectors or DEFAULT_GRID["detectors"]),
        recognizers=tuple(recognizers or DEFAULT_GRID["recognizers"]),
        align=tuple(align or DEFAULT_GRID["align"]),
        flip=flip,
        threads=threads,
        degrade=degrade if degrade is None or isinstance(degrade, str) else tuple(degrade),
        restore=restore if restore is None or isinstance(restore, str) else tuple(restore),
        identification=identities,
        on_no_face=on_no_face,
        show_progress=show_progress,
    )
    if write_report:
        from facebench.report import write_all

        write_all(result, out_dir, pairs=pairs)
    return result


def load_results(folder: str | os.PathLike[str]) -> BenchmarkResult:
    """The typed results a benchmark wrote into ``folder`` (its results.json)."""
    from facebench.bench.results import load_results as load

    return load(Path(folder))
