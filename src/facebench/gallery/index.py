"""FAISS indexes over L2-normalised embeddings (inner product = cosine), by kind.

- ``flat``: exact search (``IndexFlatIP``), the reference every other kind is checked against;
- ``hnsw``: a graph walked on 8-bit scalar codes (``IndexHNSWSQ``, M = 32, efConstruction 80,
  efSearch 256), its top 2·k candidates re-ranked on the raw vectors (``IndexRefineFlat``), so
  scores are exact inner products: memory about the raw vectors plus a quarter of them plus the
  graph; the codes' per-dimension range is trained on the first vectors given (widened by a
  quarter when they are fewer than 10,000); its buffers are mapped on 2 MiB pages. At a million
  faces on 2 cores: 1.7 ms a query, recall@1 0.995 against exact search (docs/BENCHMARKS.md,
  ``benchmarks/gallery_search.py``);
- ``ivfpq``: inverted lists over product-quantised codes (``IndexIVFPQ``: √N·4 lists, 64
  sub-quantisers of 8 bits, 128 lists probed), its top 8·k candidates re-ranked on 8-bit scalar
  codes (``IndexRefine``): 64 + D bytes per face, for millions of faces in RAM; it trains on
  the vectors it is first given.

``auto`` picks ``flat`` below 50,000 faces, ``hnsw`` up to 2 million and ``ivfpq`` above.
Each vector carries an int64 id (its row in the gallery's metadata); removed ids are filtered
out of results (HNSW cannot delete in place), and the index is rebuilt from its own stored
vectors once a quarter of it is removed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any

import numpy as np

from facebench.extras import require

__all__ = ["INDEX_KINDS", "FaissIndex", "choose_kind"]

INDEX_KINDS = ("flat", "hnsw", "ivfpq")
_FLAT_BELOW = 50_000
_HNSW_UP_TO = 2_000_000


def choose_kind(count: int) -> str:
    """The ``auto`` index kind for ``count`` faces."""
    return "flat" if count < _FLAT_BELOW else "hnsw" if count <= _HNSW_UP_TO else "ivfpq"


def _faiss() -> Any:
    return require("faiss", "FAISS galleries")


_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE, _MADV_COLLAPSE = 14, 25  # <linux/mman.h>; MADV_COLLAPSE needs Linux ≥ 6.1


@functools.cache
def _madvise() -> Any:
    madvise = ctypes.CDLL(ctypes.util.find_library("c")).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


def _graph_buffers(index: Any) -> list[Any]:
    """The big buffers a graph search reads at random: codes, neighbour lists, re-rank vectors."""
    faiss = _faiss()
    refined = faiss.downcast_index(faiss.downcast_index(index.index).index)
    graph = faiss.downcast_index(refined.base_index)
    return [
        faiss.downcast_index(graph.storage).codes,
        graph.hnsw.neighbors,
        faiss.downcast_index(refined.refine_index).codes,
    ]


def _back_with_huge_pages(buffers: list[Any]) -> None:
    """Ask Linux to map ``buffers`` (FAISS vectors) with 2 MiB pages, now and as they grow.

    A graph walk touches a few thousand stored vectors scattered over hundreds of MB: with 4 KiB
    pages nearly each one also misses the TLB. FAISS allocates with plain ``new`` and the usual
    THP mode is ``madvise``, so without this its buffers stay on 4 KiB pages (at a million faces:
    2.1 → 1.7 ms a query at recall 0.995, docs/BENCHMARKS.md). Best effort: where the kernel
    refuses, nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return
    for buffer in buffers:
        start = int(buffer.data())
        first = -(-start // _HUGE_PAGE) * _HUGE_PAGE
        last = (start + int(buffer.byte_size())) // _HUGE_PAGE * _HUGE_PAGE
        if last > first:
            for advice in (_MADV_HUGEPAGE, _MADV_COLLAPSE):
                _madvise()(first, last - first, advice)


class FaissIndex:
    """One FAISS index of ``dim``-d unit vectors with int64 ids."""

    def __init__(self, dim: int, kind: str = "flat", *, threads: int | None = None) -> None:
        if kind not in INDEX_KINDS:
            raise ValueError(
                f"Expected an index kind among {', '.join(INDEX_KINDS)} or auto, but got {kind!r}"
            )
        self.dim, self.kind = dim, kind
        faiss = _faiss()
        if threads:
            faiss.omp_set_num_threads(threads)
        self.index: Any = None

    def _empty(self, training: np.ndarray | None) -> Any:
        """A fresh index; the approximate kinds are a coarse search re-ranked, trained on ``training``."""
        faiss = _faiss()
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        assert training is not None
        if self.kind == "hnsw":
            # a graph walk reads a stored vector per distance: 8-bit codes read a quarter of
            # float32's bytes (at a million faces: 3.5 → 2.1 ms a query at recall 0.995,
            # docs/BENCHMARKS.md); the exact re-rank keeps scores (and open-set thresholds) raw
            graph = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, 32, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = 80
            graph.hnsw.efSearch = 256
            # a small first sample underestimates each dimension's range: leave room for later faces
            faiss.downcast_index(graph.storage).sq.rangestat_arg = 0.25 if len(training) < 10_000 else 0.0
            refined = faiss.IndexRefineFlat(graph)
            refined.k_factor = 2
        else:
            lists = max(
                1, min(int(4 * np.sqrt(len(training))), len(training) // 39)
            )  # FAISS wants ≥ 39 per list
            quantizer = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFPQ(
                quantizer, self.dim, lists, 64 if self.dim % 64 == 0 else 8, 8, faiss.METRIC_INNER_PRODUCT
            )
            index.nprobe = min(128, lists)
            # PQ codes alone rank near-duplicates loosely; re-ranking on 8-bit codes restores recall
            refined = faiss.IndexRefine(
                index,
                faiss.IndexScalarQuantizer(
                    self.dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
                ),
            )
            refined.k_factor = 8
        refined.train(training)  # add() already made it contiguous float32
        return faiss.IndexIDMap2(refined)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add unit ``(N, dim)`` vectors under ``ids`` (HNSW and IVF-PQ train on the first batch)."""
        vectors = np.ascontiguousarray(vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected (N, {self.dim}) embeddings, got {vectors.shape}")
        if self.index is None:
            if self.kind == "ivfpq" and len(vectors) < 256:
                raise ValueError(
                    f"an ivfpq index trains on its first vectors: give at least 256, not {len(vectors)}"
                )
            self.index = self._empty(vectors if self.kind != "flat" else None)
        self.index.add_with_ids(vectors, np.asarray(ids, np.int64))
        self._map_graph_on_huge_pages()

    def _map_graph_on_huge_pages(self) -> None:
        """After each add or load: a graph walk reads its buffers at random (exact search, in order)."""
        if self.kind == "hnsw":
            _back_with_huge_pages(_graph_buffers(self))

    @property
    def size(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)``, each ``(Q, k)``, best first; id −1 where fewer than k exist."""
        queries = np.ascontiguousarray(queries, np.float32)
        if self.index is None or self.size == 0:
            return np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64)
        scores, ids = self.index.search(queries, k)
        return scores, ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (for a rebuild; IVF-PQ gives its 8-bit approximation, HNSW the raw ones)."""
        return (
            np.stack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.dim))
        )

    def save(self, path: str) -> None:
        _faiss().write_index(self.index, path)

    @classmethod
    def load(cls, path: str, dim: int, kind: str, threads: int | None = None) -> FaissIndex:
        index = cls(dim, kind, threads=threads)
        index.index = _faiss().read_index(path)
        if int(index.index.d) != dim:
            raise ValueError(f"{path}: a {index.index.d}-d index, the gallery says {dim}")
        index._map_graph_on_huge_pages()
        return index
