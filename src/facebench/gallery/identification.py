"""Identification through a gallery index: closed-set rank-k and CMC, open-set DIR, distractors.

The gallery holds the first image of every identity (`IdentificationSet.gallery`) plus any
distractors (images or embeddings of people who are never probes, as MegaFace adds them); the
probes are searched through its FAISS index (`facebench.gallery`), never by a loop over pairs.
A mated probe's rank is the position of the first match of its identity among the top
``max_rank`` (beyond that, or without a face: not identified). Non-mated probes (identities that
are not enrolled, ``open_set``) set the thresholds of the open-set DIR at each FPIR.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facebench.atomic import atomic_write_text
from facebench.bench.stages import embed_images
from facebench.datasets.identities import IdentificationSet
from facebench.gallery.gallery import Gallery
from facebench.metrics.identification import open_set_rates, rank_rate

__all__ = ["DISTRACTOR", "IdentificationResult", "run_identification"]

#: the identity distractors are enrolled under (never a probe's)
DISTRACTOR = "__distractor__"
FPIRS = (1e-3, 1e-2, 1e-1)


@dataclass(frozen=True)
class IdentificationResult:
    detector: str
    align: str
    recognizer: str
    gallery: int
    distractors: int
    probes: int
    non_mated_probes: int
    probes_without_face: int
    index: str
    cmc: tuple[float, ...]
    dir_at_fpir: dict[str, float | None]
    policy: str

    @property
    def rank1(self) -> float:
        return self.cmc[0]

    @property
    def rank5(self) -> float | None:
        return rank_rate(self.cmc, 5)

    @property
    def rank10(self) -> float | None:
        return rank_rate(self.cmc, 10)

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["cmc"] = list(self.cmc)
        record.update(rank1=self.rank1, rank5=self.rank5, rank10=self.rank10)
        return record


def run_identification(
    data: IdentificationSet,
    detector: Any,
    recognizer: Any,
    method: str,
    out_dir: Path,
    *,
    non_mated: list[Path] | None = None,
    distractors: list[Path] | np.ndarray | None = None,
    index: str = "auto",
    max_rank: int = 20,
) -> IdentificationResult:
    """Search every probe through a gallery of ``data.gallery`` (+ ``distractors``); writes
    ``identification.json`` in ``out_dir``. ``non_mated``: probe images of people not enrolled."""
    non_mated = list(non_mated or [])
    distractor_images = (
        [] if distractors is None or isinstance(distractors, np.ndarray) else list(distractors)
    )
    images = sorted(set(data.images) | set(non_mated) | set(distractor_images))
    vectors, _ = embed_images(detector, recognizer, method, images, out_dir)
    gallery = Gallery(
        detector.name, recognizer.name, method, index=index, threads=getattr(recognizer, "threads", None)
    )
    gallery._models = (detector, recognizer)
    enrolled = [(identity, path) for identity, path in zip(data.gallery_identity, data.gallery, strict=True)]
    enrolled += [(DISTRACTOR, path) for path in distractor_images]
    kept = [(identity, path) for identity, path in enrolled if str(path) in vectors]
    extra = distractors if isinstance(distractors, np.ndarray) else None
    rows = [vectors[str(path)] for _, path in kept]
    identities = [identity for identity, _ in kept]
    paths = [str(path) for _, path in kept]
    if extra is not None and len(extra):
        rows += list(np.asarray(extra, np.float32))
        identities += [DISTRACTOR] * len(extra)
        paths += [f"distractor:{i}" for i in range(len(extra))]
    gallery.add(np.stack(rows), identities, paths)
    probe_paths = list(data.probes) + non_mated
    probe_identity = list(data.probe_identity) + [None] * len(non_mated)
    found = [str(p) in vectors for p in probe_paths]
    queries = np.stack([vectors[str(p)] for p, ok in zip(probe_paths, found, strict=True) if ok])
    matches = iter(gallery.search_embeddings(queries, k=max_rank))
    ranks, mate_scores, non_mated_top = [], [], []
    for identity, ok in zip(probe_identity, found, strict=True):
        top = next(matches) if ok else ()
        if identity is None:  # a non-mated probe: its best score, whoever it matched (no face: never alarms)
            non_mated_top.append(top[0].score if top else -np.inf)
            continue
        position = next((i for i, m in enumerate(top) if m.identity == identity), None)
        ranks.append(max_rank + 1 if position is None else position + 1)
        mate_scores.append(top[position].score if position is not None else -np.inf)
    rank = np.asarray(ranks)
    cmc = tuple(round(float((rank <= k).mean()), 6) for k in range(1, max_rank + 1))
    dir_at_fpir = open_set_rates(rank, np.asarray(mate_scores), np.asarray(non_mated_top), FPIRS)
    assert gallery._faiss is not None
    result = IdentificationResult(
        detector=detector.name,
        align=method,
        recognizer=recognizer.name,
        gallery=len(data.gallery),
        distractors=identities.count(DISTRACTOR),
        probes=len(data.probes),
        non_mated_probes=len(non_mated),
        probes_without_face=int(sum(not ok for ok in found)),
        index=gallery._faiss.kind,
        cmc=cmc,
        dir_at_fpir={k: None if v is None else round(v, 6) for k, v in dir_at_fpir.items()},
        policy=f"{data.split}; searched through a {gallery._faiss.kind} index; a probe without a face, "
        f"or whose mate is not in the top {max_rank}, is not identified"
        + ("; non-mated probes: identities never enrolled" if non_mated else ""),
    )
    atomic_write_text(out_dir / "identification.json", json.dumps(result.to_record(), indent=2))
    return result
