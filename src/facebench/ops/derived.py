"""Model files derived from verified weights (ONNX exports, graphs with freed input sizes), cached.

A derived file lives under the model store's cache folder, named by a digest of everything that
shaped it, with its sha256 recorded beside it (``NAME.sha256``) once it was checked against the
model it came from. A reader gets its bytes only while they still match that record; the caller
then checks them against the source model again (a probe batch), since whoever can rewrite the
file can rewrite the record too.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from facebench._log import logger
from facebench.zoo.hashing import sha256_bytes

__all__ = ["mark_recorded", "read_recorded", "temporary_beside", "write_recorded"]


def temporary_beside(path: Path) -> Path:
    """A new, unique file next to ``path``: two processes writing the same file at once (two test
    workers, two runs) never write into each other's file before the atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(descriptor)
    os.chmod(name, 0o644)  # readable like any model file, not mkstemp's owner-only 0600
    return Path(name)


def _record_of(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def read_recorded(path: Path) -> bytes | None:
    """The bytes of ``path`` if they match the sha256 recorded beside them, else ``None`` (absent,
    never recorded, or changed since: the caller derives the file again)."""
    record = _record_of(path)
    if not (path.is_file() and record.is_file()):
        return None
    data = path.read_bytes()
    if record.read_text().split()[:1] != [sha256_bytes(data)]:
        logger.warning("cached %s does not match its recorded sha256; deriving it again", path)
        return None
    return data


def write_recorded(path: Path, data: bytes, *, record: bool = True) -> None:
    """Write ``data`` to ``path`` atomically; with ``record``, its sha256 beside it (do that only
    once the bytes were checked against their source)."""
    partial = temporary_beside(path)
    try:
        partial.write_bytes(data)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    if record:
        mark_recorded(path, data)


def mark_recorded(path: Path, data: bytes) -> None:
    """Record ``data``'s sha256 beside ``path`` (atomically)."""
    record = _record_of(path)
    partial = temporary_beside(record)
    partial.write_text(f"{sha256_bytes(data)}  {path.name}\n")
    partial.replace(record)
