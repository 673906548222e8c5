"""Default decision thresholds (cosine similarity) per recognizer, with their provenance.

Each value is the threshold that maximises accuracy over all 6,000 LFW View-2 pairs for the
pipeline named in its provenance (`facebench eval-lfw`, field ``threshold_all_pairs`` of
runs/lfw/results.json). A threshold belongs to a pipeline: another detector, alignment or
dataset may call for another one, which `facebench eval-lfw` measures.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_THRESHOLDS", "Threshold"]


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    provenance: str


_LFW = "LFW View 2, all 6,000 pairs, detector retinaface_mnet025, alignment similarity, no flip"

DEFAULT_THRESHOLDS: dict[str, Threshold] = {}
