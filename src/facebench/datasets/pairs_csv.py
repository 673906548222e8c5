"""A generic pair list for user data: a CSV with ``path1,path2,label,fold`` columns.

Paths are relative to the CSV's folder (or absolute); ``label`` is 1 for the same person and 0
otherwise; ``fold`` is an integer (use one fold for a single held-out set).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from facebench.datasets.lfw import VerificationPairs
from facebench.errors import FacebenchError

__all__ = ["load_pairs_csv", "write_pairs_csv"]

COLUMNS = ("path1", "path2", "label", "fold")


def load_pairs_csv(path: str | os.PathLike[str]) -> VerificationPairs:
    path = Path(path)
    if not path.is_file():
        raise FacebenchError(f"pair list {path} not found")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
            raise FacebenchError(f"{path}: expected columns {', '.join(COLUMNS)}, got {reader.fieldnames}")
        first, second, same, fold = [], [], [], []
        for number, row in enumerate(reader, 2):
            try:
                label, fold_value = int(row["label"]), int(row["fold"])
            except ValueError:
                raise FacebenchError(f"{path}, line {number}: label and fold must be integers") from None
            if label not in (0, 1):
                raise FacebenchError(f"{path}, line {number}: label must be 0 or 1, got {label}")
            first.append((path.parent / row["path1"]).resolve())
            second.append((path.parent / row["path2"]).resolve())
            same.append(bool(label))
            fold.append(fold_value)
    if not first:
        raise FacebenchError(f"{path} lists no pairs")
    missing = [p for p in set(first) | set(second) if not p.is_file()]
    if missing:
        raise FacebenchError(f"{path}: {len(missing)} listed image(s) are missing, e.g. {sorted(missing)[0]}")
    return VerificationPairs(first, second, np.asarray(same, bool), np.asarray(fold, np.int64))


def write_pairs_csv(pairs: VerificationPairs, path: str | os.PathLike[str]) -> Path:
    """Write ``pairs`` in the format `load_pairs_csv` reads, with absolute image paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for first, second, same, fold in zip(
            pairs.first, pairs.second, pairs.is_same, pairs.fold, strict=True
        ):
            writer.writerow([Path(first).resolve(), Path(second).resolve(), int(same), int(fold)])
    return path
