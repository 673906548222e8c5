"""Million-face gallery search: build time, memory, latency and recall per index kind (issue 11).

The gallery is LFW's 1,680 enrolled faces (the first image of every person with 2+ images,
EdgeFace-XS through YuNet) plus synthetic distractors up to --size: unit vectors drawn around
random centres (clusters of look-alikes, harder than uniform noise). The probes are LFW's other
images of those people. Recall@1 is the share of probes whose top match is the one exact search
(flat) returns. Latency is per query at batch 1 and batch 64 (the batch's time / 64).
Target: ≤ 2 ms/query p50 at batch 1 with recall@1 ≥ 0.99, and IVF-PQ memory ≤ 1.5 GB.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/gallery_search.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--kinds", nargs="+", default=["flat", "hnsw", "ivfpq"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("runs/gallery_search"))
    parser.add_argument(
        "--sweep",
        type=int,
        nargs="*",
        default=[],
        help="also measure each approximate index at these search widths (HNSW efSearch, IVF-PQ nprobe)",
    )
    args = parser.parse_args()

    from facebench.bench.stages import embed_images
    from facebench.datasets import load_identification_set
    from facebench.detectors import create as create_detector
    from facebench.gallery import FaissIndex
    from facebench.recognizers import create as create_recognizer

    data = load_identification_set("lfw")
    probes_paths = data.probes[:: max(1, len(data.probes) // args.probes)][: args.probes]
    detector = create_detector("yunet", threads=args.threads)
    recognizer = create_recognizer("edgeface_xs_dequant", engine="onnx", threads=args.threads)
    vectors, _ = embed_images(
        detector, recognizer, "similarity", sorted(set(data.gallery) | set(probes_paths)), args.cache
    )
    enrolled = np.stack([vectors[str(p)] for p in data.gallery if str(p) in vectors])
    probes = np.stack([vectors[str(p)] for p in probes_paths if str(p) in vectors])
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10_000, enrolled.shape[1])).astype(np.float32)
    count = args.size - len(enrolled)
    distractors = np.empty((count, enrolled.shape[1]), np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        block = centres[rng.integers(0, len(centres), stop - start)] + rng.normal(
            scale=0.8, size=(stop - start, enrolled.shape[1])
        ).astype(np.float32)
        distractors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    gallery = np.concatenate([enrolled, distractors])
    del distractors
    ids = np.arange(len(gallery), dtype=np.int64)
    exact = None
    for kind in args.kinds:
        before = rss_mb()
        started = time.perf_counter()
        index = FaissIndex(gallery.shape[1], kind, threads=args.threads)
        for first in range(0, len(gallery), 200_000):
            index.add(gallery[first : first + 200_000], ids[first : first + 200_000])
        built = time.perf_counter() - started
        memory = rss_mb() - before
        for width in [None, *args.sweep] if kind != "flat" else [None]:
            if width is not None:
                _set_search_width(index, kind, width)
            exact = _measure(index, kind, width, probes, gallery, built, memory, exact, args.threads)
        del index


def _set_search_width(index: Any, kind: str, width: int) -> None:
    import faiss

    # FaissIndex → IndexIDMap2 → IndexRefine(Flat) → the coarse index: IndexHNSWSQ or IndexIVFPQ
    coarse = faiss.downcast_index(faiss.downcast_index(index.index.index).base_index)
    if kind == "hnsw":
        coarse.hnsw.efSearch = width
    else:
        coarse.nprobe = width


def _measure(
    index: Any,
    kind: str,
    width: int | None,
    probes: np.ndarray,
    gallery: np.ndarray,
    built: float,
    memory: float,
    exact: np.ndarray | None,
    threads: int,
) -> np.ndarray | None:
    """Print one row: latency at batch 1 and 64, and recall@1 against ``exact`` (flat: it is exact)."""
    for query in probes[-20:]:  # untimed warm-up, so the timed queries start from the same state
        index.search(query[None], 10)
    single = []
    for query in probes[:200]:
        began = time.perf_counter()
        index.search(query[None], 10)
        single.append((time.perf_counter() - began) * 1000)
    batched = []
    top = []
    for first in range(0, len(probes), 64):
        began = time.perf_counter()
        _, found = index.search(probes[first : first + 64], 10)
        batched.append((time.perf_counter() - began) * 1000 / len(found))
        top.append(found[:, 0])
    top1 = np.concatenate(top)
    if kind == "flat":
        exact = top1
    print(
        json.dumps(
            {
                "kind": kind,
                "size": len(gallery),
                "build_s": round(built, 1),
                "index_mb": round(memory, 0),
                "ms_per_query_b1_p50": round(float(np.percentile(single, 50)), 3),
                "ms_per_query_b1_p95": round(float(np.percentile(single, 95)), 3),
                "ms_per_query_b64_p50": round(float(np.percentile(batched, 50)), 3),
                "recall_at_1_vs_exact": None if exact is None else round(float((top1 == exact).mean()), 4),
                "search_width": width,
                "probes": len(probes),
                "threads": threads,
            }
        ),
        flush=True,
    )
    return exact


if __name__ == "__main__":
    os.environ.setdefault("FACEBENCH_THREADS", "2")
    main()
