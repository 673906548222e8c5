"""The machine, threads and library versions recorded with every measurement."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["cpu_name", "environment", "environment_fingerprint", "provenance"]


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (or the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_fingerprint(threads: int | None = None) -> str:
    """A 16-hex digest of what a latency depends on: CPU model, usable cores, the thread count
    actually used, whether ONNX Runtime's threads spin, Python and the versions of facebench and its inference libraries. A latency
    is reported only in an environment with the same fingerprint."""
    import hashlib
    import json

    from facebench import __version__
    from facebench.ops.runtime import default_threads

    info = environment(threads)
    info["threads"] = threads or default_threads()
    info["facebench"] = __version__
    info.pop("platform", None)  # the kernel build changes with every reboot of a cloud machine
    return hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:16]


def environment(threads: int | None = None) -> dict[str, Any]:
    """CPU, cores, threads, ONNX Runtime's spin-waiting, Python and the inference libraries' versions."""
    import cv2
    import numpy as np
    import onnxruntime

    versions = {"numpy": np.__version__, "onnxruntime": onnxruntime.__version__, "opencv": cv2.__version__}
    # read from the installed metadata: importing torch for its version string costs seconds
    from importlib.metadata import PackageNotFoundError, version

    from facebench.ops.runtime import spinning_allowed

    with contextlib.suppress(PackageNotFoundError):  # torch is an optional extra
        versions["torch"] = version("torch")
    return {
        "cpu": cpu_name(),
        "cores": len(os.sched_getaffinity(0)),
        "threads": threads or "all",
        "onnxruntime_spinning": spinning_allowed(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def source_commit() -> str | None:
    """The git commit facebench runs from (``+dirty`` with uncommitted changes), or ``None`` for an
    installed wheel, which has no repository around it."""
    import subprocess
    from pathlib import Path

    package = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(package), "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+dirty" if dirty else commit or None


def provenance() -> dict[str, Any]:
    """What a report says a run came from: facebench's version, its commit and when it ran (UTC).
    Kept out of `environment_fingerprint`: a commit changes no latency by itself."""
    from datetime import UTC, datetime

    from facebench import __version__

    return {
        "facebench": __version__,
        "commit": source_commit(),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
