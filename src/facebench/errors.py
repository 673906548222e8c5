"""Typed exceptions raised by facebench.

Every user-facing failure is one of these, so callers can catch facebench problems
without catching unrelated bugs, and every message names the file or model involved.
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "ArchiveError",
    "ChecksumMismatchError",
    "DownloadError",
    "FacebenchError",
    "ImageError",
    "MissingExtraError",
    "ModelNotFoundError",
    "UnknownNameError",
    "describe_exception",
]


def describe_exception(error: BaseException, who: str) -> str:
    """``"<who> raised <Type>: <message> at <file>:<line>"``: an unexpected exception as one line
    for a per-image report (where it was raised, without the whole traceback)."""
    import traceback
    from pathlib import Path

    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{who} raised {type(error).__name__}: {error}{where}"


class FacebenchError(Exception):
    """Base class of every error facebench raises on purpose."""


class ImageError(FacebenchError, ValueError):
    """An image could not be read or converted; the message names the source and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"cannot read image {source}: {reason}")


class AlignmentError(FacebenchError, ValueError):
    """A face cannot be aligned by the method asked (it has no landmarks)."""


class ModelNotFoundError(FacebenchError, FileNotFoundError):
    """A model file is in none of the places the store looks, and could not be downloaded."""


class ChecksumMismatchError(FacebenchError):
    """A model file's sha256 differs from the one pinned in its weight card."""

    def __init__(self, path: str, expected: str, actual: str, model: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        self.model = model
        super().__init__(
            f"sha256 mismatch for model '{model}' file {path}: expected {expected}, got {actual}. "
            "The file is corrupt, truncated or a different release; refusing to load it. "
            "Delete it and let facebench fetch it again, or put the correct file in its place."
        )


class ArchiveError(FacebenchError):
    """A model archive could not be unpacked: corrupt, or larger than its weight card allows."""


class DownloadError(FacebenchError):
    """A download failed after all retries (network error, truncated transfer, bad hash)."""


class UnknownNameError(FacebenchError, KeyError):
    """A registry lookup used a name that is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class MissingExtraError(FacebenchError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""

    def __init__(self, needed_for: str, module: str, extra: str) -> None:
        self.needed_for = needed_for
        self.module = module
        self.extra = extra
        super().__init__(f'{needed_for} needs {module}: pip install "facebench[{extra}]"')
