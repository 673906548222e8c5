"""LFW accuracy of cached embeddings under two scoring protocols, to explain gaps to published numbers.

* ``cosine``: facebench's protocol (cosine of L2-normalised embeddings, threshold from 9 folds).
* ``mean-centred``: the SphereFace/MobileFaceNet evaluation: subtract the mean embedding of the
  nine training folds, re-normalise, then cosine (Xiaoccer's and SphereFace's lfw_eval).

Reads the embedding caches that `facebench eval-lfw --out runs/lfw` wrote.

    FACEBENCH_HOME=../shared .venv/bin/python benchmarks/lfw_protocol_variants.py runs/lfw/cache/emb_*.npz
"""

from __future__ import annotations

import sys
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
    pairs = load_lfw_pairs()
    for cache in sorted(Path(p) for p in sys.argv[1:]):
        data = np.load(cache, allow_pickle=False)
        table = dict(zip(data["keys"].tolist(), data["values"], strict=True))
        first = np.stack([table[str(p)] for p in pairs.first])
        second = np.stack([table[str(p)] for p in pairs.second])
        cosine = kfold_accuracy((first * second).sum(1), pairs.is_same, pairs.fold)
        centred = _mean_centred_accuracy(first, second, pairs.is_same, pairs.fold)
        name = cache.stem.removeprefix("emb_")
        print(
            f"{name}: cosine {100 * cosine.mean:.2f} ± {100 * cosine.std:.2f}; "
            f"mean-centred {100 * centred.mean():.2f} ± {100 * centred.std():.2f}"
        )


if __name__ == "__main__":
    main()
