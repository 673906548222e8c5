"""Checksum-verified downloads: temp file in the target folder, retries, atomic rename."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from facebench._log import logger
from facebench.errors import DownloadError

__all__ = ["download_file"]

_CHUNK = 1 << 16
_USER_AGENT = "facebench-model-store"


class _RetryableError(Exception):
    pass


def _fetch_once(
    url: str, destination: Path, timeout: float, show_progress: bool, expected_size: int | None
) -> tuple[str, str]:
    """Stream ``url`` into a temp file next to ``destination``; return (temp path, its sha256)."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            total = int(declared) if declared and declared.isdigit() else expected_size
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                transient=True,
                disable=not show_progress,
            ) as progress:
                task = progress.add_task(f"downloading {destination.name}", total=total)
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except http.client.IncompleteRead as error:
                        raise _RetryableError(
                            f"truncated transfer: connection closed after {received + len(error.partial)} "
                            f"of {declared} bytes"
                        ) from error
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    progress.update(task, advance=len(chunk))
            if declared and declared.isdigit() and received != int(declared):
                raise _RetryableError(f"truncated transfer: received {received} of {declared} bytes")
            if expected_size is not None and received != expected_size:
                raise _RetryableError(
                    f"size mismatch: received {received} bytes, the weight card says {expected_size}"
                )
        return tmp_name, digest.hexdigest()
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def download_file(
    url: str,
    destination: Path,
    *,
    sha256: str | None,
    size: int | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
    show_progress: bool = True,
) -> Path:
    """Download ``url`` to ``destination``, verifying size and sha256 before it appears there.

    The file is written to a temporary name in the destination folder and renamed into place only
    once it is complete and its hash matches, so an interrupted run never leaves a partial file
    under the final name.

    Raises:
        DownloadError: after ``retries`` failed attempts, or at once on a sha256 mismatch.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    last_error = "no attempt made"
    for attempt in range(1, retries + 1):
        try:
            tmp_name, actual = _fetch_once(url, destination, timeout, show_progress, size)
        except (
            _RetryableError,
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as error:
            last_error = str(getattr(error, "reason", error))
            if isinstance(error, urllib.error.HTTPError) and 400 <= error.code < 500:
                break  # a 404 will not go away by asking again
            logger.warning("download of %s failed (attempt %d/%d): %s", url, attempt, retries, last_error)
            if attempt < retries:
                time.sleep(backoff * 2 ** (attempt - 1))
            continue
        if sha256 is not None and actual != sha256:
            Path(tmp_name).unlink(missing_ok=True)
            raise DownloadError(
                f"sha256 mismatch for {url}: expected {sha256}, got {actual}. The server sent different "
                "bytes than the pinned release; nothing was written."
            )
        os.replace(tmp_name, destination)
        return destination
    raise DownloadError(f"could not download {url} after {retries} attempt(s): {last_error}")
