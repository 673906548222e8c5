"""Identification benchmark: embed gallery and probes through the cached stages, then CMC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from facebench.align import AlignMethod
from facebench.atomic import atomic_write_text
from facebench.bench.stages import embed_images
from facebench.datasets.identities import IdentificationSet
from facebench.detectors import Detector
from facebench.metrics.identification import cmc_curve
from facebench.recognizers import Recognizer

__all__ = ["run_identification"]


def run_identification(
    data: IdentificationSet, detector: Detector, recognizer: Recognizer, method: AlignMethod, out_dir: Path
) -> dict[str, Any]:
    """Rank-1/rank-5 and the CMC up to rank 20; writes ``identification.json`` in ``out_dir``."""
    vectors, _ = embed_images(detector, recognizer, method, data.images, out_dir)
    missing = np.full(recognizer.embedding_dim, np.nan, np.float32)
    gallery = np.stack([vectors.get(str(p), missing) for p in data.gallery])
    probes = np.stack([vectors.get(str(p), missing) for p in data.probes])
    similarity = np.stack(
        [recognizer.similarity(np.repeat(row[None], len(gallery), 0), gallery) for row in probes]
    )
    curve = cmc_curve(similarity, data.probe_identity, data.gallery_identity)
    record = {
        "detector": detector.name,
        "align": method,
        "recognizer": recognizer.name,
        "gallery": len(data.gallery),
        "probes": len(data.probes),
        "rank1": round(float(curve[0]), 6),
        "rank5": round(float(curve[4]), 6) if len(curve) >= 5 else None,
        "cmc": [round(float(v), 6) for v in curve],
        "probes_without_face": int(np.isnan(probes).any(axis=1).sum()),
        "policy": "gallery = first image per identity, probes = the rest; a probe without a face is never identified",
    }
    atomic_write_text(out_dir / "identification.json", json.dumps(record, indent=2))
    return record
