"""Model files derived from verified weights (ONNX exports, graphs with freed input sizes), cached.

A derived file lives under the model store's cache folder, named by a digest of everything that
shaped it, with its sha256 recorded beside it (``NAME.sha256``) once it was checked against the
model it came from. A reader gets its bytes only while they still match that record; the caller
then checks them against the source model again (a probe batch), since whoever can rewrite the
file can rewrite the record too.
"""

from __future__ import annotations

from pathlib import Path

from facebench._log import logger
from facebench.atomic import atomic_write_bytes, atomic_write_text
from facebench.zoo.hashing import sha256_bytes

__all__ = ["read_recorded", "write_recorded"]


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


def write_recorded(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and its sha256 beside it, each atomically (call it only once the
    bytes were checked against their source)."""
    atomic_write_bytes(path, data)
    atomic_write_text(_record_of(path), f"{sha256_bytes(data)}  {path.name}\n")
