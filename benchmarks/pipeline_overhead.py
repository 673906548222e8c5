"""Engine overhead on full LFW View 2 (7,701 images), against baselines timed in the same run.

Baselines (images decoded in advance where noted; every model built and warmed up first):

1. ``cv2_yunet_s``: a bare OpenCV pass, ``cv2.imread`` + ``cv2.FaceDetectorYN.detect`` on every
   image, the least any YuNet pipeline can cost.
2. ``bare_inference_s``: the pipeline's two stages with nothing around them, stage by stage on
   pre-decoded images: ``detector.detect_faces`` on every image, then ``recognizer.embed_aligned``
   on the pre-aligned central faces in batches of the recognizer's ``batch_size``.
   ``bare_inference_batched_s``: the same with the detector fed as the engine feeds it
   (``detect_decoded``: runs of same-size images in the card's batch), the stricter baseline:
   ``engine_cold_over_bare_batched`` is the engine's own overhead.

Engine runs (subprocesses, each into an empty folder unless said otherwise):

3. ``engine_cold_s``: `run_benchmark` alone (key, decode, detect, align, embed, store, score; no
   cost probes, no report). Target: ≤ 1.15 × bare inference.
4. ``engine_warm_s``: the same again into the same folder (everything read from the store).
   Target: ≤ 5 s.
5. ``cli_cold_s``: ``facebench benchmark`` for the pipeline, cost probes, charts and report
   included, right after a fresh OpenCV pass. Targets: ≤ 60 s and ≤ 2.4 × the bare OpenCV pass.

This machine's speed drifts by a third within minutes (other tenants), so a bare pass run once
before the engine says little about the engine: each of ``--rounds`` rounds times a bare pass and
then a cold engine run, and the engine's ratio is the median of the rounds' own ratios (every
round is printed too).

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/pipeline_overhead.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_ENGINE = """
import sys, time
from pathlib import Path
from facebench.bench.engine import run_benchmark
from facebench.datasets import load_lfw_pairs
pairs = load_lfw_pairs()
start = time.perf_counter()
result = run_benchmark(pairs, Path(sys.argv[1]), dataset="lfw", detectors=(sys.argv[2],),
                       recognizers=(sys.argv[3],), threads=int(sys.argv[4]), show_progress=False,
                       measure_cost=False)
print(time.perf_counter() - start, result.runs[0].accuracy_mean)
"""


def _timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    finished = subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, finished.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default="yunet")
    parser.add_argument("--recognizer", default="edgeface_xs_dequant@onnx")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=3, help="bare pass + cold engine run pairs (the ratio is their median)"
    )
    args = parser.parse_args()
    os.environ["FACEBENCH_THREADS"] = str(args.threads)

    import cv2
    import numpy as np

    import facebench
    from facebench.bench.executor import central_face
    from facebench.bench.plan import parse_model_name
    from facebench.datasets import load_lfw_pairs
    from facebench.detectors import create as create_detector
    from facebench.image import decode_image
    from facebench.recognizers import create as create_recognizer

    pairs = load_lfw_pairs()
    paths = pairs.images
    cv2.setNumThreads(args.threads)
    detector = create_detector(args.detector, threads=args.threads)
    yn = cv2.FaceDetectorYN.create(str(detector.store.resolve(detector.card)), "", (320, 320), 0.6, 0.3)

    def cv2_pass() -> float:
        start = time.perf_counter()
        for path in paths:
            image = cv2.imread(str(path))
            yn.setInputSize((image.shape[1], image.shape[0]))
            yn.detect(image)
        return time.perf_counter() - start

    name, engine = parse_model_name(args.recognizer)
    recognizer = create_recognizer(name, threads=args.threads, **({"engine": engine} if engine else {}))
    images = [facebench.load_image(path) for path in paths]
    decoded = [decode_image(rgb) for rgb in images]  # the arrays themselves, not copies
    found = [detector.detect_faces(rgb) for rgb in images]
    assert [len(f) for f in detector.detect_decoded(decoded)] == [len(f) for f in found]
    faces = [central_face(f, rgb.shape[1], rgb.shape[0]) for f, rgb in zip(found, images, strict=True)]
    crops = np.stack(
        [
            recognizer.align(rgb, [face])[0]
            for rgb, face in zip(images, faces, strict=True)
            if face is not None
        ]
    )
    recognizer.embed_aligned(crops[: recognizer.batch_size])

    def bare_pass(images: list, decoded: list, crops: np.ndarray) -> tuple[float, float, float]:
        """Seconds of: detection image by image, detection batched as the engine feeds it, embedding."""
        start = time.perf_counter()
        for rgb in images:
            detector.detect_faces(rgb)
        detect = time.perf_counter() - start
        start = time.perf_counter()
        detector.detect_decoded(decoded)
        detect_batched = time.perf_counter() - start
        start = time.perf_counter()
        for first in range(0, len(crops), recognizer.batch_size):
            recognizer.embed_aligned(crops[first : first + recognizer.batch_size])
        return detect, detect_batched, time.perf_counter() - start

    rounds = []
    with tempfile.TemporaryDirectory(prefix="facebench-overhead-") as folder:
        for index in range(args.rounds):
            detect, detect_batched, embed = bare_pass(images, decoded, crops)
            engine_out = Path(folder) / f"engine{index}"
            command = [
                sys.executable,
                "-c",
                _ENGINE,
                str(engine_out),
                args.detector,
                args.recognizer,
                str(args.threads),
            ]
            cold, cold_stdout = _timed(command)
            rounds.append(
                {
                    "bare_detect_s": round(detect, 1),
                    "bare_detect_batched_s": round(detect_batched, 1),
                    "bare_embed_s": round(embed, 1),
                    "bare_inference_s": round(detect + embed, 1),
                    "bare_inference_batched_s": round(detect_batched + embed, 1),
                    "engine_cold_s": round(cold, 1),
                    "engine_cold_in_process_s": round(float(cold_stdout.split()[0]), 1),
                    "engine_cold_over_bare": round(cold / (detect + embed), 3),
                    "engine_cold_over_bare_batched": round(cold / (detect_batched + embed), 3),
                }
            )
            print(json.dumps({"round": index + 1, **rounds[-1]}), file=sys.stderr, flush=True)
        warm, _ = _timed(command)  # the last round's folder: everything from the store
        del images, decoded, crops
        cv2_seconds = cv2_pass()
        cli = [
            sys.executable, "-m", "facebench.cli", "benchmark", "--detectors", args.detector,
            "--recognizers", args.recognizer, "--threads", str(args.threads), "--out", str(Path(folder) / "cli"),
        ]  # fmt: skip
        cli_cold, _ = _timed(cli)
        accuracy = json.loads((Path(folder) / "cli" / "results.json").read_text())["runs"][0]["accuracy_mean"]

    def median(key: str) -> float:
        return round(float(np.median([r[key] for r in rounds])), 3)

    print(
        json.dumps(
            {
                "pipeline": f"{args.detector}+similarity+{args.recognizer}",
                "images": len(paths),
                "pairs": len(pairs),
                "threads": args.threads,
                "detector_batch": detector.batch_size,
                "rounds": rounds,
                "engine_cold_over_bare_median": median("engine_cold_over_bare"),
                "engine_cold_over_bare_batched_median": median("engine_cold_over_bare_batched"),
                "engine_warm_s": round(warm, 1),
                "cv2_yunet_s": round(cv2_seconds, 1),
                "cli_cold_s": round(cli_cold, 1),
                "cli_cold_over_cv2": round(cli_cold / cv2_seconds, 3),
                "accuracy_mean": accuracy,
                "targets": {
                    "engine_cold_over_bare_max": 1.15,
                    "engine_warm_s_max": 5,
                    "cli_cold_s_max": 60,
                    "cli_cold_over_cv2_max": 2.4,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
