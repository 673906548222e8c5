"""An embedded per-image result store (SQLite in the output folder).

Output rows are keyed by (stage, configuration digest, image key). The image key is a digest of
the file's bytes (never its path or mtime: a same-size replacement with its mtime restored is a
new key), and the configuration holds every option that shapes an output, the sha256 of each
weight file and the stage's code version. Latency samples live in their own table, keyed also by
the environment they were measured in and the batch size, so a latency is never replayed on
another machine or thread count. Writes are committed in small batches: a killed run keeps
everything it had committed and resumes from there. Several processes may write into one store
at once, and damage to it is detected and named, never read as data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facebench._log import logger
from facebench.errors import FacebenchError

__all__ = ["LatencySample", "ResultStore", "StoreCorruptError", "config_digest", "content_key"]

#: bumped whenever the row format changes; an older cache is emptied (recomputed), never misread
SCHEMA_VERSION = 4

# `results` is a rowid table: its values (a 512-d embedding is 2 KB) are too large for a WITHOUT
# ROWID table's leaves; one LFW run's rows are written in 0.49 s instead of 0.75 s
# (`benchmarks/store_write.py`, docs/BENCHMARKS.md)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    stage TEXT NOT NULL,
    config TEXT NOT NULL,
    image TEXT NOT NULL,
    value BLOB NOT NULL,
    checksum BLOB NOT NULL,
    UNIQUE (stage, config, image)
);
CREATE TABLE IF NOT EXISTS latency (
    stage TEXT NOT NULL,
    config TEXT NOT NULL,
    environment TEXT NOT NULL,
    batch INTEGER NOT NULL,
    image TEXT NOT NULL,
    ms REAL NOT NULL,
    measured_at REAL NOT NULL,
    PRIMARY KEY (stage, config, environment, batch, image)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS configs (
    config TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
"""

#: how long a writer waits for another process's transaction before giving up
BUSY_TIMEOUT_S = 120.0


class StoreCorruptError(FacebenchError):
    """The result store is damaged; the message names the file to delete."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(
            f"the result store {path} is corrupt ({detail}). Delete it (and {path.name}-wal, "
            f"{path.name}-shm beside it if present) and run again: cached detections and embeddings "
            "are recomputed, nothing else is lost."
        )


def _checksum(stage: str, config: str, image: str, value: bytes) -> bytes:
    """8-byte BLAKE2b over the key and the value: a changed or moved value no longer matches."""
    digest = hashlib.blake2b(digest_size=8)
    for part in (stage, config, image):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(value)
    return digest.digest()


def config_digest(config: dict[str, Any]) -> str:
    """A stable 16-hex digest of a JSON-able configuration (independent of dict order and process)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def content_key(data: bytes) -> str:
    """The key of an image: a 128-bit BLAKE2b digest of its bytes (the same file anywhere, the
    same key; one changed byte, another key)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class LatencySample:
    """One image's milliseconds in one stage, measured at ``batch`` in one environment."""

    image: str
    batch: int
    ms: float
    measured_at: float  # Unix time


class ResultStore:
    """Encoded records per (stage, config, image), and latency samples, in ``<folder>/cache.sqlite``.

    Safe for several processes writing into one folder: SQLite's WAL journal lets readers run
    beside a writer, writes are buffered in memory and flushed in one short ``BEGIN IMMEDIATE``
    transaction per batch, and a writer waits up to `BUSY_TIMEOUT_S` for another's batch. On
    open the file is checked (``PRAGMA quick_check``), and every row carries a checksum of its
    key and value, verified on read; damage raises `StoreCorruptError` naming the file.

    Args:
        folder: output folder; created if needed.
        commit_every: rows buffered before a flush (a crash loses at most this many).
    """

    def __init__(self, folder: str | os.PathLike[str], commit_every: int = 1000) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = Path(folder) / "cache.sqlite"
        self.commit_every = commit_every
        self._pending: list[tuple[str, str, str, bytes, bytes]] = []
        self._pending_latency: list[tuple[str, str, str, int, str, float, float]] = []
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.05
        while True:
            self.connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                self._open()
                return
            except sqlite3.OperationalError as error:
                self.connection.close()
                # two runs creating one store race for the lock that switching to WAL takes, and
                # SQLite answers that race at once instead of waiting: busy, not corrupt; try again
                if "locked" not in str(error) and "busy" not in str(error):
                    raise StoreCorruptError(self.path, str(error)) from None
                if time.monotonic() > deadline:
                    raise FacebenchError(
                        f"the result store {self.path} stayed locked by another run for "
                        f"{BUSY_TIMEOUT_S:.0f} s; wait for it to finish, or use another --out"
                    ) from None
                time.sleep(pause)
                pause = min(1.0, pause * 2)
            except sqlite3.DatabaseError as error:
                self.connection.close()
                raise StoreCorruptError(self.path, str(error)) from None

    def _open(self) -> None:
        connection = self.connection
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        already_wal = connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        if not already_wal and connection.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            logger.warning("%s: WAL journal unavailable; concurrent runs will wait on each other", self.path)
        connection.execute("PRAGMA synchronous=NORMAL")
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StoreCorruptError(self.path, "; ".join(problems[:3]))
        with self._transaction():
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if version != SCHEMA_VERSION and tables & {"results", "latency"}:
                logger.warning("%s holds rows of an older format; they are recomputed", self.path)
                connection.execute("DROP TABLE IF EXISTS results")
                connection.execute("DROP TABLE IF EXISTS latency")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One short write transaction, taken at once so it never deadlocks on a lock upgrade."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def register(self, config: dict[str, Any]) -> str:
        """Store a configuration's description; returns its digest."""
        digest = config_digest(config)
        try:
            with self._transaction():
                self.connection.execute(
                    "INSERT OR IGNORE INTO configs VALUES (?, ?)",
                    (digest, json.dumps(config, sort_keys=True, default=str)),
                )
        except sqlite3.DatabaseError as error:
            raise StoreCorruptError(self.path, str(error)) from None
        return digest

    def get_many(self, stage: str, config: str, images: Iterable[str]) -> dict[str, bytes]:
        """The stored rows among ``images`` (missing ones are simply absent).

        Raises:
            StoreCorruptError: a row's checksum does not match its key and value.
        """
        self.commit()  # rows this process buffered are visible to its own reads
        wanted = list(images)
        found: dict[str, bytes] = {}
        try:
            for start in range(0, len(wanted), 900):  # SQLite's parameter limit
                chunk = wanted[start : start + 900]
                marks = ",".join("?" * len(chunk))
                rows = self.connection.execute(
                    "SELECT image, value, checksum FROM results "
                    f"WHERE stage=? AND config=? AND image IN ({marks})",
                    (stage, config, *chunk),
                ).fetchall()
                for image, value, checksum in rows:
                    if _checksum(stage, config, image, value) != checksum:
                        raise StoreCorruptError(
                            self.path, f"the stored {stage} row of image {image} was changed in place"
                        )
                    found[image] = bytes(value)
        except sqlite3.DatabaseError as error:
            raise StoreCorruptError(self.path, str(error)) from None
        return found

    def put(self, stage: str, config: str, image: str, data: bytes) -> None:
        """Buffer one encoded row (written by the next flush)."""
        self._pending.append((stage, config, image, data, _checksum(stage, config, image, data)))
        if len(self._pending) >= self.commit_every:
            self.commit()

    def put_latency(
        self, stage: str, config: str, environment: str, batch: int, image: str, ms: float
    ) -> None:
        """Buffer one latency sample of ``image`` in ``stage``, measured in ``environment`` at ``batch``."""
        self._pending_latency.append((stage, config, environment, int(batch), image, float(ms), time.time()))
        if len(self._pending_latency) >= self.commit_every:
            self.commit()

    def latencies(self, stage: str, config: str, environment: str) -> list[LatencySample]:
        """Every latency sample of a stage and configuration measured in ``environment``."""
        self.commit()
        try:
            rows = self.connection.execute(
                "SELECT image, batch, ms, measured_at FROM latency WHERE stage=? AND config=? AND environment=?",
                (stage, config, environment),
            ).fetchall()
        except sqlite3.DatabaseError as error:
            raise StoreCorruptError(self.path, str(error)) from None
        return [LatencySample(image, int(batch), float(ms), float(at)) for image, batch, ms, at in rows]

    def commit(self) -> None:
        """Write the buffered rows in one short transaction."""
        if not self._pending and not self._pending_latency:
            return
        try:
            with self._transaction():
                self.connection.executemany(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)", self._pending
                )
                self.connection.executemany(
                    "INSERT OR REPLACE INTO latency VALUES (?, ?, ?, ?, ?, ?, ?)", self._pending_latency
                )
        except sqlite3.DatabaseError as error:
            raise StoreCorruptError(self.path, str(error)) from None
        self._pending.clear()
        self._pending_latency.clear()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.connection.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
