"""ROC analysis of verification scores: ROC curve, AUC, EER and TAR at fixed FAR.

Scores are similarities (higher means "same"); a pair is accepted when ``score >= threshold``.
NaN scores (a face was not found) are treated as -inf: below every real score and tied with each
other, so such a pair is rejected at every finite threshold (a false reject when genuine).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_FARS", "eer", "roc_auc", "roc_curve", "tar_at_far"]

DEFAULT_FARS: tuple[float, ...] = (1e-1, 1e-2, 1e-3, 1e-4)


def _clean(scores: np.ndarray, is_same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, np.float64)
    is_same = np.asarray(is_same, bool)
    if scores.shape != is_same.shape or scores.ndim != 1:
        raise ValueError(
            f"`scores` and `is_same` must be 1-D of equal length, got {scores.shape} and {is_same.shape}"
        )
    if is_same.all() or not is_same.any():
        raise ValueError("ROC analysis needs both genuine (same) and impostor (different) pairs")
    return np.where(np.isnan(scores), -np.inf, scores), is_same


def roc_curve(scores: np.ndarray, is_same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-accept rate, true-accept rate and thresholds at every distinct score.

    Equal to scikit-learn's ``roc_curve(is_same, scores, drop_intermediate=False)``: the first
    point is (0, 0) at threshold +inf, then one point per distinct score, highest first.
    """
    scores, is_same = _clean(scores, is_same)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_same = scores[order], is_same[order]
    last_of_value = np.r_[np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]), len(sorted_scores) - 1]
    true_accepts = np.cumsum(sorted_same)[last_of_value]
    false_accepts = (last_of_value + 1) - true_accepts
    tpr = np.r_[0.0, true_accepts / is_same.sum()]
    fpr = np.r_[0.0, false_accepts / (~is_same).sum()]
    thresholds = np.r_[np.inf, sorted_scores[last_of_value]]
    return fpr, tpr, thresholds


def roc_auc(scores: np.ndarray, is_same: np.ndarray) -> float:
    """Area under the ROC curve (trapezoidal rule over `roc_curve`)."""
    fpr, tpr, _ = roc_curve(scores, is_same)
    return float(np.trapezoid(tpr, fpr))


def eer(scores: np.ndarray, is_same: np.ndarray) -> tuple[float, float]:
    """Equal error rate and its threshold: where false accepts equal false rejects.

    Interpolates linearly between the two ROC points that bracket FAR = FRR.
    """
    fpr, tpr, thresholds = roc_curve(scores, is_same)
    frr = 1.0 - tpr
    crossing = int(np.flatnonzero(fpr >= frr)[0])
    if crossing == 0:
        return float(fpr[0]), float(thresholds[0])
    before, after = crossing - 1, crossing
    gap_before = frr[before] - fpr[before]
    gap_after = fpr[after] - frr[after]
    weight = gap_before / (gap_before + gap_after) if gap_before + gap_after > 0 else 0.0
    rate = fpr[before] + weight * (fpr[after] - fpr[before])
    low, high = thresholds[after], thresholds[before]
    threshold = low if not np.isfinite(high) else high + weight * (low - high)
    return float(rate), float(threshold)


def tar_at_far(
    scores: np.ndarray, is_same: np.ndarray, fars: Sequence[float] = DEFAULT_FARS
) -> dict[float, float | None]:
    """True-accept rate at the strictest threshold whose false-accept rate is at most each FAR.

    A FAR is only measurable when the impostor pairs can express it: with ``n`` impostors the
    smallest non-zero FAR is ``1/n``, so a target below that is reported as ``None`` ("not
    measurable") instead of a number read off a curve that has no point there.
    """
    fpr, tpr, _ = roc_curve(scores, is_same)
    impostors = int((~np.asarray(is_same, bool)).sum())
    out: dict[float, float | None] = {}
    for far in fars:
        if far <= 0 or impostors * far < 1.0 - 1e-9:
            out[far] = None
            continue
        allowed = np.flatnonzero(fpr <= far + 1e-12)
        out[far] = float(tpr[allowed[-1]])
    return out
