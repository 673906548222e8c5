"""CFP (Celebrities in Frontal-Profile) in its official release layout: frontal-frontal and frontal-profile.

<root>/Protocol/Pair_list_F.txt      "<index> <path>" for every frontal image (paths relative to Protocol/)
<root>/Protocol/Pair_list_P.txt      the same for profile images
<root>/Protocol/Split/FF/01..10/{same,diff}.txt   "<i>,<j>": frontal i vs frontal j
<root>/Protocol/Split/FP/01..10/{same,diff}.txt   "<i>,<j>": frontal i vs profile j
<root>/Data/Images/NNN/{frontal,profile}/NN.jpg
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from facebench.datasets.lfw import VerificationPairs
from facebench.errors import FacebenchError

__all__ = ["load_cfp_pairs"]


def _index(path: Path) -> dict[int, Path]:
    if not path.is_file():
        raise FacebenchError(f"CFP list {path} not found (expected the official release layout)")
    table = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise FacebenchError(f"{path}, line {number}: expected '<index> <path>', got {line!r}")
        table[int(parts[0])] = (path.parent / parts[1]).resolve()
    return table


def load_cfp_pairs(root: str | os.PathLike[str] | None, protocol: Literal["FF", "FP"]) -> VerificationPairs:
    """The 10 folds × (350 same + 350 different) pairs of CFP's FF or FP protocol."""
    if root is None:
        home = os.environ.get("FACEBENCH_HOME")
        if not home:
            raise FacebenchError("FACEBENCH_HOME is not set: point it at the folder holding data/cfp")
        root = Path(home) / "data" / "cfp"
    protocol_dir = Path(root) / "Protocol"
    frontal = _index(protocol_dir / "Pair_list_F.txt")
    second_list = frontal if protocol == "FF" else _index(protocol_dir / "Pair_list_P.txt")
    split_dir = protocol_dir / "Split" / protocol
    folds = sorted(p for p in split_dir.iterdir() if p.is_dir()) if split_dir.is_dir() else []
    if not folds:
        raise FacebenchError(f"no fold folders under {split_dir}")
    first, second, same, fold = [], [], [], []
    for fold_index, folder in enumerate(folds):
        for name, label in (("same.txt", True), ("diff.txt", False)):
            path = folder / name
            if not path.is_file():
                raise FacebenchError(f"CFP split file {path} is missing")
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    i, j = (int(v) for v in line.replace(" ", "").split(","))
                    first.append(frontal[i])
                    second.append(second_list[j])
                except (ValueError, KeyError) as error:
                    raise FacebenchError(f"{path}, line {number}: bad pair {line!r} ({error})") from None
                same.append(label)
                fold.append(fold_index)
    missing = [p for p in set(first) | set(second) if not p.is_file()]
    if missing:
        raise FacebenchError(f"CFP: {len(missing)} listed image(s) are missing, e.g. {sorted(missing)[0]}")
    return VerificationPairs(first, second, np.asarray(same, bool), np.asarray(fold, np.int64))
