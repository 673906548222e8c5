"""IJB-B / IJB-C evaluation (``benchmark --dataset ijbc --data-root …``): embed every face crop,
form template features, score the 1:1 template pairs and search the 1:N galleries.

Landmarks come from the release's ``*_name_5pts_score.txt`` by default (the published protocol;
the faceness score is its detector's), or from any facebench detector (the central face of each
loose crop; its score is the faceness). Per-image features are stored in ``OUT/cache.sqlite``
keyed by the crop's bytes, its landmarks and the recognizer's configuration, so a re-run or a
second protocol run reads them back.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facebench.bench.environment import environment, environment_fingerprint
from facebench.bench.no_face import central_face
from facebench.bench.plan import ModelPool, ModelSpec, parse_model_name
from facebench.bench.records import EmbeddingRecord, RecordError, Status
from facebench.bench.store import ResultStore, content_key
from facebench.datasets.ijb import IJBSet
from facebench.errors import FacebenchError, ImageError, describe_exception
from facebench.image import load_image, read_image_file
from facebench.metrics.ijb import (
    IJB_FARS,
    OpenSetResult,
    identify,
    template_features,
    template_pair_scores,
    verify_templates,
)
from facebench.types import Face

__all__ = ["IJBResult", "TemplateSwitches", "run_ijb"]

CODE_VERSION = 1
METADATA = "metadata"


@dataclass(frozen=True)
class TemplateSwitches:
    """How template features are formed (InsightFace's defaults: all on)."""

    flip: bool = True  # add the mirrored crop's embedding to the crop's
    faceness_weighting: bool = True  # multiply an image's feature by its detector score
    keep_norm: bool = True  # do not normalise image features before pooling: the norm weighs them
    media_pooling: str = "mean within a media id, then sum over media, L2 at the end"


@dataclass(frozen=True)
class IJBResult:
    """One recognizer (with one landmark source) on IJB-B or IJB-C."""

    dataset: str
    recognizer: str
    landmarks: str
    switches: TemplateSwitches
    images: int
    images_without_face: int
    errors: dict[str, str]
    templates: int
    pairs: int
    genuine: int
    impostors: int
    tar_at_far: dict[str, float | None]
    galleries: tuple[OpenSetResult, ...]
    identification_mean: dict[str, float | None]
    embed_ms_p50: float | None
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def pipeline(self) -> str:
        return f"{self.dataset}+{self.landmarks}+{self.recognizer}"

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["pipeline"] = self.pipeline
        return record


def _face_from_landmarks(points: np.ndarray, score: float) -> Face:
    low, high = points.min(axis=0), points.max(axis=0)
    return Face(box=np.concatenate([low, high]).astype(np.float32), score=float(score), landmarks=points)


def _image_key(path: Path, points: np.ndarray | None) -> str:
    """Content digest of the crop, with the landmarks that align it (metadata mode)."""
    data = read_image_file(path)
    key = content_key(data)
    if points is None:
        return key
    return hashlib.sha256(key.encode() + np.ascontiguousarray(points, np.float32).tobytes()).hexdigest()


def run_ijb(
    dataset: IJBSet,
    out_dir: Path,
    *,
    recognizer: str,
    detector: str | None = None,
    threads: int | None = None,
    switches: TemplateSwitches = TemplateSwitches(),
    batch: int = 64,
) -> IJBResult:
    """Evaluate ``recognizer`` on ``dataset`` (landmarks: the release's, or ``detector``'s)."""
    started = time.perf_counter()
    pool = ModelPool()
    name, engine = parse_model_name(recognizer)
    spec = ModelSpec.of(
        "recognizer", name, flip=switches.flip, normalize=False, threads=threads, engine=engine
    )
    model = pool.describe(spec)
    finder = None
    if detector not in (None, METADATA):
        detector_name, detector_engine = parse_model_name(detector)
        finder = pool.describe(
            ModelSpec.of("detector", detector_name, threads=threads, engine=detector_engine)
        )
    landmarks = METADATA if finder is None else str(detector)
    count = len(dataset.images)
    features = np.zeros((count, model.embedding_dim), np.float32)
    faceness = dataset.faceness.astype(np.float64).copy()
    missing_face = np.zeros(count, bool)
    errors: dict[str, str] = {}
    timings: list[float] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    with ResultStore(out_dir) as store:
        config = store.register(
            {
                "stage": "ijb-embed",
                "code_version": CODE_VERSION,
                "landmarks": METADATA if finder is None else finder.config,
                **model.config,
            }
        )

        def key_of(index: int) -> str | None:
            try:
                points = dataset.landmarks[index] if finder is None else None
                return _image_key(dataset.images[index], points)
            except ImageError as error:
                errors[str(dataset.images[index])] = error.reason
                return None

        with ThreadPoolExecutor(4) as readers:
            keys = list(readers.map(key_of, range(count)))
        unique = sorted({k for k in keys if k is not None})
        stored: dict[str, tuple[EmbeddingRecord, float]] = {}
        for key, data in store.get_many("ijb-embed", config, unique).items():
            try:
                record = EmbeddingRecord.decode(data[8:])
                stored[key] = (record, float(np.frombuffer(data[:8], np.float64)[0]))
            except RecordError:
                continue
        todo = [i for i, key in enumerate(keys) if key is not None and key not in stored]

        def prepare(index: int) -> tuple[int, np.ndarray | None, float, str | None]:
            """The aligned crop of face crop ``index`` and its faceness (``None``: no face)."""
            try:
                rgb = load_image(dataset.images[index])
                face: Face | None
                if finder is None:
                    face = _face_from_landmarks(dataset.landmarks[index], dataset.faceness[index])
                else:
                    face = central_face(finder.detect_faces(rgb), rgb.shape[1], rgb.shape[0])
                if face is None:
                    return index, None, 0.0, None
                return index, model.align(rgb, [face], "similarity")[0], float(face.score), None
            except Exception as error:  # reported with the image's name, never stored
                return index, None, 0.0, describe_exception(error, f"{dataset.images[index].name}")

        if todo:
            pool.get(spec)
            if finder is not None:
                finder.load()

        def keep(index: int, record: EmbeddingRecord, score: float) -> None:
            # a row is the faceness score (float64) and the embedding record
            key = keys[index]
            assert key is not None
            stored[key] = (record, score)
            store.put("ijb-embed", config, key, np.float64(score).tobytes() + record.encode())

        with ThreadPoolExecutor(2) as workers:
            for start in range(0, len(todo), batch):
                prepared = list(workers.map(prepare, todo[start : start + batch]))
                crops, owners = [], []
                for index, crop, score, error in prepared:
                    if error is not None:
                        errors[str(dataset.images[index])] = error
                    elif crop is None:
                        keep(index, EmbeddingRecord(Status.NO_FACE), 0.0)
                    else:
                        crops.append(crop)
                        owners.append((index, score))
                if crops:
                    began = time.perf_counter()
                    vectors = model.embed_aligned(np.stack(crops))
                    timings += [(time.perf_counter() - began) * 1000 / len(crops)] * len(crops)
                    for (index, score), vector in zip(owners, vectors, strict=True):
                        keep(index, EmbeddingRecord(Status.OK, vector.astype(np.float32)), score)
        store.commit()
    for index, image_key in enumerate(keys):
        if image_key is None or image_key not in stored:
            missing_face[index] = True
            continue
        record, score = stored[image_key]
        if record.status != Status.OK or record.vector is None:
            missing_face[index] = True
            continue
        features[index] = record.vector
        if finder is not None:
            faceness[index] = score
    faceness[missing_face] = 0.0
    ids, template_feats = template_features(
        features,
        dataset.templates,
        dataset.medias,
        faceness,
        keep_norm=switches.keep_norm,
        faceness_weighting=switches.faceness_weighting,
    )
    pairs = dataset.pairs
    scores = template_pair_scores(ids, template_feats, pairs[:, 0], pairs[:, 1])
    labels = pairs[:, 2].astype(bool)
    tar = verify_templates(scores, labels, IJB_FARS)
    probe_index = np.searchsorted(ids, dataset.probes.templates)
    results = []
    for gallery in dataset.galleries:
        gallery_index = np.searchsorted(ids, gallery.templates)
        results.append(
            identify(
                template_feats[gallery_index],
                gallery.subjects,
                template_feats[probe_index],
                dataset.probes.subjects,
                gallery=gallery.name,
            )
        )
    mean: dict[str, float | None] = {}
    for key in results[0].rank:
        mean[f"rank{key}"] = float(np.mean([r.rank[key] for r in results]))
    for key in results[0].tpir_at_fpir:
        values = [r.tpir_at_fpir[key] for r in results]
        mean[f"tpir@fpir={key}"] = None if any(v is None for v in values) else float(np.mean(values))  # type: ignore[arg-type]
    return IJBResult(
        dataset=dataset.name,
        recognizer=spec.label,
        landmarks=landmarks,
        switches=switches,
        images=count,
        images_without_face=int(missing_face.sum()),
        errors=errors,
        templates=len(ids),
        pairs=len(pairs),
        genuine=int(labels.sum()),
        impostors=int((~labels).sum()),
        tar_at_far=tar,
        galleries=tuple(results),
        identification_mean=mean,
        embed_ms_p50=round(float(np.median(timings)), 3) if timings else None,
        seconds=round(time.perf_counter() - started, 2),
        config={"recognizer": model.config, "environment": environment_fingerprint(threads)},
    )


def ijb_markdown(results: list[IJBResult], env: dict[str, Any]) -> str:
    """The README.md of an IJB run: 1:1 TAR@FAR and 1:N (mean of the two galleries) per pipeline."""
    fars = [f"{far:g}" for far in IJB_FARS]
    lines = [
        f"# facebench benchmark: {results[0].dataset.upper()}" if results else "# facebench benchmark",
        "",
        f"Machine: {env.get('cpu')}, {env.get('cores')} cores, threads={env.get('threads')}.",
        "",
        "| pipeline | " + " | ".join(f"TAR@FAR={f}" for f in fars) + " | rank-1 | rank-5 | rank-10 | "
        "TPIR@FPIR=1e-2 | TPIR@FPIR=1e-1 | images without a face |",
        "|---|" + "---:|" * (len(fars) + 6),
    ]

    def cell(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.2f}"

    for result in results:
        mean = result.identification_mean
        lines.append(
            f"| {result.pipeline} | "
            + " | ".join(cell(result.tar_at_far[f]) for f in fars)
            + f" | {cell(mean.get('rank1'))} | {cell(mean.get('rank5'))} | {cell(mean.get('rank10'))}"
            + f" | {cell(mean.get('tpir@fpir=0.01'))} | {cell(mean.get('tpir@fpir=0.1'))}"
            + f" | {result.images_without_face} |"
        )
    if results:
        switches = results[0].switches
        lines += [
            "",
            f"Templates: flip sum {'on' if switches.flip else 'off'}, detector-score weighting "
            f"{'on' if switches.faceness_weighting else 'off'}, norm kept as quality "
            f"{'on' if switches.keep_norm else 'off'}, {switches.media_pooling}. 1:N: each gallery "
            f"({', '.join(g.gallery for g in results[0].galleries)}) searched by the mixed probes, "
            "the two averaged (NIST style); percentages.",
        ]
    for result in results:
        for path, reason in list(result.errors.items())[:20]:
            lines.append(f"- {path}: {reason}")
    return "\n".join(lines) + "\n"


def write_ijb(results: list[IJBResult], out: Path, threads: int | None = None) -> None:
    """``ijb_results.json`` and ``README.md`` in ``out``."""
    from facebench.atomic import atomic_write_text

    env = environment(threads)
    payload = {"format": "facebench.ijb/1", "environment": env, "runs": [r.to_record() for r in results]}
    atomic_write_text(out / "ijb_results.json", json.dumps(payload, indent=2, allow_nan=False))
    atomic_write_text(out / "README.md", ijb_markdown(results, env))


def check_ijb_detector(detector: str | None) -> None:
    """``metadata`` or a detector facebench can build."""
    if detector in (None, METADATA):
        return
    from facebench.bench.plan import check_model_name
    from facebench.detectors.registry import DETECTORS

    try:
        check_model_name(DETECTORS, detector)
    except FacebenchError as error:
        raise FacebenchError(f"{error} (or 'metadata': the release's landmarks)") from None
