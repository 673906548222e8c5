"""Loading model files without executing code from them.

Two independent guards, so that neither alone has to be perfect:

1. the bytes are read once, hashed as read and checked against the weight card
   (`ModelStore.read_verified`), and those same bytes are what gets parsed, so a file swapped
   after the check is never loaded;
2. the parser cannot run code even for a file whose hash matches: torch checkpoints go through
   ``torch.load(weights_only=True)``, and pickled ``.npy`` weight dicts through
   `WeightUnpickler`, which resolves only the handful of numpy globals an array needs and refuses
   every other global by name.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
from typing import Any

import numpy as np

from facebench.zoo.checkpoints import torch_load_bytes
from facebench.zoo.store import ModelStore, default_store

__all__ = ["WeightUnpickler", "load_npy_bytes", "load_npy_verified", "load_torch_weights"]


def _text_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as numpy's Python-2 compatible pickles use it: str → bytes, text codecs only."""
    if not isinstance(text, str) or codecs.lookup(encoding).name not in ("latin-1", "iso8859-1", "utf-8"):
        raise pickle.UnpicklingError(f"refused _codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode(encoding)


def _numpy_globals() -> dict[tuple[str, str], Any]:
    try:  # pickles name numpy.core (1.x) or numpy._core (2.x); both map to the installed module
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]  # one module, two import paths

    allowed: dict[tuple[str, str], Any] = {("_codecs", "encode"): _text_encode}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = multiarray._reconstruct
        allowed[(module, "scalar")] = multiarray.scalar
    for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "ndarray")] = np.ndarray
        allowed[(module, "dtype")] = np.dtype
    return allowed


class WeightUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild arrays, dtypes and plain containers, and nothing else.

    A weight dict pickled by numpy references only ``_reconstruct``, ``ndarray``, ``dtype``,
    ``scalar`` and (for Python-2 era files) ``_codecs.encode``; dicts, lists, tuples, strings and
    numbers need no global at all. Any other global (``os.system``, ``builtins.eval``,
    ``subprocess.Popen`` …) raises `pickle.UnpicklingError` before it is called.
    """

    _ALLOWED = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load global {module}.{name}: a weight file may only contain numpy arrays "
                "and plain containers"
            ) from None


def load_npy_bytes(data: bytes, name: str = "<bytes>") -> Any:
    """Parse ``.npy`` bytes; an object array is unpickled by `WeightUnpickler`, never by pickle.

    Returns:
        The array, or the object it wraps when it is a 0-d object array (a pickled dict).

    Raises:
        pickle.UnpicklingError: the file needs a global outside the allow-list, or is not a
            valid ``.npy``.
    """
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(stream)  # parsed with literal_eval: runs nothing
    except (ValueError, SyntaxError, KeyError, TypeError) as error:
        raise pickle.UnpicklingError(f"{name} is not a valid .npy file: {error}") from None
    if not dtype.hasobject:
        stream.seek(0)
        return np.load(stream, allow_pickle=False)
    value = WeightUnpickler(stream).load()
    if not isinstance(value, np.ndarray) or value.shape != shape:
        raise pickle.UnpicklingError(
            f"{name}: the pickled payload is not the declared array of shape {shape}"
        )
    if fortran:
        value = np.asfortranarray(value)
    return value[()] if value.shape == () else value


def load_torch_weights(
    model: str,
    filename: str | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    store: ModelStore | None = None,
    safe_globals: list[Any] | None = None,
) -> Any:
    """``torch.load(..., weights_only=True)`` of the verified bytes: tensors and containers only.

    Args:
        safe_globals: extra types a legacy checkpoint needs (numpy scalars), allowed for this load
            only, never arbitrary callables.
    """
    resolved, data = (store or default_store()).read_verified(model, filename, path=path)
    return torch_load_bytes(data, str(resolved), safe_globals=safe_globals)


def load_npy_verified(
    model: str,
    filename: str | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    store: ModelStore | None = None,
) -> Any:
    """Load a ``.npy`` weight file (a pickled dict of arrays) from its verified bytes, restrictedly."""
    resolved, data = (store or default_store()).read_verified(model, filename, path=path)
    return load_npy_bytes(data, str(resolved))
