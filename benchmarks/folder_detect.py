"""`detect --out` over a folder of LFW images against the detector's bare throughput, same run.

* ``bare_image_by_image_s``: ``detector.detect_faces`` on every pre-decoded image;
* ``bare_batched_s``: ``detector.detect_decoded`` on the pre-decoded images (runs of same-size
  images in the card's batch, as the folder run feeds it): the stricter baseline;
* ``annotate_s``: `facebench.annotate.annotate` with the same built detector into an empty folder
  (reading, hashing, decoding in a thread pool, detection, detections.jsonl/csv, errors.csv);
* ``cli_s``: ``facebench detect FOLDER --out DIR`` in a subprocess (model build included).

Target (issue 12): ``annotate`` at ≥ 90 % of the detector's bare throughput, i.e.
``throughput_vs_bare`` = bare seconds / annotate seconds ≥ 0.9.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/folder_detect.py --images 1000 --threads 2
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
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["FACEBENCH_THREADS"] = str(args.threads)

    from facebench.annotate import annotate, find_images
    from facebench.datasets import load_lfw_pairs
    from facebench.detectors import create
    from facebench.image import decode_image, read_image_file

    paths = load_lfw_pairs().images[: args.images]
    with tempfile.TemporaryDirectory(prefix="facebench-folder-") as scratch:
        folder = Path(scratch) / "images"
        for path in paths:  # a folder tree of the images (links: nothing is copied)
            target = folder / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path.resolve())
        found = find_images([folder])
        assert len(found.images) == len(paths) and not found.problems, found.problems

        detector = create(args.detector, threads=args.threads)
        decoded = [decode_image(read_image_file(path), fit=detector.decode_fit()) for path in paths]
        detector.detect_decoded(decoded[:8])  # warm-up
        start = time.perf_counter()
        for image in decoded:
            detector.detect_faces(image.rgb)
        image_by_image = time.perf_counter() - start
        start = time.perf_counter()
        detector.detect_decoded(decoded)
        batched = time.perf_counter() - start
        del decoded

        start = time.perf_counter()
        summary = annotate(found.images, detector, Path(scratch) / "out")
        annotated = time.perf_counter() - start
        assert summary.computed == len(paths) and not summary.failures, summary.failures

        cli_out = Path(scratch) / "cli"
        command = [sys.executable, "-m", "facebench.cli", "detect", str(folder), "--out", str(cli_out),
                   "-d", args.detector]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli_rerun = time.perf_counter() - start
        shutil.rmtree(cli_out)
    print(
        json.dumps(
            {
                "detector": args.detector,
                "images": len(paths),
                "threads": args.threads,
                "faces": summary.faces,
                "bare_image_by_image_s": round(image_by_image, 2),
                "bare_batched_s": round(batched, 2),
                "annotate_s": round(annotated, 2),
                "throughput_vs_bare": round(image_by_image / annotated, 3),
                "throughput_vs_bare_batched": round(batched / annotated, 3),
                "cli_s": round(cli, 2),
                "cli_rerun_s": round(cli_rerun, 2),
                "target_throughput_vs_bare_min": 0.9,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
