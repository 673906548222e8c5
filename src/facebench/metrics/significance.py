"""Is a pipeline's accuracy really different? Confidence intervals and paired tests over the same pairs."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mcnemar_exact", "wilson_interval"]


def wilson_interval(correct: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``correct/total`` (well-behaved near 0 and 1)."""
    if total <= 0:
        return (math.nan, math.nan)
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact(first_correct: np.ndarray, second_correct: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar test on paired decisions: (only first right, only second right, two-sided p).

    Under the null hypothesis that both pipelines err equally often, the discordant pairs split
    like a fair coin; the p-value is the exact binomial probability of a split at least this uneven.
    """
    from scipy.stats import binomtest

    first_correct = np.asarray(first_correct, bool)
    second_correct = np.asarray(second_correct, bool)
    only_first = int((first_correct & ~second_correct).sum())
    only_second = int((~first_correct & second_correct).sum())
    discordant = only_first + only_second
    p_value = 1.0 if discordant == 0 else float(binomtest(only_first, discordant, 0.5).pvalue)
    return only_first, only_second, p_value
