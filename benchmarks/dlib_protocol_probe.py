"""Why dlib_resnet trails its published LFW accuracy: box source × scoring, on LFW View-2 folds 1-2.

For each detector given on the command line, every image of folds 1-2 (1,200 pairs) is embedded
with dlib's own 150×150 chip (dlib's 5-point predictor inside the detector's box), and the pairs
are scored two ways: cosine of normalised descriptors, and dlib's metric (negated Euclidean
distance of raw descriptors).

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/dlib_protocol_probe.py retinaface_mnet025 dlib_hog
"""

from __future__ import annotations

import sys

import numpy as np

import facebench
from facebench.datasets import load_lfw_pairs
from facebench.detectors import create as create_detector
from facebench.metrics import kfold_accuracy
from facebench.recognizers import create as create_recognizer


def main() -> None:
    pairs = load_lfw_pairs()
    keep = pairs.fold < 2
    first = [p for p, k in zip(pairs.first, keep, strict=True) if k]
    second = [p for p, k in zip(pairs.second, keep, strict=True) if k]
    same, folds = pairs.is_same[keep], pairs.fold[keep]
    model = create_recognizer("dlib_resnet", normalize=False)
    for detector_name in sys.argv[1:] or ["retinaface_mnet025", "dlib_hog"]:
        detector = create_detector(detector_name)
        raw: dict[str, np.ndarray | None] = {}
        for path in sorted(set(first) | set(second)):
            rgb = facebench.load_image(path)
            faces = detector.detect(rgb)
            centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2])
            face = min(
                faces, key=lambda f: np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre), default=None
            )
            raw[str(path)] = None if face is None else model.embed_faces(rgb, [face])[0]
        for scoring in ("cosine", "dlib euclidean"):
            scores = []
            for a, b in zip(first, second, strict=True):
                x, y = raw[str(a)], raw[str(b)]
                if x is None or y is None:
                    scores.append(np.nan)
                elif scoring == "cosine":
                    scores.append(float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)))
                else:
                    scores.append(-float(np.linalg.norm(x - y)))
            result = kfold_accuracy(np.array(scores), same, folds)
            missing = int(np.isnan(scores).sum())
            print(
                f"{detector_name}, {scoring}: {100 * result.mean:.2f} % ({missing} pairs without a face)",
                flush=True,
            )


if __name__ == "__main__":
    main()
