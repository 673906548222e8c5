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


_LFW = "LFW View 2, all 6,000 pairs, detector retinaface_mnet025@torch, alignment similarity, no flip"

# Measured 2026-11-22 with `facebench eval-lfw -d retinaface_mnet025 -r NAME` (facebench 0.1.0, when
# RetinaFace ran on eager PyTorch; `-d retinaface_mnet025@torch` reproduces that detector today);
# docs/RESULTS.md has the accuracies beside them.
DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    "edgeface_xs_q": Threshold(0.23977, _LFW),
    "edgeface_xxs_q": Threshold(0.21629, _LFW),
    "edgeface_xs_dequant": Threshold(0.201237, _LFW),
    "edgeface_xxs_dequant": Threshold(0.264291, _LFW),
    "mobilefacenet_casia": Threshold(0.281877, _LFW),
    "mobilefacenet_tflite": Threshold(0.321578, _LFW),
    "dlib_resnet": Threshold(0.900988, _LFW),
}
