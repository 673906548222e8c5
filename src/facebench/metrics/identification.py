"""Closed-set identification: cumulative match characteristic (CMC), rank-1 and rank-5."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["cmc_curve"]


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
