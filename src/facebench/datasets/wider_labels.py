"""WIDER-format face annotations for training detectors: boxes, and 5 landmarks where labelled."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facebench.errors import FacebenchError
from facebench.types import NUM_LANDMARKS

__all__ = ["DetectionSample", "read_wider_annotations"]

logger = logging.getLogger("facebench")


@dataclass
class DetectionSample:
    path: Path
    boxes_xyxy: np.ndarray  # (N, 4) pixels
    landmarks: np.ndarray  # (N, 5, 2) pixels; rows without landmarks are −1
    has_landmarks: np.ndarray  # (N,) bool


def read_wider_annotations(
    labels: str | Path, images: str | Path, *, skip_missing: bool = False
) -> list[DetectionSample]:
    """Samples from a WIDER-format annotation file, images under ``images``.

    Two layouts are read (told apart by the first line):

    * RetinaFace's ``label.txt``: ``# <relative path>``, then one line per face:
      ``x y w h`` and optionally 5 × ``(x, y, visibility)`` landmarks (−1 when absent) and a score.
    * the official ``wider_face_*_bbx_gt.txt``: path, face count, then ``x y w h blur expression
      illumination invalid occlusion pose`` per face (boxes only; faces marked invalid are dropped).

    Raises:
        FacebenchError: a line is malformed, or annotated images are missing (unless ``skip_missing``).
    """
    labels, images = Path(labels), Path(images)
    try:
        lines = [line.strip() for line in labels.read_text().splitlines() if line.strip()]
    except OSError as error:
        raise FacebenchError(f"cannot read annotations {labels}: {error.strerror or error}") from None
    if not lines:
        raise FacebenchError(f"annotation file {labels} is empty")
    samples: list[DetectionSample] = []

    def add(path: str, rows: list[list[float]], with_landmarks: bool, where: str) -> None:
        boxes, points, flags = [], [], []
        for row in rows:
            x, y, w, h = row[:4]
            if w <= 0 or h <= 0:
                continue
            boxes.append([x, y, x + w, y + h])
            if with_landmarks and len(row) >= 4 + 3 * NUM_LANDMARKS and row[4] >= 0:
                marks = np.array(row[4 : 4 + 3 * NUM_LANDMARKS], np.float32).reshape(NUM_LANDMARKS, 3)[:, :2]
                points.append(marks)
                flags.append(True)
            else:
                points.append(np.full((NUM_LANDMARKS, 2), -1.0, np.float32))
                flags.append(False)
        if not boxes:
            return  # an image with no usable face teaches only background; skipped as the reference does
        samples.append(
            DetectionSample(
                images / path,
                np.array(boxes, np.float32),
                np.stack(points).astype(np.float32),
                np.array(flags, bool),
            )
        )

    def numbers(line: str, where: str) -> list[float]:
        try:
            return [float(v) for v in line.split()]
        except ValueError:
            raise FacebenchError(f"{where}: expected numbers, got {line!r}") from None

    if lines[0].startswith("#"):
        path: str | None = None
        rows: list[list[float]] = []
        for number, line in enumerate(lines, 1):
            if line.startswith("#"):
                if path is not None:
                    add(path, rows, True, f"{labels}:{number}")
                path, rows = line[1:].strip(), []
            else:
                rows.append(numbers(line, f"{labels}:{number}"))
        if path is not None:
            add(path, rows, True, str(labels))
    else:
        index = 0
        while index < len(lines):
            path = lines[index]
            try:
                count = int(lines[index + 1])
            except (IndexError, ValueError):
                raise FacebenchError(f"{labels}:{index + 2}: expected the face count of {path}") from None
            rows = [
                numbers(line, f"{labels}:{index + 3 + i}")
                for i, line in enumerate(lines[index + 2 : index + 2 + max(count, 1)])
            ]
            valid = [row for row in rows[:count] if len(row) < 8 or row[7] == 0]
            add(path, valid, False, f"{labels}:{index + 1}")
            index += 2 + max(count, 1)
    missing = [sample.path for sample in samples if not sample.path.is_file()]
    if missing and not skip_missing:
        raise FacebenchError(
            f"{len(missing)} of {len(samples)} images annotated in {labels} are missing under {images} "
            f"(first: {missing[0]}); set data.skip_missing: true to train on the present ones"
        )
    if missing:
        logger.warning("%d of %d annotated images are missing and left out", len(missing), len(samples))
        samples = [sample for sample in samples if sample.path.is_file()]
    if not samples:
        raise FacebenchError(f"no annotated image with a face was found under {images}")
    return samples
