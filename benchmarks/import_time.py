"""Start-up cost of the core: ``import facebench``, ``facebench --help`` and a first model listing.

Each command runs ``--repeats`` times in a fresh interpreter (warm file cache: the first run is
discarded); the median is printed beside baselines timed in the same run: an empty interpreter
and ``import numpy, cv2, onnxruntime`` (what detecting needs at the least). Targets: ``import
facebench`` ≤ 0.3 s and ``facebench --help`` ≤ 0.6 s. The last column says whether torch was
imported.

    .venv/bin/python benchmarks/import_time.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

FACEBENCH = str(Path(sys.executable).with_name("facebench"))
TORCH_PROBE = "; import sys; print('torch' in sys.modules)"
COMMANDS = {
    "python (empty interpreter)": [sys.executable, "-c", "print(False)"],
    "import numpy, cv2, onnxruntime": [sys.executable, "-c", "import numpy, cv2, onnxruntime" + TORCH_PROBE],
    "import facebench": [sys.executable, "-c", "import facebench" + TORCH_PROBE],
    "facebench --help": [FACEBENCH, "--help"],
    "import facebench + list every model": [
        sys.executable,
        "-c",
        "import facebench; facebench.list_detectors(); facebench.list_recognizers()" + TORCH_PROBE,
    ],
}
TARGETS = {"import facebench": 0.3, "facebench --help": 0.6}


def _time(command: list[str], repeats: int) -> tuple[float, str]:
    times, last = [], ""
    for _ in range(repeats + 1):
        start = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        last = finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else ""
    return statistics.median(times[1:]), last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"{'command':40s} {'median s':>9s} {'target':>7s} torch imported")
    for label, command in COMMANDS.items():
        seconds, last = _time(command, args.repeats)
        target = TARGETS.get(label)
        torch = last if last in ("True", "False") else "-"
        verdict = "" if target is None else f"≤{target:.1f} {'met' if seconds <= target else 'NOT met'}"
        print(f"{label:40s} {seconds:9.3f} {verdict:>7s} {torch}")


if __name__ == "__main__":
    main()
