"""LFW accuracy of cached embeddings under two scoring protocols, to explain gaps to published numbers.

* ``cosine``: facebench's protocol (cosine of L2-normalised embeddings, threshold from 9 folds).
* ``mean-centred``: the SphereFace/MobileFaceNet evaluation: subtract the mean embedding of the
  nine training folds, re-normalise, then cosine (Xiaoccer's and SphereFace's lfw_eval).

Embeds full LFW View 2 through the engine's cached stages into ``--out`` (default ``runs/lfw``,
the folder `facebench eval-lfw` writes: embeddings it computed are read, not recomputed).

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/lfw_protocol_variants.py \
        mobilefacenet_casia mobilefacenet_tflite edgeface_xs_q edgeface_xxs_q
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facebench.datasets import load_lfw_pairs
from facebench.metrics import kfold_accuracy
from facebench.metrics.verification import best_threshold


def _mean_centred_accuracy(
    first: np.ndarray, second: np.ndarray, same: np.ndarray, folds: np.ndarray
) -> np.ndarray:
    accuracies = []
    for fold in np.unique(folds):
        test, train = folds == fold, folds != fold
        mean = np.concatenate([first[train], second[train]]).mean(axis=0)

        def score(a: np.ndarray, b: np.ndarray, mean: np.ndarray = mean) -> np.ndarray:
            a, b = a - mean, b - mean
            return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

        threshold, _ = best_threshold(score(first[train], second[train]), same[train])
        accuracies.append(((score(first[test], second[test]) >= threshold) == same[test]).mean())
    return np.asarray(accuracies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("recognizers", nargs="+")
    parser.add_argument("--detector", default="retinaface_mnet025")
    parser.add_argument("--out", type=Path, default=Path("runs/lfw"))
    args = parser.parse_args()

    from facebench.bench.stages import embed_images
    from facebench.detectors import create as create_detector
    from facebench.recognizers import create as create_recognizer

    pairs = load_lfw_pairs()
    detector = create_detector(args.detector)
    for name in args.recognizers:
        recognizer = create_recognizer(name)
        vectors, _ = embed_images(
            detector, recognizer, "similarity", pairs.images, args.out, show_progress=False
        )
        missing = np.full(recognizer.embedding_dim, np.nan, np.float32)
        first = np.stack([vectors.get(str(p), missing) for p in pairs.first])
        second = np.stack([vectors.get(str(p), missing) for p in pairs.second])
        cosine = kfold_accuracy((first * second).sum(1), pairs.is_same, pairs.fold)
        centred = _mean_centred_accuracy(first, second, pairs.is_same, pairs.fold)
        print(
            f"{args.detector} + {name}: cosine {100 * cosine.mean:.2f} ± {100 * cosine.std:.2f}; "
            f"mean-centred {100 * centred.mean():.2f} ± {100 * centred.std():.2f}"
        )


if __name__ == "__main__":
    main()
