"""An embedded per-image result store (SQLite in the output folder).

Rows are keyed by (stage, model configuration digest, image key), where the image key includes the
file's size and modification time, so an edited image is recomputed. Writes are committed in small
batches: a killed run keeps everything it had committed and resumes from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ResultStore", "config_digest", "image_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    stage TEXT NOT NULL,
    config TEXT NOT NULL,
    image TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (stage, config, image)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS configs (
    config TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
"""


def config_digest(config: dict[str, Any]) -> str:
    """A stable 16-hex digest of a JSON-able configuration (independent of dict order and process)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def image_key(path: str | os.PathLike[str]) -> str:
    """``path|size|mtime_ns``: a changed file gets a new key."""
    stat = os.stat(path)
    return f"{os.fspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"


class ResultStore:
    """float32 vectors per (stage, config, image), in ``<folder>/cache.sqlite``.

    Args:
        folder: output folder; created if needed.
        commit_every: rows buffered before a commit (a crash loses at most this many).
    """

    def __init__(self, folder: str | os.PathLike[str], commit_every: int = 200) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = Path(folder) / "cache.sqlite"
        self.connection = sqlite3.connect(self.path)
        self.connection.executescript(_SCHEMA)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.commit_every = commit_every
        self._pending = 0

    def register(self, config: dict[str, Any]) -> str:
        """Store a configuration's description; returns its digest."""
        digest = config_digest(config)
        self.connection.execute(
            "INSERT OR IGNORE INTO configs VALUES (?, ?)",
            (digest, json.dumps(config, sort_keys=True, default=str)),
        )
        return digest

    def get_many(self, stage: str, config: str, images: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored rows among ``images`` (missing ones are simply absent)."""
        wanted = list(images)
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), 900):  # SQLite's parameter limit
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                f"SELECT image, value FROM results WHERE stage=? AND config=? AND image IN ({marks})",
                (stage, config, *chunk),
            )
            for image, value in rows:
                found[image] = np.frombuffer(value, np.float32).copy()
        return found

    def put(self, stage: str, config: str, image: str, value: np.ndarray) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
            (stage, config, image, np.ascontiguousarray(value, np.float32).tobytes()),
        )
        self._pending += 1
        if self._pending >= self.commit_every:
            self.commit()

    def commit(self) -> None:
        self.connection.commit()
        self._pending = 0

    def close(self) -> None:
        self.commit()
        self.connection.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
