"""Face and head masks on the crowd photo: one mask set per detected face, none empty, seconds per face.

Times `FaceSegmenter.segment` (selfie and hair segmentation of each head crop, FaceMesh's face oval)
and `facebench detect --masks --out` end to end (detection, masks and the four PNGs per face), both
after a warm-up. Target (issue 12): ≤ 2 s per face on this CPU.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/mask_speed.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default="retinaface_mnet025")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--image", type=Path, default=None, help="default: demo/retinaface_curve/test.jpg")
    args = parser.parse_args()
    os.environ["FACEBENCH_THREADS"] = str(args.threads)

    from facebench.annotate import ImageFile, annotate
    from facebench.annotate.run import AnnotateOptions
    from facebench.detectors import create
    from facebench.image import load_image
    from facebench.segment import FaceSegmenter

    image = (
        args.image or Path(os.environ["FACEBENCH_HOME"]) / "data" / "demo" / "retinaface_curve" / "test.jpg"
    )
    rgb = load_image(image)
    detector = create(args.detector, threads=args.threads)
    faces = detector.detect(rgb)
    segmenter = FaceSegmenter(threads=args.threads)
    segmenter.segment(rgb, faces[:1])  # warm-up: models loaded
    start = time.perf_counter()
    masks = segmenter.segment(rgb, faces)
    seconds = time.perf_counter() - start
    empty = sum(1 for m in masks if not m.face_mask.any() or not m.head_mask.any())
    with tempfile.TemporaryDirectory(prefix="facebench-masks-") as out:
        start = time.perf_counter()
        summary = annotate([ImageFile(image, image.name)], detector, Path(out), AnnotateOptions(masks=True))
        written = time.perf_counter() - start
        pngs = len(list(Path(out).rglob("*.png")))
    print(
        json.dumps(
            {
                "image": str(image),
                "size": [int(rgb.shape[1]), int(rgb.shape[0])],
                "detector": args.detector,
                "threads": args.threads,
                "faces": len(faces),
                "mask_sets": len(masks),
                "empty_mask_sets": empty,
                "face_regions": sorted({m.face_region for m in masks}),
                "segment_s_per_face": round(seconds / max(1, len(faces)), 3),
                "detect_masks_and_pngs_s_per_face": round(written / max(1, summary.faces), 3),
                "pngs_written": pngs,
                "target_s_per_face_max": 2.0,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
