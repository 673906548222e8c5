"""Streaming sha256 of model files, computed afresh on every call.

There is deliberately no verdict cache: a cache keyed by (path, size, mtime) can be fooled by a
file rewritten in place with its size and mtime restored (``touch -r``), and then a tampered file
would be loaded as verified. Every weight file facebench ships is a few MB, and hashing runs at
about 1 GB/s, so re-hashing on every load costs milliseconds (``benchmarks/hash_cost.py``).
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["sha256_bytes", "sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The full sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """The full sha256 hex digest of bytes already in memory."""
    return hashlib.sha256(data).hexdigest()
