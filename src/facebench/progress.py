"""Progress for long runs: a live bar on a terminal, plain lines in a log.

A rich progress bar redraws one line in place, which a CI log or a file captured with ``2>``
cannot show; there `progress` writes a line every ``every_s`` seconds (and at the end) instead:
``WIDER FACE (yunet): 1200/3226 (37.2 %), 41 s elapsed, about 70 s left``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["ProgressReporter", "progress"]


class ProgressReporter(Protocol):
    def advance(self, count: int = 1) -> None: ...


class _Silent:
    def advance(self, count: int = 1) -> None:
        return None


class _Lines:
    """Plain progress lines on ``stream``, at most one every ``every_s`` seconds."""

    def __init__(self, label: str, total: int, stream: TextIO, every_s: float) -> None:
        self.label, self.total, self.stream, self.every_s = label, total, stream, every_s
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.every_s and self.done < self.total:
            self.last = now
            self.write(now)

    def write(self, now: float) -> None:
        elapsed = now - self.started
        share = self.done / self.total if self.total else 1.0
        left = f", about {elapsed / share - elapsed:.0f} s left" if 0 < share < 1 else ""
        self.stream.write(
            f"{self.label}: {self.done}/{self.total} ({100 * share:.1f} %), {elapsed:.0f} s elapsed{left}\n"
        )
        self.stream.flush()


class _Bar:
    def __init__(self, bar: Progress, task: int) -> None:
        self.bar, self.task = bar, task

    def advance(self, count: int = 1) -> None:
        self.bar.advance(self.task, count)  # type: ignore[arg-type]


@contextmanager
def progress(
    label: str, total: int, *, show: bool = True, stream: TextIO | None = None, every_s: float = 10.0
) -> Iterator[ProgressReporter]:
    """Report ``total`` steps of work: a bar when ``stream`` (stderr) is a terminal, plain lines
    every ``every_s`` seconds and at the end otherwise, nothing when ``show`` is false."""
    stream = stream or sys.stderr
    if not show or total <= 0:
        yield _Silent()
        return
    if stream.isatty():
        columns = (
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(file=stream), transient=True) as bar:
            yield _Bar(bar, bar.add_task(label, total=total))
        return
    lines = _Lines(label, total, stream, every_s)
    try:
        yield lines
    finally:
        lines.write(time.monotonic())
