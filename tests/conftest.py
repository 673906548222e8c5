"""Shared fixtures. Real weights and data come from $FACEBENCH_HOME (default: ../shared).

A test that needs a file that is absent fails; it never skips. Any skip at all fails the run
(set FACEBENCH_ALLOW_SKIPS=1 to relax that locally).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two test workers share the cores: OpenMP threads that spin while waiting (torch's default)
    # hold a core the other worker needs, and made MTCNN's test 20x slower; waiting passively
    # changes no result, only who gets the CPU. Set before anything imports torch.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("FACEBENCH_HOME", str((REPO.parent / "shared").resolve()))
SHARED = Path(os.environ["FACEBENCH_HOME"]).resolve()
_SKIPPED: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Hermetic cache per run: unpacked archives and hash verdicts never leak between runs.
    cache = Path(config.rootpath) / ".pytest_cache" / "facebench-cache"
    os.environ["FACEBENCH_CACHE"] = str(cache)
    # Tests must never reach for the network; the download tests build their own store.
    os.environ["FACEBENCH_OFFLINE"] = "1"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m core`` (the core-only venv, no torch), import only the modules marked core.

    Other modules import optional libraries at their top; collecting them there would fail
    before the marker could deselect their tests.
    """
    if config.getoption("markexpr", "") != "core" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return "pytestmark = pytest.mark.core" not in collection_path.read_text(encoding="utf-8")


#: the longest test files (minutes each on 2 cores): handed to test workers first, so that none of
#: them starts last and runs alone while the other workers sit idle
_LONGEST_FIRST = (
    "test_train_recognition.py",
    "test_detectors.py",
    "test_robustness.py",
    "test_engine.py",
    "test_ray.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, put the longest files first (a stable sort: each file's own order holds)."""
    if not getattr(config.option, "numprocesses", None):
        return

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return _LONGEST_FIRST.index(name) if name in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED and os.environ.get("FACEBENCH_ALLOW_SKIPS") != "1":
        print(f"\nFAILED: {len(_SKIPPED)} test(s) were skipped; facebench's suite allows none:")
        for node in _SKIPPED:
            print(f"  {node}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"required test file {path} is missing: set FACEBENCH_HOME to the folder holding models/ and data/",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_home() -> Path:
    return _require(SHARED)


@pytest.fixture(scope="session")
def demo_crowd(shared_home: Path) -> Path:
    return _require(shared_home / "data" / "demo" / "retinaface_curve" / "test.jpg")


@pytest.fixture(scope="session")
def lfw_root(shared_home: Path) -> Path:
    return _require(shared_home / "data" / "lfw" / "lfw-deepfunneled")


@pytest.fixture(scope="session")
def lfw_sample(lfw_root: Path) -> list[Path]:
    """200 LFW images, one per identity, in a fixed order."""
    people = sorted(p for p in lfw_root.iterdir() if p.is_dir())
    step = max(1, len(people) // 200)
    images = [sorted(person.glob("*.jpg"))[0] for person in people[::step][:200]]
    assert len(images) == 200
    return images
