"""The same LFW grid through the local executor, Ray started embedded, and a three-node local Ray
cluster (a head without CPUs for work and two one-CPU workers on 127.0.0.1), on the same cores.

Each run is cold (an empty output folder) and runs in its own subprocess; the wall time is that of
`run_benchmark` (no cost probes, no report), Ray's start and the actors' model loading included.
Every run's per-pair scores must equal the local run's exactly. Target: Ray ≤ 1.3 × local.

From the local run's per-image cost the script also prints a paper estimate of wall time for 10M
images on N nodes of C cores (work spread evenly, throughput per core as measured here).

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/ray_overhead.py
    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/ray_overhead.py --pairs 600   # one fold, quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_RUN = """
import json, sys, time
from pathlib import Path
import numpy as np
from facebench.bench.engine import run_benchmark
from facebench.datasets import load_lfw_pairs

mode, out, detector, recognizer, pairs_wanted = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
pairs = load_lfw_pairs()
if pairs_wanted < len(pairs):
    pairs = pairs.subset(np.arange(len(pairs)) < pairs_wanted)
executor, cluster = None, None
if mode != "local":
    import ray
    from facebench.bench.ray_executor import RayExecutor
    address = None
    if mode == "cluster":
        from ray.cluster_utils import Cluster
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        address = cluster.address
    executor = RayExecutor(address)
start = time.perf_counter()
result = run_benchmark(pairs, out, dataset="lfw", detectors=(detector,), recognizers=(recognizer,),
                       show_progress=False, measure_cost=False, executor=executor)
seconds = time.perf_counter() - start
np.save(out / "scores.npy", result.runs[0].scores)
print(json.dumps({"seconds": seconds, "images": len(pairs.images), "accuracy": result.runs[0].accuracy_mean,
                  "executor": result.environment["executor"]}))
if cluster is not None:
    ray.shutdown()
    cluster.shutdown()
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default="yunet")
    parser.add_argument("--recognizer", default="edgeface_xs_dequant@onnx")
    parser.add_argument("--pairs", type=int, default=6000, help="the first N LFW View 2 pairs (default: all)")
    parser.add_argument("--modes", default="local,embedded,cluster")
    args = parser.parse_args()
    import numpy as np

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode in args.modes.split(","):
            out = Path(scratch) / mode
            command = [
                sys.executable,
                "-c",
                _RUN,
                mode,
                str(out),
                args.detector,
                args.recognizer,
                str(args.pairs),
            ]
            done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
            if done.returncode != 0:
                raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            results[mode]["scores"] = np.load(out / "scores.npy")
            print(f"{mode}: {results[mode]['seconds']:.1f} s ({results[mode]['executor']})", flush=True)
    local = results.get("local")
    print(f"\n{args.detector} + {args.recognizer}, {args.pairs} LFW pairs, {os.cpu_count()} cores")
    print("| executor | wall s | × local | scores equal to local |")
    print("|---|---|---|---|")
    for mode, result in results.items():
        ratio = result["seconds"] / local["seconds"] if local else float("nan")
        same = np.array_equal(result["scores"], local["scores"], equal_nan=True) if local else None
        print(f"| {mode} | {result['seconds']:.1f} | {ratio:.2f} | {same} |")
    if local:
        cores = os.cpu_count() or 1
        core_seconds = local["seconds"] * cores / local["images"]  # every core busy in the local run
        print(f"\nper image: {1000 * core_seconds:.1f} core-ms (local run, {local['images']} images)")
        print("| nodes × cores | 10M images, minutes |")
        print("|---|---|")
        for nodes, per_node in ((1, 16), (4, 16), (16, 16), (64, 16)):
            minutes = 10_000_000 * core_seconds / (nodes * per_node) / 60
            print(f"| {nodes} × {per_node} | {minutes:,.0f} |")


if __name__ == "__main__":
    main()
