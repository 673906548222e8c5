"""Loading model files without executing code from them.

Each loader resolves the file through the model store, which has checked its sha256 against the
weight card before the loader reads a single byte as data.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from facebench.zoo.store import ModelStore, default_store

__all__ = ["load_npy_verified", "load_torch_weights"]


def load_torch_weights(
    model: str,
    filename: str | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    store: ModelStore | None = None,
    safe_globals: list[Any] | None = None,
) -> Any:
    """``torch.load(..., weights_only=True)`` of a verified file: tensors and containers only.

    Args:
        safe_globals: extra types a legacy checkpoint needs (numpy scalars), allowed for this load
            only, never arbitrary callables.
    """
    import torch

    resolved = (store or default_store()).resolve(model, filename, path=path)
    with torch.serialization.safe_globals(safe_globals or []), warnings.catch_warnings():
        # quantized checkpoints trigger torch's own deprecation notes about storage APIs
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\._utils")
        return torch.load(resolved, map_location="cpu", weights_only=True)


def load_npy_verified(
    model: str,
    filename: str | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    store: ModelStore | None = None,
) -> Any:
    """Load a pickled ``.npy`` (a dict of arrays) only after its sha256 matched the weight card."""
    resolved: Path = (store or default_store()).resolve(model, filename, path=path)
    array = np.load(resolved, allow_pickle=True)  # safe: hash verified against the pinned card above
    return array[()] if array.dtype == object and array.shape == () else array
