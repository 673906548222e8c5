"""Model files written by ``facebench train``: atomic saves with a sha256 sidecar, verified loads.

A trained model has no weight card with a published digest, so the trainer records the digest of
every file it writes in ``<file>.sha256``; loading checks the file against it before reading a byte
as data, and reads only tensors and plain containers (``weights_only=True``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from facebench.errors import FacebenchError
from facebench.zoo.hashing import sha256_file

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """``torch.save`` ``payload`` to ``path`` atomically and write its sha256 beside it."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    torch.save(payload, partial)
    digest = sha256_file(partial)
    partial.replace(path)
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return path


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str = "cpu") -> dict[str, Any]:
    """A checkpoint written by `save_checkpoint`, after checking its sha256 sidecar.

    Raises:
        FacebenchError: the file or its sidecar is missing, or the digest does not match.
    """
    import torch

    path = Path(path)
    sidecar = path.with_name(path.name + ".sha256")
    if not path.is_file():
        raise FacebenchError(f"checkpoint {path} does not exist")
    if not sidecar.is_file():
        raise FacebenchError(
            f"checkpoint {path} has no {sidecar.name}: facebench loads only checkpoints whose sha256 it "
            "recorded when saving them"
        )
    expected = sidecar.read_text().split()[0]
    actual = sha256_file(path)
    if actual != expected:
        raise FacebenchError(f"checkpoint {path}: sha256 {actual} does not match {sidecar.name} ({expected})")
    return torch.load(path, map_location=map_location, weights_only=True)
