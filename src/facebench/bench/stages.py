"""Per-image pipeline stages (detect, align + embed) backed by the result store.

Each stage computes only the images the store does not already hold for the same model
configuration, so a re-run, an added model or a resumed run does only the new work. Each stored row
ends with the milliseconds its computation took, so latency percentiles are the same whether a run
was cold or read everything from the store.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from facebench.bench.store import ResultStore, image_key
from facebench.detectors import Detector
from facebench.errors import ImageError
from facebench.image import load_image
from facebench.recognizers import Recognizer
from facebench.types import NUM_LANDMARKS, Face

__all__ = ["DETECTION_WIDTH", "StageResult", "detect_central_faces", "embed_central_faces", "face_from_row"]

#: box (4), score (1), landmarks (10), image width and height (2), milliseconds (1)
DETECTION_WIDTH = 4 + 1 + 2 * NUM_LANDMARKS + 2 + 1


@dataclass
class StageResult:
    """Rows per image path (without the timing column), the per-image milliseconds, and the
    images that could not be processed, each with its reason (never cached: retried next run)."""

    rows: dict[str, np.ndarray]
    milliseconds: list[float] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def _split(stored: dict[str, np.ndarray], keys: dict[str, str]) -> StageResult:
    rows = {path: stored[key][:-1] for path, key in keys.items()}
    timings = [
        float(stored[key][-1]) for key in dict.fromkeys(keys.values()) if not np.isnan(stored[key][-1])
    ]
    return StageResult(rows, timings)


def _progress(label: str, show: bool) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not show,
    )


def face_from_row(row: np.ndarray) -> Face | None:
    """The `Face` stored in a detection row, or ``None`` when no face was found."""
    if np.isnan(row[:5]).any():
        return None
    landmarks = row[5:15].reshape(NUM_LANDMARKS, 2)
    return Face(box=row[:4], score=float(row[4]), landmarks=None if np.isnan(landmarks).any() else landmarks)


def detect_central_faces(
    detector: Detector, images: Sequence[Path], store: ResultStore, *, show_progress: bool = True
) -> StageResult:
    """For each image, the detected face closest to the image centre (NaN row when none).

    Benchmark datasets (LFW, CFP) centre their subject; an unreadable image is a NaN row too,
    counted as a failure downstream, never fatal.
    """
    config = store.register({"stage": "detect", **detector.config})
    keys = {str(path): image_key(path) for path in images}
    cached = store.get_many("detect", config, keys.values())
    todo = [path for path in images if keys[str(path)] not in cached]
    failures: dict[str, str] = {}
    with _progress(f"detect  {detector.name}", show_progress) as progress:
        task = progress.add_task("detect", total=len(todo))
        for path in todo:
            row = np.full(DETECTION_WIDTH, np.nan, np.float32)
            try:
                rgb = load_image(path)
                start = time.perf_counter()
                faces = detector.detect_faces(rgb)
                row[-1] = (time.perf_counter() - start) * 1000
                if len(faces):
                    centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2], np.float32)
                    best = int(
                        np.argmin(
                            np.linalg.norm((faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2 - centre, axis=1)
                        )
                    )
                    row[:4], row[4], row[5:15] = (
                        faces.boxes[best],
                        faces.scores[best],
                        faces.landmarks[best].reshape(-1),
                    )
                row[15:17] = rgb.shape[1], rgb.shape[0]
            except ImageError as error:
                # counted as a missed face downstream, named in the results, and not cached, so a
                # repaired file is read on the next run
                failures[str(path)] = error.reason
                cached[keys[str(path)]] = row
                progress.advance(task)
                continue
            store.put("detect", config, keys[str(path)], row)
            cached[keys[str(path)]] = row
            progress.advance(task)
    store.commit()
    result = _split(cached, keys)
    result.failures = failures
    return result


def embed_central_faces(
    recognizer: Recognizer,
    method: AlignMethod,
    detector: Detector,
    detections: dict[str, np.ndarray],
    store: ResultStore,
    *,
    show_progress: bool = True,
) -> StageResult:
    """The embedding of each image's central face (NaN where there is none or alignment failed)."""
    config = store.register(
        {"stage": "embed", "align": method, **recognizer.config, "detector": detector.config}
    )
    keys = {path: image_key(path) for path in detections}
    cached = store.get_many("embed", config, keys.values())
    todo = [path for path in detections if keys[path] not in cached]
    with _progress(f"embed   {recognizer.name} ({method})", show_progress) as progress:
        task = progress.add_task("embed", total=len(todo))
        for path in todo:
            embedding = np.full(recognizer.embedding_dim + 1, np.nan, np.float32)  # + milliseconds
            face = face_from_row(detections[path])
            if face is not None:
                with contextlib.suppress(ImageError, ValueError):
                    rgb = load_image(path)
                    start = time.perf_counter()
                    embedding[:-1] = recognizer.embed_faces(rgb, [face], method)[0]
                    embedding[-1] = (time.perf_counter() - start) * 1000
            store.put("embed", config, keys[path], embedding)
            cached[keys[path]] = embedding
            progress.advance(task)
    store.commit()
    return _split(cached, keys)
