"""Template-based evaluation (IJB-B / IJB-C): template features, 1:1 verification, 1:N identification.

Template features are formed as InsightFace's IJB evaluation forms them, each switch a parameter:
an image's feature is its flip-sum embedding, kept un-normalised (its norm acts as a quality
weight, ``keep_norm``) and multiplied by the detector's faceness score (``faceness_weighting``);
images of one media (frames of one video) are averaged, the media of a template summed, and the
sum L2-normalised. Scores are cosines of template features.

1:1 pairs are scored in chunks (never a pairs × dim matrix: IJB-C has 15.7M pairs), and TAR at
FAR is reported only where the impostor count can measure the FAR. 1:N follows NIST: each gallery
(G1, G2) is searched separately by the mixed probes, mated probes (subject in the gallery) give
rank-k and TPIR, non-mated ones the false-positive identification rate; the two are averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facebench.metrics.identification import open_set_rates
from facebench.metrics.roc import tar_at_far

__all__ = [
    "IJB_FARS",
    "IJB_FPIRS",
    "OpenSetResult",
    "identify",
    "template_features",
    "template_pair_scores",
    "verify_templates",
]

IJB_FARS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
IJB_FPIRS = (1e-2, 1e-1)


def template_features(
    features: np.ndarray,
    templates: np.ndarray,
    medias: np.ndarray,
    faceness: np.ndarray | None = None,
    *,
    keep_norm: bool = True,
    faceness_weighting: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(template ids, L2-normalised (T, D) features)`` from per-image ``features``.

    A row of zeros (an image without a face) adds nothing; a template with nothing at all keeps
    a zero feature, whose cosine with anything is 0.
    """
    features = np.asarray(features, np.float64)
    if not keep_norm:
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        features = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
    if faceness_weighting:
        if faceness is None:
            raise ValueError("faceness_weighting needs the detector scores")
        features = features * np.asarray(faceness, np.float64)[:, None]
    unique_templates, template_of = np.unique(np.asarray(templates), return_inverse=True)
    # one group per (template, media): averaged, then the groups of a template summed
    groups, group_of = np.unique(
        np.stack([template_of, np.asarray(medias)], axis=1), axis=0, return_inverse=True
    )
    group_of = group_of.reshape(-1)
    sums = np.zeros((len(groups), features.shape[1]))
    np.add.at(sums, group_of, features)
    counts = np.bincount(group_of, minlength=len(groups)).astype(np.float64)
    means = sums / counts[:, None]
    totals = np.zeros((len(unique_templates), features.shape[1]))
    np.add.at(totals, groups[:, 0], means)
    norms = np.linalg.norm(totals, axis=1, keepdims=True)
    normalised = np.divide(totals, norms, out=np.zeros_like(totals), where=norms > 0)
    return unique_templates, normalised.astype(np.float32)


def template_pair_scores(
    ids: np.ndarray, features: np.ndarray, first: np.ndarray, second: np.ndarray, chunk: int = 100_000
) -> np.ndarray:
    """Cosine of each template pair, ``chunk`` pairs at a time (memory: chunk × dim, not pairs × dim)."""
    index_of_first = np.searchsorted(ids, first)
    index_of_second = np.searchsorted(ids, second)
    if (ids[np.minimum(index_of_first, len(ids) - 1)] != first).any() or (
        ids[np.minimum(index_of_second, len(ids) - 1)] != second
    ).any():
        raise ValueError("a pair names a template without features")
    scores = np.empty(len(first), np.float32)
    for start in range(0, len(first), chunk):
        stop = start + chunk
        scores[start:stop] = np.einsum(
            "ij,ij->i", features[index_of_first[start:stop]], features[index_of_second[start:stop]]
        )
    return scores


def verify_templates(
    scores: np.ndarray, labels: np.ndarray, fars: Sequence[float] = IJB_FARS
) -> dict[str, float | None]:
    """TAR at each FAR (``None`` where there are too few impostors to measure it)."""
    return {f"{far:g}": value for far, value in tar_at_far(scores, np.asarray(labels, bool), fars).items()}


@dataclass(frozen=True)
class OpenSetResult:
    """One gallery searched by the probes: closed-set ranks of mated probes, open-set TPIR."""

    gallery: str
    mated: int
    non_mated: int
    rank: dict[str, float]  # "1", "5", "10" → fraction of mated probes with their mate in the top k
    tpir_at_fpir: dict[str, float | None]  # FPIR → fraction of mated probes found at rank 1 above threshold


def identify(
    gallery_features: np.ndarray,
    gallery_subjects: np.ndarray,
    probe_features: np.ndarray,
    probe_subjects: np.ndarray,
    *,
    gallery: str = "gallery",
    ranks: Sequence[int] = (1, 5, 10),
    fpirs: Sequence[float] = IJB_FPIRS,
    chunk: int = 4096,
) -> OpenSetResult:
    """Search ``gallery_features`` with every probe (cosine; features L2-normalised).

    A probe is *mated* when its subject is in the gallery: its rank is 1 + the number of
    gallery templates of other subjects scoring strictly above its best mate. A non-mated
    probe's top score sets the threshold: at FPIR ``f`` it is the ``⌊f·n⌋+1``-th highest of the
    ``n`` non-mated top scores, and a mated probe counts for TPIR when its best mate is at rank 1
    and scores above it (``None`` when ``f·n < 1``).
    """
    gallery_subjects = np.asarray(gallery_subjects)
    probe_subjects = np.asarray(probe_subjects)
    mated = np.isin(probe_subjects, gallery_subjects)
    rank = np.zeros(len(probe_subjects), np.int64)
    mate_score = np.full(len(probe_subjects), -np.inf)
    top_score = np.zeros(len(probe_subjects))
    for start in range(0, len(probe_subjects), chunk):
        stop = start + chunk
        similarity = probe_features[start:stop].astype(np.float64) @ gallery_features.T.astype(np.float64)
        is_mate = gallery_subjects[None, :] == probe_subjects[start:stop, None]
        best_mate = np.where(is_mate, similarity, -np.inf).max(axis=1)
        above = ((similarity > best_mate[:, None]) & ~is_mate).sum(axis=1)
        rank[start:stop] = 1 + above
        mate_score[start:stop] = best_mate
        top_score[start:stop] = similarity.max(axis=1)
    mated_rank = rank[mated]
    rank_rates = {str(k): float((mated_rank <= k).mean()) if mated.any() else float("nan") for k in ranks}
    tpir = open_set_rates(mated_rank, mate_score[mated], top_score[~mated], fpirs)
    return OpenSetResult(gallery, int(mated.sum()), int((~mated).sum()), rank_rates, tpir)
