"""Faces that fill the frame: how often each detector finds a face in LFW's central crops.

LFW images are 250×250 with the face in the middle; the central 120×120 and 160×160 crops are
tight face crops (the face fills most of the frame), as in the loose crops many face datasets
ship. Target (issue 13): every detector with landmarks finds a face in ≥ 97% of 200 images.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/tight_crops.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def central_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    top, left = (height - side) // 2, (width - side) // 2
    return np.ascontiguousarray(rgb[top : top + side, left : left + side])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[120, 160])
    parser.add_argument("--detectors", nargs="+", default=None, help="default: every detector with landmarks")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from facebench.datasets.lfw import default_lfw_root
    from facebench.detectors import create
    from facebench.detectors.registry import DETECTORS
    from facebench.image import load_image

    root = default_lfw_root()
    paths = sorted((root / "lfw-deepfunneled").glob("*/*.jpg"))[: args.images]
    if len(paths) < args.images:
        raise SystemExit(f"{root}: found {len(paths)} LFW images, need {args.images}")
    images = [load_image(path) for path in paths]
    names = args.detectors or [name for name in DETECTORS.names() if DETECTORS.describe(name).gives_landmarks]
    for name in names:
        detector = create(name, threads=args.threads)
        found = {}
        for side in args.sizes:
            crops = [central_crop(rgb, side) for rgb in images]
            found[str(side)] = round(sum(bool(detector.detect(crop)) for crop in crops) / len(crops), 4)
        print(json.dumps({"detector": name, "images": len(images), "found": found, "threads": args.threads}))


if __name__ == "__main__":
    os.environ.setdefault("FACEBENCH_THREADS", "2")
    main()
