"""RetinaFace MobileNet-0.25 on eager PyTorch and on its verified ONNX export, one image per forward
pass and 8 same-size images per pass: milliseconds per LFW image, and how far the landmarks move
against eager PyTorch at batch 1 (the detector as it ran before the ONNX engine).

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/retinaface_engines.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the fastest is kept")
    args = parser.parse_args()
    os.environ["FACEBENCH_THREADS"] = str(args.threads)

    import numpy as np

    from facebench.datasets import load_lfw_pairs
    from facebench.detectors import create
    from facebench.image import decode_image

    images = [decode_image(path) for path in load_lfw_pairs().images[: args.images]]  # all 250×250
    reference = None
    rows = []
    for engine in ("torch", "onnx"):
        for batch in (1, 8):
            detector = create("retinaface_mnet025", engine=engine, batch_size=batch, threads=args.threads)
            detector.detect_decoded(images[:batch])  # warm-up
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                found = detector.detect_decoded(images)
                best = min(best, time.perf_counter() - start)
            if reference is None:
                reference = found
            moved = max(
                float(np.abs(a.landmarks - b.landmarks).max())
                for a, b in zip(found, reference, strict=True)
                if len(a) and len(a) == len(b)
            )
            rows.append(
                {
                    "engine": engine,
                    "batch": batch,
                    "ms_per_image": round(1000 * best / len(images), 3),
                    "max_landmark_shift_px": moved,
                    "face_count_changes": sum(
                        len(a) != len(b) for a, b in zip(found, reference, strict=True)
                    ),
                }
            )
    print(json.dumps({"images": len(images), "threads": args.threads, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
