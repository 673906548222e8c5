"""WIDER FACE detection evaluation: official-format submission files and AP per difficulty."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from facebench.atomic import atomic_write_text
from facebench.datasets.widerface import DIFFICULTIES, WiderFaceVal
from facebench.detectors import Detector
from facebench.errors import ImageError
from facebench.image import load_image
from facebench.metrics.widerface import widerface_ap
from facebench.progress import progress

__all__ = ["evaluate_widerface", "write_submission_file"]


def write_submission_file(path: Path, name: str, rows_xywhs: np.ndarray) -> None:
    """One image's detections in the WIDER submission format: name, count, ``x y w h score`` lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [name, str(len(rows_xywhs))]
    lines += [" ".join(f"{value:.3f}" for value in row[:4]) + f" {row[4]:.6f}" for row in rows_xywhs]
    atomic_write_text(path, "\n".join(lines) + "\n")


def evaluate_widerface(detector: Detector, dataset: WiderFaceVal, out_dir: Path) -> dict[str, Any]:
    """Detect every present val image, write ``detections/`` and ``ap.json``; return the record.

    An unreadable image is written with zero detections and counted in ``failed_images``.
    """
    detections, failed = [], []
    start = time.perf_counter()
    with progress(f"WIDER FACE ({detector.name})", len(dataset.images)) as reporter:
        for image in dataset.images:
            rows = np.zeros((0, 5))
            try:
                faces = detector.detect_faces(load_image(image.path))
                boxes = faces.boxes.astype(np.float64)
                rows = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2], faces.scores])
            except ImageError:
                failed.append(str(image.path))
            detections.append(rows)
            write_submission_file(
                out_dir / "detections" / image.event / f"{image.name}.txt", image.name, rows
            )
            reporter.advance()
    ap = {
        difficulty: round(
            widerface_ap(
                detections,
                [i.boxes_xywh for i in dataset.images],
                [i.kept[difficulty] for i in dataset.images],
            ),
            6,
        )
        for difficulty in DIFFICULTIES
    }
    record = {
        "detector": detector.name,
        **ap,
        "images_evaluated": len(dataset.images),
        "events": sorted({i.event for i in dataset.images}),
        "restriction": dataset.restriction,
        "input_size": str(detector.input_size),
        "config": detector.config,
        "failed_images": failed,
        "seconds": round(time.perf_counter() - start, 1),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "ap.json", json.dumps(record, indent=2))
    return record
