"""Model files written by ``facebench train``: atomic saves with a sha256 sidecar, verified loads.

A trained model has no weight card with a published digest, so the trainer records the digest of
every file it writes in ``<file>.sha256``; loading checks the file against it before reading a byte
as data, and reads only tensors and plain containers (``weights_only=True``).
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

from facebench.errors import FacebenchError
from facebench.zoo.hashing import sha256_bytes, sha256_file

__all__ = ["load_checkpoint", "save_checkpoint", "torch_load_bytes"]


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
    data = path.read_bytes()  # hashed and parsed from the same bytes: no swap between check and load
    actual = sha256_bytes(data)
    if actual != expected:
        raise FacebenchError(f"checkpoint {path}: sha256 {actual} does not match {sidecar.name} ({expected})")
    return torch_load_bytes(data, str(path), map_location=map_location)


def torch_load_bytes(
    data: bytes, name: str, *, map_location: str = "cpu", safe_globals: list[Any] | None = None
) -> Any:
    """``torch.load(weights_only=True)`` of verified bytes; a refusal is one `FacebenchError` line.

    Args:
        safe_globals: extra types a legacy checkpoint needs (numpy scalars), for this load only.
    """
    import torch

    try:
        with torch.serialization.safe_globals(safe_globals or []), warnings.catch_warnings():
            # quantized checkpoints trigger torch's own deprecation notes about storage APIs
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\._utils")
            return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message suggests weights_only=False, which would run the file's code: never
        raise FacebenchError(
            f"model file {name} holds more than tensors and plain containers ({_weights_only_reason(error)}); "
            "facebench does not execute code from model files, so it cannot load it"
        ) from None
    except (RuntimeError, EOFError, ValueError) as error:
        raise FacebenchError(f"model file {name} is not a readable torch checkpoint: {error}") from None


def _weights_only_reason(error: BaseException) -> str:
    """The line of torch's weights_only refusal that names what was refused (not its advice)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or "Unsupported" in line or "unsupported" in line:
            return line.rstrip(".")
    return lines[-1] if lines else type(error).__name__
