"""LFW verification pairs (View 2: 10 folds of 300 matched + 300 mismatched pairs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facebench.errors import FacebenchError

__all__ = ["VerificationPairs", "default_lfw_root", "load_lfw_pairs"]

IMAGE_FOLDER = "lfw-deepfunneled"


@dataclass(frozen=True)
class VerificationPairs:
    """Pairs of image paths with a same-identity label and a fold index."""

    first: list[Path]
    second: list[Path]
    is_same: np.ndarray
    fold: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    @property
    def images(self) -> list[Path]:
        """Every distinct image in the pairs, sorted."""
        return sorted(set(self.first) | set(self.second))

    def subset(self, keep: np.ndarray) -> VerificationPairs:
        """The pairs where the boolean mask ``keep`` is true, folds and labels kept."""
        pick = np.flatnonzero(keep)
        return VerificationPairs(
            [self.first[i] for i in pick], [self.second[i] for i in pick], self.is_same[pick], self.fold[pick]
        )


def default_lfw_root() -> Path:
    home = os.environ.get("FACEBENCH_HOME")
    if not home:
        raise FacebenchError(
            "FACEBENCH_HOME is not set: point it at the folder holding data/lfw, or pass the root"
        )
    return Path(home) / "data" / "lfw"


def _image(root: Path, name: str, number: str) -> Path:
    return root / IMAGE_FOLDER / name / f"{name}_{int(number):04d}.jpg"


def load_lfw_pairs(
    root: str | os.PathLike[str] | None = None, pairs_file: str = "pairs.txt"
) -> VerificationPairs:
    """Parse an LFW pair list.

    ``pairs.txt`` starts with ``folds<TAB>pairs_per_class``; each fold then lists its matched pairs
    (``name n1 n2``) followed by its mismatched pairs (``name1 n1 name2 n2``). View-1 lists
    (``pairsDevTrain.txt``) may lack the header; they are read as a single fold.

    Raises:
        FacebenchError: the list is missing, malformed, or names an image that is not there.
    """
    root = Path(root) if root is not None else default_lfw_root()
    path = root / pairs_file
    if not path.is_file():
        raise FacebenchError(f"LFW pair list {path} not found (expected the official {pairs_file})")
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    folds, per_class = 1, None
    if len(lines[0]) == 2 and all(token.isdigit() for token in lines[0]):
        folds, per_class = int(lines[0][0]), int(lines[0][1])
        lines = lines[1:]
    elif len(lines[0]) == 1 and lines[0][0].isdigit():
        lines = lines[1:]
    first, second, same, fold = [], [], [], []
    for index, tokens in enumerate(lines):
        if len(tokens) == 3:
            first.append(_image(root, tokens[0], tokens[1]))
            second.append(_image(root, tokens[0], tokens[2]))
            same.append(True)
        elif len(tokens) == 4:
            first.append(_image(root, tokens[0], tokens[1]))
            second.append(_image(root, tokens[2], tokens[3]))
            same.append(False)
        else:
            raise FacebenchError(f"{path}, pair line {index + 2}: expected 3 or 4 fields, got {len(tokens)}")
        fold.append(index // (2 * per_class) if per_class else 0)
    if per_class and len(first) != folds * 2 * per_class:
        raise FacebenchError(f"{path}: header promises {folds}×{2 * per_class} pairs, found {len(first)}")
    missing = [p for p in set(first) | set(second) if not p.is_file()]
    if missing:
        raise FacebenchError(f"{path}: {len(missing)} listed image(s) are missing, e.g. {sorted(missing)[0]}")
    return VerificationPairs(first, second, np.asarray(same, bool), np.asarray(fold, np.int64))
