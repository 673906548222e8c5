"""InsightFace verification sets (``lfw.bin``, ``cfp_fp.bin``, ``agedb_30.bin``, …), read safely.

A ``.bin`` is a pickle of ``(bins, issame_list)``: ``bins`` holds the encoded images (JPEG or PNG
bytes of 112×112 faces already aligned to the ArcFace template), pair ``i`` is
``(bins[2i], bins[2i+1])`` and ``issame_list[i]`` its label. InsightFace reads it with
``pickle.load``, which runs whatever code a crafted file names. `read_verification_bin` unpickles
with a `find_class` that refuses every global, so only the built-in types the format needs
(bytes, strings, lists, tuples, bools, ints) can be built, and a file that names any callable
(``os.system``, ``builtins.eval``, even ``numpy.bool_``) is refused before anything runs. The
published sets were pickled by Python 2 (strings are bytes) or with protocol ≥ 3 (BINBYTES), which
need no global; a Python 3 protocol-2 pickle of bytes goes through ``_codecs.encode`` and is refused
too (re-save it with protocol 4).

Folds follow InsightFace's evaluation: 10 contiguous folds of pairs (scikit-learn's ``KFold``
without shuffling: the first ``n % 10`` folds one pair larger).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facebench.errors import FacebenchError

__all__ = ["BinVerificationSet", "UnsafePickleError", "read_verification_bin", "write_verification_bin"]


class UnsafePickleError(FacebenchError):
    """A ``.bin`` names a Python global: it could run code, so it is not read."""


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


@dataclass(frozen=True)
class BinVerificationSet:
    """The images and pair labels of one ``.bin`` (images still encoded, decoded on demand)."""

    name: str
    path: Path
    sha256: str
    images: tuple[bytes, ...]
    is_same: np.ndarray

    def __len__(self) -> int:
        return len(self.is_same)

    @property
    def fold(self) -> np.ndarray:
        """InsightFace's 10 contiguous folds of pairs (``KFold(10, shuffle=False)``)."""
        count = len(self.is_same)
        folds = min(10, count)
        sizes = np.full(folds, count // folds)
        sizes[: count % folds] += 1
        return np.repeat(np.arange(folds), sizes)

    def decode(self, index: int) -> np.ndarray:
        """Image ``index`` as RGB uint8 ``(H, W, 3)``.

        Raises:
            FacebenchError: the bytes are not an image (the message names the file and index).
        """
        bgr = cv2.imdecode(np.frombuffer(self.images[index], np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FacebenchError(f"{self.path}: image {index} is not a JPEG/PNG OpenCV can decode")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_verification_bin(path: str | os.PathLike[str]) -> BinVerificationSet:
    """Read an InsightFace verification ``.bin`` without running any code it may carry.

    Raises:
        UnsafePickleError: the file names a Python global (a code-executing payload, or objects
            other than bytes, lists, tuples and bools).
        FacebenchError: missing, not a pickle, or not ``(images, labels)`` with two images per label.
    """
    path = Path(path)
    if not path.is_file():
        raise FacebenchError(f"--dataset bin:{path}: no such file")
    data = path.read_bytes()
    try:
        # encoding="bytes": InsightFace's sets were pickled by Python 2, whose str is bytes
        content = _NoGlobals(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as error:
        if "refused global" in str(error):
            raise UnsafePickleError(
                f"{path}: refused to read it: the pickle names a Python object ({str(error)[15:]}), which "
                "could run code; an InsightFace .bin holds only image bytes and bools"
            ) from None
        raise FacebenchError(f"{path}: not an InsightFace .bin (unreadable pickle: {error})") from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as error:
        raise FacebenchError(f"{path}: not an InsightFace .bin (unreadable pickle: {error!r})") from None
    if not (isinstance(content, (tuple, list)) and len(content) == 2):
        raise FacebenchError(
            f"{path}: expected a pickled (images, issame_list) pair, got {type(content).__name__}"
        )
    images, labels = content
    if not isinstance(images, (list, tuple)) or not all(isinstance(i, (bytes, bytearray)) for i in images):
        raise FacebenchError(f"{path}: the first element must be a list of encoded images (bytes)")
    if not isinstance(labels, (list, tuple)) or not all(isinstance(v, (bool, int)) for v in labels):
        raise FacebenchError(f"{path}: the second element must be a list of bools (same person or not)")
    if len(images) != 2 * len(labels) or not labels:
        raise FacebenchError(f"{path}: {len(images)} images for {len(labels)} pairs; expected two per pair")
    return BinVerificationSet(
        name=path.stem,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        images=tuple(bytes(i) for i in images),
        is_same=np.asarray(labels, bool),
    )


def write_verification_bin(
    path: str | os.PathLike[str], pairs: list[tuple[np.ndarray, np.ndarray]], is_same: list[bool]
) -> Path:
    """Write RGB uint8 image pairs and labels in InsightFace's ``.bin`` format (JPEG quality 95).

    For building a set from aligned faces (a test builds one from LFW); the file is a pickle of
    bytes and bools only, which `read_verification_bin` and InsightFace both read.
    """
    if len(pairs) != len(is_same):
        raise ValueError(f"{len(pairs)} pairs but {len(is_same)} labels")
    images = []
    for first, second in pairs:
        for rgb in (first, second):
            ok, encoded = cv2.imencode(
                ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
            )
            if not ok:
                raise ValueError(f"could not JPEG-encode an image of shape {rgb.shape}")
            images.append(encoded.tobytes())
    path = Path(path)
    # protocol 4 writes bytes as BINBYTES; Python 3's protocol 2 would need the `_codecs.encode` global
    path.write_bytes(pickle.dumps((images, [bool(v) for v in is_same]), protocol=4))
    return path
