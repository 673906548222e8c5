"""Closed-set identification: cumulative match characteristic (CMC), rank-1 and rank-5."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["cmc_curve", "open_set_rates", "rank_rate"]


def cmc_curve(
    similarity: np.ndarray, probe_identity: Sequence[str], gallery_identity: Sequence[str], max_rank: int = 20
) -> np.ndarray:
    """Fraction of probes whose true identity is among the top-k gallery matches, k = 1..max_rank.

    Args:
        similarity: ``(probes, gallery)`` scores; NaN rows (a probe without a face) never match.
    """
    gallery = np.asarray(gallery_identity)
    probes = np.asarray(probe_identity)
    scores = np.where(np.isnan(similarity), -np.inf, similarity)
    truth = gallery[None, :] == probes[:, None]
    if not truth.any(axis=1).all():
        raise ValueError("every probe's identity must be in the gallery (closed-set identification)")
    true_score = np.where(truth, scores, -np.inf).max(axis=1)
    # rank = 1 + number of gallery entries of another identity scoring strictly higher
    rank = 1 + ((scores > true_score[:, None]) & ~truth).sum(axis=1)
    rank = np.where(np.isneginf(true_score), len(gallery) + 1, rank)  # no face: never identified
    return np.array([(rank <= k).mean() for k in range(1, max_rank + 1)])


def open_set_rates(
    mated_rank: np.ndarray, mated_score: np.ndarray, non_mated_top: np.ndarray, fpirs: Sequence[float]
) -> dict[str, float | None]:
    """Open-set detection and identification rate (DIR, NIST's TPIR at rank 1) at each FPIR.

    ``mated_rank`` and ``mated_score`` are each mated probe's rank and best mate score,
    ``non_mated_top`` each non-mated probe's best score. At FPIR ``f`` the threshold is the
    ``⌊f·n⌋+1``-th highest of the ``n`` non-mated scores (so at most ``⌊f·n⌋`` of them lie above
    it); DIR is the fraction of mated probes at rank 1 scoring above it. ``None`` where ``f·n < 1``
    (too few non-mated probes to measure that FPIR) or there is no mated probe.
    """
    ordered = np.sort(np.asarray(non_mated_top, np.float64))[::-1]
    rates: dict[str, float | None] = {}
    for fpir in fpirs:
        allowed = int(np.floor(fpir * len(ordered) + 1e-9))
        if allowed < 1 or len(mated_rank) == 0:
            rates[f"{fpir:g}"] = None
            continue
        threshold = ordered[allowed] if allowed < len(ordered) else -np.inf
        rates[f"{fpir:g}"] = float(
            ((np.asarray(mated_rank) == 1) & (np.asarray(mated_score) > threshold)).mean()
        )
    return rates


def rank_rate(cmc: Sequence[float], k: int) -> float | None:
    """The rank-``k`` identification rate read off a CMC (``None`` when it stops before ``k``)."""
    return float(cmc[k - 1]) if len(cmc) >= k else None
