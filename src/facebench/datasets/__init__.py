"""Benchmark datasets: pair lists and image locations, read from `$FACEBENCH_HOME/data/<name>/`."""

from __future__ import annotations

import os
from pathlib import Path

from facebench.datasets.cfp import load_cfp_pairs as load_cfp_pairs
from facebench.datasets.identities import IdentificationSet as IdentificationSet
from facebench.datasets.lfw import VerificationPairs as VerificationPairs
from facebench.datasets.lfw import load_lfw_pairs as load_lfw_pairs
from facebench.datasets.pairs_csv import load_pairs_csv as load_pairs_csv
from facebench.datasets.pairs_csv import write_pairs_csv as write_pairs_csv
from facebench.errors import FacebenchError

__all__ = [
    "PAIR_DATASETS",
    "IdentificationSet",
    "VerificationPairs",
    "load_cfp_pairs",
    "load_identification_set",
    "load_lfw_pairs",
    "load_pair_dataset",
    "load_pairs_csv",
    "write_pairs_csv",
]

PAIR_DATASETS = ("lfw", "lfw_view1", "cfp_ff", "cfp_fp", "csv:<file>")


def load_pair_dataset(name: str, root: str | os.PathLike[str] | None = None) -> VerificationPairs:
    """A verification dataset by name: ``lfw`` (View 2), ``lfw_view1`` (View 1's 1,000 DevTest pairs,
    one fold), ``cfp_ff``, ``cfp_fp`` or ``csv:<path>``."""
    if name == "lfw":
        return load_lfw_pairs(root)
    if name == "lfw_view1":
        return load_lfw_pairs(root, pairs_file="pairsDevTest.txt")
    if name in ("cfp_ff", "cfp_fp"):
        return load_cfp_pairs(root, "FF" if name == "cfp_ff" else "FP")
    if name.startswith("csv:"):
        return load_pairs_csv(Path(name[4:]), root)
    raise FacebenchError(f"Expected --dataset to be one of {', '.join(PAIR_DATASETS)}, but got {name!r}")


def _home_data(name: str) -> Path:
    home = os.environ.get("FACEBENCH_HOME")
    if not home:
        raise FacebenchError(f"FACEBENCH_HOME is not set: point it at the folder holding data/{name}")
    return Path(home) / "data" / name


def load_identification_set(name: str, root: str | os.PathLike[str] | None = None) -> IdentificationSet:
    """The closed-set identification split of a pair dataset's identities (``--identification``).

    LFW (``lfw``, ``lfw_view1``): every identity with two or more images; its first image (sorted)
    is the gallery entry and the rest are probes (9,164 images of 1,680 people). CFP (``cfp_ff``,
    ``cfp_fp``): each identity's first frontal image is the gallery, its profile images the probes.

    Raises:
        FacebenchError: the dataset has no identities to split (``csv:``), or its files are missing.
    """
    from facebench.datasets.identities import load_cfp_identification, load_identity_folders
    from facebench.datasets.lfw import IMAGE_FOLDER

    if name in ("lfw", "lfw_view1"):
        return load_identity_folders(Path(root or _home_data("lfw")) / IMAGE_FOLDER, min_images=2)
    if name in ("cfp_ff", "cfp_fp"):
        return load_cfp_identification(root or _home_data("cfp"))
    raise FacebenchError(
        f"--identification needs a dataset with identities (lfw, lfw_view1, cfp_ff, cfp_fp), not {name!r}"
    )
