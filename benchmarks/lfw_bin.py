"""The published protocol next to the end-to-end pipeline on LFW View 2 (issue 13, docs/RESULTS.md).

Builds an InsightFace-format ``lfw.bin`` from LFW (YuNet's central face of every image, aligned to
the ArcFace 112×112 template, JPEG quality 95; written under --out, never committed: it is
derived from LFW), then scores each recognizer twice on the same 6,000 pairs and 10 folds:
``benchmark --protocol standard`` on the .bin (flip-sum, InsightFace's threshold sweep) and the
end-to-end pipeline with flip (`yunet+similarity+R`, facebench's k-fold threshold). An image in
which YuNet finds no face has none in the end-to-end run and its central crop in the .bin.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/lfw_bin.py --out runs/lfw_bin
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recognizers", default="edgeface_xs_dequant@onnx,mobilefacenet_tflite")
    parser.add_argument("--out", type=Path, default=Path("runs/lfw_bin"))
    args = parser.parse_args()

    from facebench.align.transform import align_face
    from facebench.bench.engine import run_benchmark
    from facebench.bench.stages import central_faces
    from facebench.bench.standard import run_standard_protocol
    from facebench.datasets import load_lfw_pairs
    from facebench.datasets.insightface_bin import read_verification_bin, write_verification_bin
    from facebench.image import load_image

    pairs = load_lfw_pairs()
    args.out.mkdir(parents=True, exist_ok=True)
    bin_path = args.out / "lfw.bin"
    if not bin_path.is_file():
        images = pairs.images
        faces = dict(zip(images, central_faces("yunet", images, args.out / "detect"), strict=True))
        aligned = {}
        for path in images:
            rgb = load_image(path)
            face = faces[path]
            if face is None:  # as the published sets: every face is there (here its central crop)
                side = rgb.shape[0] / 2
                box = np.array([side / 2, side / 2, 1.5 * side, 1.5 * side], np.float32)
                aligned[path] = align_face(rgb, box, None, "arcface_112", "none")
            else:
                aligned[path] = align_face(rgb, np.asarray(face.box), face.landmarks, "arcface_112")
        write_verification_bin(
            bin_path,
            [(aligned[a], aligned[b]) for a, b in zip(pairs.first, pairs.second, strict=True)],
            pairs.is_same.tolist(),
        )
    verification_set = read_verification_bin(bin_path)
    assert (verification_set.fold == pairs.fold).all()  # LFW's folds are 600 contiguous pairs too
    recognizers = tuple(args.recognizers.split(","))
    standard = run_standard_protocol(verification_set, args.out / "standard", recognizers=recognizers)
    end_to_end = run_benchmark(
        pairs,
        args.out / "end_to_end",
        dataset="lfw",
        detectors=("yunet",),
        recognizers=recognizers,
        flip=True,
        measure_cost=False,
        show_progress=False,
    )
    print("| recognizer | standard protocol (lfw.bin) | end to end (yunet+similarity, flip) |")
    print("|---|---:|---:|")
    for recognizer, first, second in zip(recognizers, standard.runs, end_to_end.runs, strict=True):
        print(
            f"| {recognizer} | {100 * first.accuracy_mean:.2f} ± {100 * first.accuracy_std:.2f} "
            f"| {100 * second.accuracy_mean:.2f} ± {100 * second.accuracy_std:.2f} |"
        )
        print(json.dumps({"recognizer": recognizer, "standard_auc": first.auc, "end_to_end_auc": second.auc}))


if __name__ == "__main__":
    os.environ.setdefault("FACEBENCH_THREADS", "2")
    main()
