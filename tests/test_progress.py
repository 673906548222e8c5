"""Progress: plain lines when stderr is not a terminal, never a redrawn bar in a log."""

import io

import pytest

from facebench.progress import progress

pytestmark = pytest.mark.core


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_log_gets_a_line_every_interval_and_one_at_the_end(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr("facebench.progress.time.monotonic", clock)
    stream = io.StringIO()
    with progress("detect", 100, stream=stream, every_s=10) as reporter:
        for step in range(100):
            clock.now = step * 0.5  # 0.5 s per image: a line every 20 images
            reporter.advance()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "detect: 21/100 (21.0 %), 10 s elapsed, about 38 s left"
    assert len(lines) == 5 and lines[-1].startswith("detect: 100/100 (100.0 %), 50 s elapsed")
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()  # no bar, no colour codes


def test_nothing_is_written_when_not_asked():
    stream = io.StringIO()
    with progress("detect", 10, show=False, stream=stream) as reporter:
        reporter.advance(10)
    assert stream.getvalue() == ""
