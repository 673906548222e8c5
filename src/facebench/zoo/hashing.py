"""Streaming sha256 with a verdict cache keyed by (path, size, mtime).

Hashing a 100 MB model on every load would dominate short runs, so a digest is remembered, in
memory and in a small JSON file in the cache directory, for as long as the file's size and
modification time stay the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from facebench._log import logger

__all__ = ["HashCache", "sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The full sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """Remembers file digests while a file's size and mtime are unchanged.

    Args:
        store_path: JSON file that persists digests across processes; ``None`` keeps them in memory.
    """

    def __init__(self, store_path: Path | None = None) -> None:
        self._store_path = store_path
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, int | str]] = {}
        if store_path is not None and store_path.is_file():
            try:
                self._entries = json.loads(store_path.read_text())
            except (OSError, ValueError) as error:
                logger.warning("ignoring unreadable hash cache %s: %s", store_path, error)

    @staticmethod
    def _key(path: Path) -> tuple[str, int, int]:
        stat = path.stat()
        return str(path.resolve()), stat.st_size, stat.st_mtime_ns

    def sha256(self, path: str | os.PathLike[str]) -> str:
        """The digest of ``path``, computed only when the file changed since it was last seen."""
        resolved, size, mtime_ns = self._key(Path(path))
        entry = self._entries.get(resolved)
        if entry is not None and entry.get("size") == size and entry.get("mtime_ns") == mtime_ns:
            return str(entry["sha256"])
        digest = sha256_file(resolved)
        with self._lock:
            self._entries[resolved] = {"size": size, "mtime_ns": mtime_ns, "sha256": digest}
            self._save()
        return digest

    def _save(self) -> None:
        if self._store_path is None:
            return
        try:
            self._store_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._store_path.parent, prefix=".hashes.", suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(self._entries, handle)
            os.replace(tmp, self._store_path)
        except OSError as error:  # a read-only cache must not stop a run
            logger.debug("could not persist hash cache %s: %s", self._store_path, error)
