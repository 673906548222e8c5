"""Engine overhead on full LFW View 2: cold and warm `facebench benchmark` against bare inference.

1. Bare inference: every one of the 7,701 pair images is decoded in advance; the time counted is
   only `detector.detect_faces` over all images, then `recognizer.embed_faces` on each central face
   (stage by stage, as the engine runs).
2. Cold run: `facebench benchmark` for the same pipeline into an empty output folder (decoding,
   caching, metrics, cost measurement, charts and report included).
3. Warm run: the same command again, reading every detection and embedding from the store.

The engine's target: cold ≤ 1.5 × bare inference, warm < 10 s.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/pipeline_overhead.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default="yunet")
    parser.add_argument("--recognizer", default="edgeface_xs_q")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=None, help="keep the benchmark folder here (default: a temp folder)"
    )
    args = parser.parse_args()
    os.environ["FACEBENCH_THREADS"] = str(args.threads)

    import numpy as np

    import facebench
    from facebench.datasets import load_lfw_pairs
    from facebench.detectors import create as create_detector
    from facebench.recognizers import create as create_recognizer

    pairs = load_lfw_pairs()
    images = [facebench.load_image(path) for path in pairs.images]
    detector = create_detector(args.detector, threads=args.threads)
    recognizer = create_recognizer(args.recognizer, threads=args.threads)
    detector.detect_faces(images[0])
    # stage by stage, like the engine: interleaving ONNX Runtime and torch calls per image makes
    # their thread pools fight over the cores and would flatter the engine
    start = time.perf_counter()
    central = []
    for rgb in images:
        faces = detector.detect_faces(rgb)
        if len(faces):
            centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2])
            best = int(
                np.argmin(np.linalg.norm((faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2 - centre, axis=1))
            )
            central.append(faces[best].to_faces())
        else:
            central.append([])
    detect_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for rgb, faces in zip(images, central, strict=True):
        if faces:
            recognizer.embed_faces(rgb, faces)
    embed_seconds = time.perf_counter() - start
    bare = detect_seconds + embed_seconds
    del images

    out = args.out or Path(tempfile.mkdtemp(prefix="facebench-overhead-"))
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty: the cold run needs an empty folder")
    command = [
        sys.executable,
        "-m",
        "facebench.cli",
        "benchmark",
        "--detectors",
        args.detector,
        "--recognizers",
        args.recognizer,
        "--threads",
        str(args.threads),
        "--out",
        str(out),
    ]
    timings = {}
    for label in ("cold", "warm"):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        timings[label] = time.perf_counter() - start
    result = json.loads((out / "results.json").read_text())["runs"][0]
    if args.out is None:
        shutil.rmtree(out)
    print(
        json.dumps(
            {
                "pipeline": f"{args.detector}+similarity+{args.recognizer}",
                "images": len(pairs.images),
                "pairs": len(pairs),
                "threads": args.threads,
                "bare_detect_s": round(detect_seconds, 1),
                "bare_embed_s": round(embed_seconds, 1),
                "bare_inference_s": round(bare, 1),
                "cold_run_s": round(timings["cold"], 1),
                "cold_over_bare": round(timings["cold"] / bare, 3),
                "warm_run_s": round(timings["warm"], 1),
                "accuracy_mean": result["accuracy_mean"],
                "targets": {"cold_over_bare_max": 1.5, "warm_run_s_max": 10},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
