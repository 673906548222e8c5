"""Verification accuracy under the LFW protocol: the threshold is chosen on the other folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "INSIGHTFACE_THRESHOLDS",
    "KFoldResult",
    "OperatingPoint",
    "best_threshold",
    "far_threshold",
    "insightface_kfold_accuracy",
    "kfold_accuracy",
    "operating_points",
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


def far_threshold(scores: np.ndarray, is_same: np.ndarray, far: float) -> float | None:
    """The lowest threshold whose false-accept rate on these pairs is at most ``far``.

    With ``n`` impostor pairs, at most ``floor(far * n)`` may score at or above it, so the
    threshold sits just above the impostor score ranked one past that allowance (ties stay
    rejected together). ``None`` when ``far * n < 1``: the impostors cannot express that rate,
    and a threshold "for" it would only be the highest impostor score.
    """
    scores = _missing_as_different(scores)
    impostor_scores = np.sort(scores[~np.asarray(is_same, bool)])[::-1]
    allowed = int(np.floor(far * len(impostor_scores) + 1e-9))
    if far <= 0 or allowed < 1:
        return None
    if allowed >= len(impostor_scores):
        return -np.inf
    return float(np.nextafter(impostor_scores[allowed], np.inf))


@dataclass(frozen=True)
class OperatingPoint:
    """A threshold for a target FAR chosen on the other folds, and what it gives on each held-out fold.

    Attributes:
        target_far: the false-accept rate asked for.
        fold_thresholds: per fold, the threshold chosen on the other folds (``None``: not measurable there).
        tar, far: true and false accept rates of the held-out folds pooled (``None``: not measurable).
        true_accepts, genuine, false_accepts, impostors: the counts behind them.
        single_fold: only one fold: the threshold was chosen on the very pairs it is tested on.
    """

    target_far: float
    fold_thresholds: tuple[float | None, ...]
    tar: float | None
    far: float | None
    true_accepts: int
    genuine: int
    false_accepts: int
    impostors: int
    single_fold: bool

    @property
    def measurable(self) -> bool:
        return self.tar is not None

    @property
    def threshold(self) -> float | None:
        """The mean of the fold thresholds: the value to deploy (``None`` when not measurable)."""
        known = [t for t in self.fold_thresholds if t is not None and np.isfinite(t)]
        return float(np.mean(known)) if known and len(known) == len(self.fold_thresholds) else None


def operating_points(
    scores: np.ndarray, is_same: np.ndarray, folds: np.ndarray, fars: tuple[float, ...] = (1e-1, 1e-2, 1e-3)
) -> tuple[OperatingPoint, ...]:
    """For each target FAR: per fold, the `far_threshold` of the other folds' pairs, applied to that
    fold; the held-out decisions pooled over folds give the TAR and FAR a deployment would see.

    A NaN score (a face was not found) is rejected at every threshold. A target is not measurable
    when any fold's training impostors cannot express it (``far * n < 1``).
    """
    clean = _missing_as_different(scores)
    is_same = np.asarray(is_same, bool)
    folds = np.asarray(folds)
    distinct = np.unique(folds)
    points = []
    for target in fars:
        thresholds: list[float | None] = []
        accepted = np.zeros(len(clean), bool)
        for fold in distinct:
            test = folds == fold
            train = ~test if len(distinct) > 1 else test
            threshold = far_threshold(clean[train], is_same[train], target)
            thresholds.append(threshold)
            if threshold is not None:
                accepted[test] = clean[test] >= threshold
        genuine, impostors = int(is_same.sum()), int((~is_same).sum())
        true_accepts = int((accepted & is_same).sum())
        false_accepts = int((accepted & ~is_same).sum())
        measurable = all(t is not None for t in thresholds) and genuine > 0 and impostors > 0
        points.append(
            OperatingPoint(
                target,
                tuple(thresholds),
                true_accepts / genuine if measurable else None,
                false_accepts / impostors if measurable else None,
                true_accepts,
                genuine,
                false_accepts,
                impostors,
                len(distinct) == 1,
            )
        )
    return tuple(points)
