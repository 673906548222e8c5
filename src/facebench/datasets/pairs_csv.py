"""A generic pair list for user data: a CSV with ``path1,path2,label[,fold]`` columns.

Relative paths resolve against ``root`` when one is given (``--data-root``), else against the
CSV's own folder; absolute paths are kept. ``label`` is 1 for the same person and 0 otherwise;
``fold`` is an integer (one fold for a single held-out set). Without a ``fold`` column the pairs
get `stratified_folds`: up to 10 folds, each with its share of same and different pairs.
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

__all__ = ["load_pairs_csv", "stratified_folds", "write_pairs_csv"]

COLUMNS = ("path1", "path2", "label", "fold")
REQUIRED = ("path1", "path2", "label")


def stratified_folds(is_same: np.ndarray, folds: int = 10) -> np.ndarray:
    """Fold ids for pairs without any: same and different pairs are each cut, in file order, into
    ``k`` contiguous blocks, ``k = min(folds, same pairs, different pairs)`` (1 when a label is
    missing), so every fold holds both labels in the list's proportion. Deterministic."""
    is_same = np.asarray(is_same, bool)
    count = int(max(1, min(folds, is_same.sum(), (~is_same).sum())))
    fold = np.zeros(len(is_same), np.int64)
    for label in (True, False):
        members = np.flatnonzero(is_same == label)
        fold[members] = np.arange(len(members)) * count // max(1, len(members))
    return fold


def load_pairs_csv(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> VerificationPairs:
    """Read a pair list; every problem is a `FacebenchError` naming the file and the line.

    ``root``: the folder relative image paths resolve against (default: the CSV's folder).

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
    if reader.fieldnames is None or not set(REQUIRED) <= set(reader.fieldnames):
        raise FacebenchError(
            f"{path}: expected columns {', '.join(REQUIRED)} (and optionally fold), got {reader.fieldnames}"
        )
    has_fold = "fold" in reader.fieldnames
    columns = COLUMNS if has_fold else REQUIRED
    base = Path(root) if root is not None else path.parent
    first, second, same, fold = [], [], [], []
    for row in reader:
        number = reader.line_num
        if any(row.get(column) in (None, "") for column in columns):
            empty = [column for column in columns if row.get(column) in (None, "")]
            raise FacebenchError(f"{path}, line {number}: no value for {', '.join(empty)}")
        try:
            label, fold_value = int(row["label"]), int(row["fold"]) if has_fold else 0
        except ValueError:
            raise FacebenchError(
                f"{path}, line {number}: label and fold must be integers, got {row['label']!r}, {row.get('fold')!r}"
            ) from None
        if label not in (0, 1):
            raise FacebenchError(f"{path}, line {number}: label must be 0 or 1, got {label}")
        # abspath, not resolve: a symlink loop in the list is the benchmark's to report, not a crash here
        first.append(Path(os.path.abspath(base / row["path1"])))
        second.append(Path(os.path.abspath(base / row["path2"])))
        same.append(bool(label))
        fold.append(fold_value)
    if not first:
        raise FacebenchError(f"{path} lists no pairs")
    labels = np.asarray(same, bool)
    folds = np.asarray(fold, np.int64) if has_fold else stratified_folds(labels)
    return VerificationPairs(first, second, labels, folds)


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
