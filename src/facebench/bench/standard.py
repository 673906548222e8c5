"""The published protocol (``benchmark --protocol standard``): pre-aligned 112×112 faces, no detection.

What papers report for LFW, CFP-FP and AgeDB-30: InsightFace's verification sets (``.bin``),
each face embedded with its mirror image added before normalising (flip-sum), and accuracy from
InsightFace's 10-fold sweep of a squared-distance threshold (`insightface_kfold_accuracy`),
reported as mean ± std over the folds. A user reproduces a paper's number here, and reads the
end-to-end number (with a detector, `run_benchmark`) next to it.

The faces are aligned to InsightFace's ArcFace template; a recognizer trained on another template
(MobileFaceNet's 112×96 SphereFace one) gets them mapped onto its own by the similarity transform
between the two templates (for 112×96: the central 96 columns, exactly).
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facebench.align import get_template
from facebench.align.transform import similarity_transform
from facebench.bench.environment import environment, environment_fingerprint
from facebench.bench.plan import ModelPool, ModelSpec, parse_model_name
from facebench.bench.results import (
    NO_LATENCY,
    BenchmarkResult,
    Failures,
    PipelineResult,
    StageLatency,
    _pack,
    compare,
)
from facebench.bench.store import ResultStore
from facebench.datasets.insightface_bin import BinVerificationSet
from facebench.errors import FacebenchError
from facebench.metrics.roc import eer, roc_auc, tar_at_far
from facebench.metrics.significance import wilson_interval
from facebench.metrics.verification import insightface_kfold_accuracy

__all__ = ["STANDARD_FAILURE_POLICY", "run_standard_protocol"]

#: the template InsightFace's ``.bin`` faces are aligned to
BIN_TEMPLATE = "arcface_112"
STANDARD_FAILURE_POLICY = "pre-aligned faces: every image is embedded (no detection, nothing can be missed)"
#: bumped when this module's way of computing embeddings changes (stored ones are then recomputed)
CODE_VERSION = 1


def _to_template(rgb: np.ndarray, name: str) -> np.ndarray:
    """A face aligned to the ArcFace 112×112 template, mapped onto template ``name``."""
    if name == BIN_TEMPLATE:
        return rgb
    source, target = get_template(BIN_TEMPLATE), get_template(name)
    matrix = similarity_transform(
        np.asarray(source.points, np.float64), np.asarray(target.points, np.float64)
    )
    return cv2.warpAffine(rgb, matrix, (target.width, target.height), flags=cv2.INTER_LINEAR)


def _faces(dataset: BinVerificationSet) -> np.ndarray:
    faces = []
    for index in range(len(dataset.images)):
        rgb = dataset.decode(index)
        if rgb.shape[:2] != (112, 112):
            raise FacebenchError(
                f"{dataset.path}: image {index} is {rgb.shape[1]}×{rgb.shape[0]}; the standard protocol "
                "takes 112×112 faces aligned to the ArcFace template"
            )
        faces.append(rgb)
    return np.stack(faces)


def _embed(recognizer: Any, faces: np.ndarray, batch: int = 64) -> tuple[np.ndarray, list[float]]:
    crops = np.stack([_to_template(face, recognizer.card.preprocess.template) for face in faces])
    chunks, per_face_ms = [], []
    for start in range(0, len(crops), batch):
        began = time.perf_counter()
        chunks.append(recognizer.embed_aligned(crops[start : start + batch]))
        count = len(chunks[-1])
        per_face_ms += [1000 * (time.perf_counter() - began) / count] * count
    return np.concatenate(chunks), per_face_ms


def run_standard_protocol(
    dataset: BinVerificationSet,
    out_dir: Path,
    *,
    recognizers: tuple[str, ...],
    threads: int | None = None,
    flip: bool = True,
) -> BenchmarkResult:
    """Every recognizer on ``dataset`` under the published protocol; embeddings stored in ``out_dir``.

    ``flip`` (on by default, as the protocol has it) adds each face's mirror embedding before
    normalising. A re-run with the same set (by content), recognizer and options reads the stored
    embeddings instead of computing them.
    """
    pool = ModelPool()
    fingerprint = environment_fingerprint(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    faces: np.ndarray | None = None
    folds = dataset.fold
    runs = []
    with ResultStore(out_dir) as store:
        for text in recognizers:
            name, engine = parse_model_name(text)
            spec = ModelSpec.of("recognizer", name, flip=flip, threads=threads, engine=engine)
            recognizer = pool.describe(spec)
            config = store.register(
                {
                    "stage": "standard",
                    "set_sha256": dataset.sha256,
                    "code_version": CODE_VERSION,
                    **recognizer.config,
                }
            )
            stored = store.get_many("standard", config, ["embeddings"]).get("embeddings")
            started = time.perf_counter()
            if stored is not None:
                embeddings, latency = np.load(io.BytesIO(stored)), NO_LATENCY
            else:
                faces = _faces(dataset) if faces is None else faces
                embeddings, per_face_ms = _embed(pool.get(spec), faces)
                buffer = io.BytesIO()
                np.save(buffer, embeddings.astype(np.float32))
                store.put("standard", config, "embeddings", buffer.getvalue())
                store.commit()
                values = np.asarray(per_face_ms)
                latency = StageLatency(
                    round(float(np.percentile(values, 50)), 3),
                    round(float(np.percentile(values, 95)), 3),
                    len(values),
                    64,
                    "measured",
                    fingerprint,
                    time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                )
            runs.append(
                _score(dataset, embeddings, folds, spec, recognizer, latency, time.perf_counter() - started)
            )
    env = environment(threads)
    env["fingerprint"] = fingerprint
    runs_tuple = tuple(runs)
    return BenchmarkResult(runs_tuple, compare(runs_tuple), env, (), (), out_dir)


def _score(
    dataset: BinVerificationSet,
    embeddings: np.ndarray,
    folds: np.ndarray,
    spec: ModelSpec,
    recognizer: Any,
    latency: StageLatency,
    seconds: float,
) -> PipelineResult:
    first, second = embeddings[0::2], embeddings[1::2]
    is_same = dataset.is_same
    accuracy = insightface_kfold_accuracy(first, second, is_same, folds)
    distance = ((first.astype(np.float64) - second) ** 2).sum(axis=1)
    per_pair = accuracy.fold_threshold[folds]
    correct = (distance < per_pair) == is_same
    low, high = wilson_interval(int(correct.sum()), len(correct))
    scores = (first * second).sum(axis=1)  # cosine: the score every other metric ranks by
    rate, _ = eer(scores, is_same)
    return PipelineResult(
        pipeline=f"{dataset.name}.bin+standard+{spec.label}",
        dataset=f"bin:{dataset.name}",
        detector="none (pre-aligned)",
        align="standard",
        recognizer=spec.name,
        engine=recognizer.engine,
        flip=recognizer.flip,
        degrade=None,
        pairs=len(is_same),
        images=len(dataset.images),
        accuracy_mean=round(accuracy.mean, 6),
        accuracy_std=round(accuracy.std, 6),
        accuracy_ci95=(round(low, 6), round(high, 6)),
        fold_accuracy=tuple(round(a, 6) for a in accuracy.fold_accuracy.tolist()),
        # the distance threshold of the whole set's best fold as a cosine (1 − d²/2)
        threshold_all_pairs=round(1 - float(np.median(accuracy.fold_threshold)) / 2, 6),
        auc=round(roc_auc(scores, is_same), 6),
        eer=round(rate, 6),
        tar_at_far={
            f"{far:g}": None if tar is None else round(tar, 6)
            for far, tar in tar_at_far(scores, is_same).items()
        },
        success_rate=1.0,
        failed_pairs=0,
        failures=Failures(),
        detect_latency=NO_LATENCY,
        embed_latency=latency,
        align_latency=NO_LATENCY,
        detector_cost=None,
        recognizer_cost=None,
        seconds=round(seconds, 2),
        config={
            "protocol": "standard (InsightFace verification: flip-sum, 10-fold squared-distance sweep 0:4:0.01)",
            "set": {"name": dataset.name, "sha256": dataset.sha256, "pairs": len(is_same)},
            "recognizer": recognizer.config,
        },
        decisions=_pack(correct),
        failure_policy=STANDARD_FAILURE_POLICY,
        # InsightFace thresholds are squared distances; as cosines (1 − d²/2) they compare like the rest
        fold_thresholds=tuple(round(1 - float(t) / 2, 6) for t in accuracy.fold_threshold),
        scores=scores.astype(np.float32),
    )
