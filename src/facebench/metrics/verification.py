"""Verification accuracy under the LFW protocol: the threshold is chosen on the other folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "INSIGHTFACE_THRESHOLDS",
    "KFoldResult",
    "best_threshold",
    "insightface_kfold_accuracy",
    "kfold_accuracy",
]


@dataclass(frozen=True)
class KFoldResult:
    """Per-fold accuracies and thresholds of a k-fold verification run."""

    fold_accuracy: np.ndarray
    fold_threshold: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.fold_accuracy.mean())

    @property
    def std(self) -> float:
        return float(self.fold_accuracy.std())

    def __str__(self) -> str:
        return f"{100 * self.mean:.2f} ± {100 * self.std:.2f} % ({len(self.fold_accuracy)} folds)"


def _missing_as_different(scores: np.ndarray) -> np.ndarray:
    """NaN scores (no face found) as −inf: below every threshold, so always "different"."""
    scores = np.asarray(scores, np.float64)
    return np.where(np.isnan(scores), -np.inf, scores)


def best_threshold(scores: np.ndarray, is_same: np.ndarray) -> tuple[float, float]:
    """The threshold maximising accuracy of ``score >= threshold`` ⇒ same, and that accuracy.

    Every distinct score is a candidate (plus +inf), evaluated at once with cumulative counts;
    ties go to the lowest such threshold. Candidates lie midway between consecutive distinct
    scores, so the threshold generalises symmetrically. A NaN score (a face was not found) counts
    as "different".
    """
    scores = _missing_as_different(scores)
    is_same = np.asarray(is_same, bool)
    order = np.argsort(scores, kind="stable")
    sorted_scores, sorted_same = scores[order], is_same[order]
    distinct = np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]) + 1  # first index of each new value
    starts = np.concatenate([[0], distinct, [len(scores)]])
    # predicting "same" for indices >= start: positives at/above + negatives below
    positives_above = is_same.sum() - np.concatenate([[0], np.cumsum(sorted_same)])[starts]
    negatives_below = np.concatenate([[0], np.cumsum(~sorted_same)])[starts]
    accuracy = (positives_above + negatives_below) / len(scores)
    best = int(np.argmax(accuracy))
    if best == 0:
        threshold = sorted_scores[0] - 1e-6
    elif best == len(starts) - 1:
        threshold = np.inf
    else:
        threshold = (sorted_scores[starts[best] - 1] + sorted_scores[starts[best]]) / 2
    return float(threshold), float(accuracy[best])


def kfold_accuracy(scores: np.ndarray, is_same: np.ndarray, folds: np.ndarray) -> KFoldResult:
    """LFW-protocol accuracy: for each fold, pick the threshold on the others, score this one.

    A pair whose score is NaN (a face was not found) counts as predicted "different".
    """
    scores = _missing_as_different(scores)
    is_same = np.asarray(is_same, bool)
    folds = np.asarray(folds)
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        test = folds == fold
        train = ~test if (~test).any() else test
        threshold, _ = best_threshold(scores[train], is_same[train])
        accuracies.append(float(((scores[test] >= threshold) == is_same[test]).mean()))
        thresholds.append(threshold)
    return KFoldResult(np.asarray(accuracies), np.asarray(thresholds))


#: InsightFace's threshold grid on the squared L2 distance of unit embeddings (``np.arange(0, 4, 0.01)``)
INSIGHTFACE_THRESHOLDS = np.arange(0, 4, 0.01)


def insightface_kfold_accuracy(
    first: np.ndarray, second: np.ndarray, is_same: np.ndarray, folds: np.ndarray
) -> KFoldResult:
    """Verification accuracy exactly as InsightFace's ``verification.py`` reports it.

    ``first`` and ``second`` are L2-normalised embeddings of each pair's faces; a pair is "same"
    when their squared distance is below the threshold. For each fold, the threshold of
    `INSIGHTFACE_THRESHOLDS` with the best accuracy on the other folds (the first on ties) is
    applied to this fold. Thresholds are returned as distances (cosine = 1 − d²/2).
    """
    distance = ((np.asarray(first, np.float64) - np.asarray(second, np.float64)) ** 2).sum(axis=1)
    is_same = np.asarray(is_same, bool)
    folds = np.asarray(folds)
    # (thresholds, pairs): whether each threshold decides each pair correctly
    correct = (distance[None, :] < INSIGHTFACE_THRESHOLDS[:, None]) == is_same[None, :]
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        test = folds == fold
        train = ~test if (~test).any() else test
        best = int(np.argmax(correct[:, train].mean(axis=1)))
        accuracies.append(float(correct[best, test].mean()))
        thresholds.append(float(INSIGHTFACE_THRESHOLDS[best]))
    return KFoldResult(np.asarray(accuracies), np.asarray(thresholds))
