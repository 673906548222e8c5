"""ONNX Runtime's spin-waiting threads on and off (``$FACEBENCH_ORT_SPIN``), in the same run.

An idle intra-op thread of ONNX Runtime spins for a while before it sleeps, holding a core. The
engine decodes images on another thread meanwhile, so on few cores the two fight. This script
times, alternately with spinning on (``1``) and off (``0``, facebench's default), each in a fresh
subprocess:

* ``engine_cold_s``: `run_benchmark` of YuNet + EdgeFace-XS (ONNX) over LFW View 2 into an empty
  folder (as ``benchmarks/pipeline_overhead.py`` does);
* ``bare_detect_ms`` / ``bare_embed_ms``: the two models alone on pre-decoded images and
  pre-aligned crops (best of 3 passes), where nothing competes for the cores.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/ort_spinning.py --threads 2 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline_overhead import _ENGINE, _timed

_BARE = """
import sys, time
import numpy as np
from facebench.datasets import load_lfw_pairs
from facebench.detectors import create as create_detector
from facebench.image import decode_image, read_image_file
from facebench.recognizers import create as create_recognizer

count, threads = int(sys.argv[1]), int(sys.argv[2])
images = [decode_image(read_image_file(path)) for path in load_lfw_pairs().images[:count]]
detector = create_detector("yunet", threads=threads)
recognizer = create_recognizer("edgeface_xs_dequant", engine="onnx", threads=threads)
crops = np.stack([recognizer.align(i.rgb, detector.detect_faces(i.rgb).to_faces()[:1])[0] for i in images[:256]])
batch, size = detector.batch_size, recognizer.batch_size
detect = embed = float("inf")
for _ in range(3):
    start = time.perf_counter()
    for first in range(0, len(images), batch):
        detector.detect_decoded(images[first : first + batch])
    detect = min(detect, time.perf_counter() - start)
    start = time.perf_counter()
    for first in range(0, len(crops), size):
        recognizer.embed_aligned(crops[first : first + size])
    embed = min(embed, time.perf_counter() - start)
print(detect / len(images) * 1000, embed / len(crops) * 1000)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bare-images", type=int, default=1500)
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {
        spin: {"engine_cold_s": [], "bare_detect_ms": [], "bare_embed_ms": []} for spin in ("1", "0")
    }
    for _ in range(args.rounds):
        for spin in ("1", "0"):  # alternated: the machine's speed drifts within minutes
            os.environ["FACEBENCH_ORT_SPIN"] = spin
            with tempfile.TemporaryDirectory(prefix="facebench-spin-") as folder:
                engine = [
                    sys.executable, "-c", _ENGINE, str(Path(folder) / "run"), "yunet",
                    "edgeface_xs_dequant@onnx", str(args.threads),
                ]  # fmt: skip
                seconds, _ = _timed(engine)
            results[spin]["engine_cold_s"].append(round(seconds, 1))
            bare = [sys.executable, "-c", _BARE, str(args.bare_images), str(args.threads)]
            out = subprocess.run(bare, check=True, capture_output=True, text=True).stdout.split()
            results[spin]["bare_detect_ms"].append(round(float(out[0]), 3))
            results[spin]["bare_embed_ms"].append(round(float(out[1]), 3))
    summary = {
        f"spin={spin}": {
            **values,
            **{f"median_{name}": statistics.median(samples) for name, samples in values.items()},
        }
        for spin, values in results.items()
    }
    print(json.dumps({"threads": args.threads, "rounds": args.rounds, **summary}, indent=2))


if __name__ == "__main__":
    main()
