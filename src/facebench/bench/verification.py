"""Pair verification end to end (LFW protocol), with detections and embeddings cached per image.

For each image the face closest to the image centre is taken (LFW's subject is centred). An
image where no face is found, or that cannot be read, gets a NaN embedding; its pairs score NaN
and count as "different" in the accuracy, and are reported as failures, never dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from facebench.align import AlignMethod
from facebench.datasets.lfw import VerificationPairs
from facebench.detectors import Detector
from facebench.errors import ImageError
from facebench.image import load_image
from facebench.metrics.roc import eer, roc_auc, tar_at_far
from facebench.metrics.verification import KFoldResult, best_threshold, kfold_accuracy
from facebench.recognizers import Recognizer
from facebench.types import NUM_LANDMARKS

__all__ = ["VerificationRun", "central_faces", "embed_images", "pair_scores", "run_verification"]

_SAVE_EVERY = 500


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


def _load_cache(path: Path, width: int) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    data = np.load(path, allow_pickle=False)  # facebench's own cache: plain arrays only
    return {
        key: row
        for key, row in zip(data["keys"].tolist(), data["values"], strict=True)
        if row.shape[-1] == width
    }


def _save_cache(path: Path, cache: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.npz")
    keys = sorted(cache)
    np.savez(tmp, keys=np.asarray(keys), values=np.stack([cache[k] for k in keys]))
    tmp.replace(path)


def central_faces(detector: Detector, images: Sequence[Path], cache_file: Path) -> dict[str, np.ndarray]:
    """Per image: a row of box (4), score (1), landmarks (10), image width and height (2).

    Rows are NaN where no face was found or the image was unreadable.
    """
    width = 4 + 1 + 2 * NUM_LANDMARKS + 2
    cache = _load_cache(cache_file, width)
    todo = [p for p in images if str(p) not in cache]
    with _progress(f"detect ({detector.name})") as progress:
        task = progress.add_task("detect", total=len(todo))
        for index, path in enumerate(todo):
            row = np.full(width, np.nan, np.float32)
            try:
                rgb = load_image(path)
                faces = detector.detect_faces(rgb)
                if len(faces):
                    centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2], np.float32)
                    centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
                    best = int(np.argmin(np.linalg.norm(centres - centre, axis=1)))
                    row[:4], row[4] = faces.boxes[best], faces.scores[best]
                    row[5:15] = faces.landmarks[best].reshape(-1)
                row[15:] = rgb.shape[1], rgb.shape[0]
            except ImageError:
                pass  # counted as a failure by the caller through the NaN row
            cache[str(path)] = row
            progress.advance(task)
            if (index + 1) % _SAVE_EVERY == 0:
                _save_cache(cache_file, cache)
    if todo:
        _save_cache(cache_file, cache)
    return {str(p): cache[str(p)] for p in images}


def embed_images(
    recognizer: Recognizer,
    detections: dict[str, np.ndarray],
    method: AlignMethod,
    cache_file: Path,
) -> dict[str, np.ndarray]:
    """Per image: the embedding of its central face (NaN when there is none)."""
    from facebench.types import Face

    width = recognizer.embedding_dim
    cache = _load_cache(cache_file, width)
    todo = [key for key in detections if key not in cache]
    with _progress(f"embed ({recognizer.name})") as progress:
        task = progress.add_task("embed", total=len(todo))
        for index, key in enumerate(todo):
            row = detections[key]
            embedding = np.full(width, np.nan, np.float32)
            if not np.isnan(row[:5]).any():
                landmarks = row[5:15].reshape(NUM_LANDMARKS, 2)
                face = Face(
                    box=row[:4],
                    score=float(row[4]),
                    landmarks=None if np.isnan(landmarks).any() else landmarks,
                )
                with contextlib.suppress(ImageError, ValueError):  # recorded as a NaN embedding
                    embedding = recognizer.embed_faces(load_image(key), [face], method)[0]
            cache[key] = embedding
            progress.advance(task)
            if (index + 1) % _SAVE_EVERY == 0:
                _save_cache(cache_file, cache)
    if todo:
        _save_cache(cache_file, cache)
    return {key: cache[key] for key in detections}


def _digest(config: dict[str, Any]) -> str:
    """A short stable digest of a configuration (Python's hash() changes between processes)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:10]


def pair_scores(
    pairs: VerificationPairs, embeddings: dict[str, np.ndarray], recognizer: Recognizer
) -> np.ndarray:
    """The recognizer's similarity for each pair (NaN when either face is missing)."""
    first = np.stack([embeddings[str(p)] for p in pairs.first])
    second = np.stack([embeddings[str(p)] for p in pairs.second])
    return recognizer.similarity(first, second)


@dataclass
class VerificationRun:
    detector: str
    recognizer: str
    align: str
    accuracy: KFoldResult
    failed_images: int
    failed_pairs: int
    pairs: int
    seconds: float
    #: the accuracy-maximising threshold over all pairs (the recognizer's calibrated default)
    threshold_all_pairs: float = float("nan")
    auc: float = float("nan")
    eer: float = float("nan")
    tar_at_far: dict[float, float | None] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "recognizer": self.recognizer,
            "align": self.align,
            "accuracy_mean": round(self.accuracy.mean, 6),
            "accuracy_std": round(self.accuracy.std, 6),
            "fold_accuracy": [round(a, 6) for a in self.accuracy.fold_accuracy.tolist()],
            "fold_threshold": [round(t, 6) for t in self.accuracy.fold_threshold.tolist()],
            "threshold_all_pairs": round(self.threshold_all_pairs, 6),
            "auc": round(self.auc, 6),
            "eer": round(self.eer, 6),
            "tar_at_far": {
                f"{far:g}": None if tar is None else round(tar, 6) for far, tar in self.tar_at_far.items()
            },
            "failed_images": self.failed_images,
            "failed_pairs": self.failed_pairs,
            "pairs": self.pairs,
            "seconds": round(self.seconds, 1),
            "config": self.config,
        }


def run_verification(
    pairs: VerificationPairs,
    detector: Detector,
    recognizer: Recognizer,
    method: AlignMethod,
    out_dir: Path,
) -> VerificationRun:
    """Detect, align, embed and score every pair; caches live in ``out_dir``."""
    start = time.perf_counter()
    detector_key = f"{detector.name}-{_digest(detector.config)}"
    detections = central_faces(detector, pairs.images, out_dir / "cache" / f"det_{detector_key}.npz")
    variant = ("-flip" if recognizer.flip else "") + ("" if recognizer.normalize else "-raw")
    recognizer_key = f"{recognizer.name}{variant}-{method}-{detector_key}"
    embeddings = embed_images(recognizer, detections, method, out_dir / "cache" / f"emb_{recognizer_key}.npz")
    scores = pair_scores(pairs, embeddings, recognizer)
    failed_images = int(sum(np.isnan(v).any() for v in embeddings.values()))
    return VerificationRun(
        detector=detector.name,
        recognizer=recognizer.name,
        align=method,
        accuracy=kfold_accuracy(scores, pairs.is_same, pairs.fold),
        failed_images=failed_images,
        failed_pairs=int(np.isnan(scores).sum()),
        pairs=len(pairs),
        seconds=time.perf_counter() - start,
        threshold_all_pairs=best_threshold(np.where(np.isnan(scores), -np.inf, scores), pairs.is_same)[0],
        auc=roc_auc(scores, pairs.is_same),
        eer=eer(scores, pairs.is_same)[0],
        tar_at_far=tar_at_far(scores, pairs.is_same),
        config={"detector": detector.config, "recognizer": recognizer.config},
    )
