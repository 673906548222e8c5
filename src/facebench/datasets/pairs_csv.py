"""A generic pair list for user data: a CSV with ``path1,path2,label,fold`` columns.

Paths are relative to the CSV's folder (or absolute); ``label`` is 1 for the same person and 0
otherwise; ``fold`` is an integer (use one fold for a single held-out set).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from facebench.atomic import atomic_open
from facebench.datasets.lfw import VerificationPairs
from facebench.errors import FacebenchError

__all__ = ["load_pairs_csv", "write_pairs_csv"]

COLUMNS = ("path1", "path2", "label", "fold")


def load_pairs_csv(path: str | os.PathLike[str]) -> VerificationPairs:
    """Read a pair list; every problem is a `FacebenchError` naming the file and the line.

    The file must be UTF-8 (a byte-order mark is accepted). Listed images are not opened here:
    one that is missing or unreadable is counted and named by the benchmark, never fatal.
    """
    path = Path(path)
    if not path.is_file():
        raise FacebenchError(f"pair list {path} not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FacebenchError(
            f"{path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start}); "
            "save it as UTF-8"
        ) from None
    except OSError as error:
        raise FacebenchError(f"cannot read pair list {path}: {error.strerror or error}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
        raise FacebenchError(f"{path}: expected columns {', '.join(COLUMNS)}, got {reader.fieldnames}")
    first, second, same, fold = [], [], [], []
    for row in reader:
        number = reader.line_num
        if any(row.get(column) in (None, "") for column in COLUMNS):
            empty = [column for column in COLUMNS if row.get(column) in (None, "")]
            raise FacebenchError(f"{path}, line {number}: no value for {', '.join(empty)}")
        try:
            label, fold_value = int(row["label"]), int(row["fold"])
        except ValueError:
            raise FacebenchError(
                f"{path}, line {number}: label and fold must be integers, got {row['label']!r}, {row['fold']!r}"
            ) from None
        if label not in (0, 1):
            raise FacebenchError(f"{path}, line {number}: label must be 0 or 1, got {label}")
        # abspath, not resolve: a symlink loop in the list is the benchmark's to report, not a crash here
        first.append(Path(os.path.abspath(path.parent / row["path1"])))
        second.append(Path(os.path.abspath(path.parent / row["path2"])))
        same.append(bool(label))
        fold.append(fold_value)
    if not first:
        raise FacebenchError(f"{path} lists no pairs")
    return VerificationPairs(first, second, np.asarray(same, bool), np.asarray(fold, np.int64))


def write_pairs_csv(pairs: VerificationPairs, path: str | os.PathLike[str]) -> Path:
    """Write ``pairs`` in the format `load_pairs_csv` reads, with absolute image paths."""
    path = Path(path)
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for first, second, same, fold in zip(
            pairs.first, pairs.second, pairs.is_same, pairs.fold, strict=True
        ):
            writer.writerow([Path(first).resolve(), Path(second).resolve(), int(same), int(fold)])
    return path
