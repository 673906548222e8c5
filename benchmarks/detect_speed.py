"""Detector latency: ms per image (median, p95) on LFW 250×250 images and the 1024×624 crowd photo.

Each detector runs on images already decoded into memory (decoding is not detection), single
image at a time through `detect`, and a list at a time through `detect_batch`. The detector is
built once and warmed up before timing.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/detect_speed.py --threads 2 --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--detectors", default="all", help="comma-separated names (NAME@ENGINE picks an engine), or all"
    )
    parser.add_argument("--lfw-images", type=int, default=40, help="LFW images timed per detector")
    parser.add_argument("--crowd-repeats", type=int, default=10, help="timed runs on the crowd photo")
    parser.add_argument("--batch", type=int, default=8, help="images per detect_batch call")
    parser.add_argument("--threads", type=int, default=None, help="inference threads (default: all cores)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--markdown", action="store_true", help="print a Markdown table for docs/BENCHMARKS.md"
    )
    args = parser.parse_args()
    if args.threads:
        os.environ["FACEBENCH_THREADS"] = str(args.threads)

    import cv2
    import torch

    import facebench
    from facebench.bench.environment import environment
    from facebench.detectors import create, list_detectors

    torch.set_num_threads(args.threads or torch.get_num_threads())
    cv2.setNumThreads(args.threads or cv2.getNumThreads())
    home = Path(os.environ.get("FACEBENCH_HOME", "../shared"))
    lfw_root = home / "data" / "lfw" / "lfw-deepfunneled"
    people = sorted(p for p in lfw_root.iterdir() if p.is_dir())
    step = max(1, len(people) // args.lfw_images)
    lfw = [facebench.load_image(sorted(p.glob("*.jpg"))[0]) for p in people[::step][: args.lfw_images]]
    crowd = facebench.load_image(home / "data" / "demo" / "retinaface_curve" / "test.jpg")
    # "all" adds RetinaFace on eager PyTorch beside its default ONNX Runtime engine
    names = (
        [*list_detectors(), "retinaface_mnet025@torch"]
        if args.detectors == "all"
        else args.detectors.split(",")
    )

    results = []
    for name in names:
        model, _, engine = name.partition("@")
        detector = create(model, threads=args.threads, **({"engine": engine} if engine else {}))
        for image in (lfw[0], crowd, lfw[1]):  # warm-up: sessions, caches, anchor grids
            detector.detect(image)
        row: dict[str, object] = {"detector": name, "input_size": str(detector.input_size)}
        for label, images in (("lfw", lfw), ("crowd", [crowd] * args.crowd_repeats)):
            single = []
            for image in images:
                start = time.perf_counter()
                detector.detect(image)
                single.append((time.perf_counter() - start) * 1000)
            batches = [images[i : i + args.batch] for i in range(0, len(images), args.batch)]
            start = time.perf_counter()
            for batch in batches:
                detector.detect_batch(batch)
            batched = (time.perf_counter() - start) * 1000 / len(images)
            row[f"{label}_ms_median"] = round(statistics.median(single), 2)
            row[f"{label}_ms_p95"] = round(_percentile(single, 95), 2)
            row[f"{label}_ms_batched"] = round(batched, 2)
        row["crowd_faces"] = len(detector.detect(crowd))
        results.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    info = environment(args.threads)
    machine = {
        "cpu": info["cpu"],
        "cores_available": info["cores"],
        "threads": info["threads"],
        "python": info["python"],
        **info["versions"],
        "lfw_images": len(lfw),
        "crowd_repeats": args.crowd_repeats,
        "batch": args.batch,
    }
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    if args.markdown:
        print(
            f"Machine: {machine['cpu']}, {machine['cores_available']} cores, threads={machine['threads']}; "
            f"Python {machine['python']}, onnxruntime {machine['onnxruntime']}, torch {machine['torch']}, "
            f"OpenCV {machine['opencv']}. LFW: {machine['lfw_images']} images; crowd: {machine['crowd_repeats']} runs; "
            f"batch {machine['batch']}.\n"
        )
        print(
            "| detector | input size | LFW 250×250 median ms | p95 | batched ms/img | crowd 1024×624 median ms | p95 | batched ms/img | crowd faces |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for row in results:
            print(
                f"| {row['detector']} | {row['input_size']} | {row['lfw_ms_median']} | {row['lfw_ms_p95']} | "
                f"{row['lfw_ms_batched']} | {row['crowd_ms_median']} | {row['crowd_ms_p95']} | "
                f"{row['crowd_ms_batched']} | {row['crowd_faces']} |"
            )
    else:
        print(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
