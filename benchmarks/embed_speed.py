"""Recognizer throughput: aligned faces per second per recognizer and engine, at batch 1 and 64.

Crops are aligned LFW faces prepared before timing, so only the recognizer is measured. The
dynamic-int8 ``_q`` models always run one face per call (their embeddings would otherwise depend
on the batch), so their "batch 64" row measures 64 sequential calls.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/embed_speed.py --threads 2 --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recognizers", default="all", help="comma-separated names, or all")
    parser.add_argument("--faces", type=int, default=128, help="faces embedded per measurement")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.threads:
        os.environ["FACEBENCH_THREADS"] = str(args.threads)

    import numpy as np
    import torch

    import facebench
    from facebench.bench.environment import environment
    from facebench.detectors import create as create_detector
    from facebench.recognizers import create, list_recognizers, recognizer_class

    if args.threads:
        torch.set_num_threads(args.threads)
    home = Path(os.environ.get("FACEBENCH_HOME", "../shared"))
    people = sorted(p for p in (home / "data" / "lfw" / "lfw-deepfunneled").iterdir() if p.is_dir())
    detector = create_detector("yunet")
    samples = []
    for person in people[:: max(1, len(people) // args.faces)][: args.faces]:
        rgb = facebench.load_image(sorted(person.glob("*.jpg"))[0])
        faces = detector.detect(rgb)
        if faces:
            samples.append((rgb, faces[0]))

    names = list_recognizers() if args.recognizers == "all" else args.recognizers.split(",")
    rows = []
    for name in names:
        for engine in recognizer_class(name).engines:
            model = create(name, engine=engine, batch_size=64, threads=args.threads)
            crops = np.concatenate([model.align(rgb, [face]) for rgb, face in samples])
            model.embed_aligned(crops[:4])  # warm-up
            timings = {}
            for batch in (1, 64):
                start = time.perf_counter()
                for first in range(0, len(crops), batch):
                    model.embed_aligned(crops[first : first + batch])
                timings[batch] = len(crops) / (time.perf_counter() - start)
            row = {
                "recognizer": name,
                "engine": engine,
                "faces_per_s_batch1": round(timings[1], 1),
                "faces_per_s_batch64": round(timings[64], 1),
                "ms_per_face_batch1": round(1000 / timings[1], 2),
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    info = environment(args.threads)
    machine = (
        f"{info['cpu']}, {info['cores']} cores, threads={info['threads']}; Python {info['python']}, "
        f"torch {info['versions'].get('torch')}, onnxruntime {info['versions']['onnxruntime']}; "
        f"{len(samples)} aligned LFW faces per measurement"
    )
    if args.markdown:
        print(f"Machine: {machine}.\n")
        print("| recognizer | engine | faces/s, batch 1 | faces/s, batch 64 | ms/face, batch 1 |")
        print("|---|---|---:|---:|---:|")
        for row in rows:
            print(
                f"| {row['recognizer']} | {row['engine']} | {row['faces_per_s_batch1']} | "
                f"{row['faces_per_s_batch64']} | {row['ms_per_face_batch1']} |"
            )
    else:
        print(json.dumps({"machine": machine, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
