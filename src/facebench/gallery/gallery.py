"""Galleries: enrolled faces in a FAISS index, searchable by image or embedding, saved to disk.

A gallery belongs to one detector + alignment + recognizer configuration (its ``config`` with
every weight file's sha256): it embeds query images with those models, and refuses a search
that names another recognizer, naming both, so embeddings of two models are never compared.
Saved galleries are a folder: ``index.faiss``, ``gallery.parquet`` (id, identity, path,
removed) and ``gallery.json`` (format, configuration, index kind, and the sha256 of both files,
checked on load).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facebench.atomic import atomic_write_text
from facebench.bench.store import config_digest
from facebench.defaults import DEFAULT_DETECTOR, GALLERY_RECOGNIZER
from facebench.errors import FacebenchError
from facebench.extras import require
from facebench.gallery.index import FaissIndex, choose_kind

__all__ = ["FORMAT", "Gallery", "Match", "SearchResult", "enrolment_images"]

FORMAT = "facebench.gallery/1"
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class Match:
    identity: str
    score: float
    path: str


@dataclass(frozen=True)
class SearchResult:
    """The matches of one probe, best first (empty with an ``error`` when it has no face)."""

    image: str
    matches: tuple[Match, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"image": self.image, "matches": [m.__dict__ for m in self.matches]}
        if self.error is not None:
            record["error"] = self.error
        return record


def enrolment_images(folder: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """``(identity, image)`` for every image under ``folder`` (recursively), the identity being the
    first-level sub-folder it is in; images directly in ``folder`` are refused (no identity)."""
    root = Path(folder)
    if not root.is_dir():
        raise FacebenchError(f"{root}: not a folder of identity sub-folders")
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in _IMAGE_SUFFIXES or not path.is_file():
            continue
        relative = path.relative_to(root)
        if len(relative.parts) < 2:
            raise FacebenchError(
                f"{path}: an image directly in {root} has no identity; put it in a sub-folder"
            )
        found.append((relative.parts[0], path))
    if not found:
        raise FacebenchError(f"{root}: no images ({', '.join(sorted(_IMAGE_SUFFIXES))}) in its sub-folders")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Gallery:
    """Enrolled faces of one model configuration (see the module docstring).

    Args:
        detector, recognizer: registry names (``NAME@ENGINE`` allowed) of the models that embed.
        align: alignment method.
        index: ``auto``, ``flat``, ``hnsw`` or ``ivfpq`` (`facebench.gallery.index`).
    """

    detector: str = DEFAULT_DETECTOR
    recognizer: str = GALLERY_RECOGNIZER
    align: str = "similarity"
    index: str = "auto"
    threads: int | None = None
    identities: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)
    #: images that could not be enrolled, and why
    skipped: dict[str, str] = field(default_factory=dict)
    _faiss: FaissIndex | None = field(default=None, repr=False)
    _models: tuple[Any, Any] | None = field(default=None, repr=False)

    # -- the models ------------------------------------------------------------------------
    def specs(self) -> tuple[Any, Any]:
        """The `ModelSpec` of the detector and of the recognizer (what it takes to build them)."""
        from facebench.bench.plan import ModelSpec, parse_model_name

        detector, detector_engine = parse_model_name(self.detector)
        recognizer, engine = parse_model_name(self.recognizer)
        return (
            ModelSpec.of("detector", detector, threads=self.threads, engine=detector_engine),
            ModelSpec.of("recognizer", recognizer, threads=self.threads, engine=engine),
        )

    def models(self) -> tuple[Any, Any]:
        """The detector and recognizer (built once, weights read)."""
        if self._models is None:
            from facebench.loading import loaded

            detector, recognizer = self.specs()
            self._models = (loaded(detector.describe()), loaded(recognizer.describe()))
        return self._models

    @property
    def config(self) -> dict[str, Any]:
        """What the enrolled embeddings depend on (models, options, weight digests)."""
        detector, recognizer = self.models()
        return {"detector": detector.config, "recognizer": recognizer.config, "align": self.align}

    @property
    def size(self) -> int:
        """Enrolled faces, not counting removed ones."""
        return len(self.identities) - len(self.removed)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        source: str | os.PathLike[str] | Sequence[tuple[str, str | os.PathLike[str]]],
        *,
        cache: str | os.PathLike[str],
        show_progress: bool = False,
        executor: Any = None,
        **options: Any,
    ) -> Gallery:
        """A gallery of every face in ``source``: a folder of identity sub-folders, or
        ``(identity, image)`` pairs. Detections and embeddings are kept in ``cache`` (a result
        store), so an interrupted build resumes and a rebuild computes only new images.
        ``executor`` (`facebench.bench.ray_executor.RayExecutor`) runs the images elsewhere."""
        gallery = cls(**options)
        entries = (
            enrolment_images(source)
            if isinstance(source, str | os.PathLike)
            else [(identity, Path(p)) for identity, p in source]
        )
        gallery.add_images(entries, cache=cache, show_progress=show_progress, executor=executor)
        return gallery

    def add_images(
        self,
        entries: Sequence[tuple[str, Path]],
        *,
        cache: str | os.PathLike[str],
        show_progress: bool = False,
        executor: Any = None,
    ) -> None:
        """Enrol the central face of each ``(identity, image)``; one without a face is skipped."""
        from facebench.bench.stages import embed_images

        # the built models locally; their specifications for an executor that builds its own
        detector, recognizer = self.models() if executor is None else self.specs()
        paths = [Path(p) for _, p in entries]
        vectors, output = embed_images(
            detector,
            recognizer,
            self.align,
            paths,
            Path(cache),
            show_progress=show_progress,
            executor=executor,
        )
        identities, kept, rows = [], [], []
        for identity, path in entries:
            vector = vectors.get(str(path))
            if vector is None:
                record = output.detections.get(str(path))
                reason = output.unreadable.get(str(path)) or output.errors.get(str(path))
                self.skipped[str(path)] = reason or (record.status.label if record is not None else "no face")
                continue
            identities.append(identity)
            kept.append(str(path))
            rows.append(vector)
        if rows:
            self.add(np.stack(rows), identities, kept)

    def add(self, embeddings: np.ndarray, identities: Sequence[str], paths: Sequence[str]) -> None:
        """Enrol L2-normalised ``(N, D)`` embeddings of this gallery's recognizer."""
        embeddings = np.asarray(embeddings, np.float32)
        if not (len(embeddings) == len(identities) == len(paths)):
            raise ValueError(
                f"{len(embeddings)} embeddings, {len(identities)} identities, {len(paths)} paths"
            )
        norms = np.linalg.norm(embeddings, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            raise ValueError("gallery embeddings must be L2-normalised (the recognizer's normalize=True)")
        if self._faiss is None:
            kind = choose_kind(len(embeddings)) if self.index == "auto" else self.index
            self._faiss = FaissIndex(embeddings.shape[1], kind, threads=self.threads)
        ids = np.arange(len(self.identities), len(self.identities) + len(embeddings), dtype=np.int64)
        self._faiss.add(embeddings, ids)
        self.identities += list(identities)
        self.paths += list(paths)

    def remove(self, identity: str | None = None, *, path: str | None = None) -> int:
        """Remove every face of ``identity`` (or the one enrolled from ``path``); returns how many."""
        if (identity is None) == (path is None):
            raise ValueError("remove takes an identity or a path")
        gone = {
            i
            for i, (name, enrolled) in enumerate(zip(self.identities, self.paths, strict=True))
            if i not in self.removed and (name == identity if identity is not None else enrolled == path)
        }
        self.removed |= gone
        if self._faiss is not None and len(self.removed) > 0.25 * len(self.identities):
            self._rebuild()
        return len(gone)

    def _rebuild(self) -> None:
        """A fresh index of the faces still enrolled (ids renumbered, removed faces dropped)."""
        assert self._faiss is not None
        keep = np.array([i for i in range(len(self.identities)) if i not in self.removed], np.int64)
        vectors = self._faiss.vectors(keep)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        identities = [self.identities[i] for i in keep]
        paths = [self.paths[i] for i in keep]
        self._faiss, self.identities, self.paths, self.removed = None, [], [], set()
        if len(keep):
            self.add(vectors, identities, paths)

    # -- searching -------------------------------------------------------------------------
    def check_recognizer(self, recognizer: str | None) -> None:
        """Refuse a search with another recognizer than the one that built this gallery."""
        if recognizer is not None and recognizer != self.recognizer:
            raise FacebenchError(
                f"this gallery was built with {self.recognizer}; it cannot be searched with {recognizer} "
                "(their embeddings are not comparable): rebuild it with that recognizer"
            )

    def search_embeddings(self, embeddings: np.ndarray, k: int = 5) -> list[tuple[Match, ...]]:
        """The ``k`` best enrolled faces for each ``(Q, D)`` embedding of this gallery's recognizer."""
        embeddings = np.atleast_2d(np.asarray(embeddings, np.float32))
        if self._faiss is None or self.size == 0:
            return [() for _ in embeddings]
        fetch = min(len(self.identities), k + len(self.removed))
        scores, ids = self._faiss.search(embeddings, fetch)
        results = []
        for row_scores, row_ids in zip(scores, ids, strict=True):
            matches = [
                Match(self.identities[i], float(s), self.paths[i])
                for s, i in zip(row_scores, row_ids, strict=True)
                if i >= 0 and int(i) not in self.removed
            ]
            results.append(tuple(matches[:k]))
        return results

    def search(
        self, images: Sequence[str | os.PathLike[str]], k: int = 5, *, recognizer: str | None = None
    ) -> list[SearchResult]:
        """Detect the best face of each image, embed it with this gallery's models and search.

        An image without a face (or unreadable) gets no matches and an ``error``.
        """
        self.check_recognizer(recognizer)
        from facebench.bench.no_face import central_face
        from facebench.errors import ImageError
        from facebench.image import load_image

        detector, model = self.models()
        results = []
        for image in images:
            try:
                rgb = load_image(image)
            except ImageError as error:
                results.append(SearchResult(str(image), error=str(error)))
                continue
            face = central_face(detector.detect_faces(rgb), rgb.shape[1], rgb.shape[0])
            if face is None:
                results.append(SearchResult(str(image), error="no face found"))
                continue
            embedding = model.embed_faces(rgb, [face], self.align)
            results.append(SearchResult(str(image), self.search_embeddings(embedding, k)[0]))
        return results

    # -- saving ----------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the gallery to ``folder`` (created); returns it."""
        pa = require("pyarrow", "saving a gallery")
        parquet = require("pyarrow.parquet", "saving a gallery")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self._faiss is None or self._faiss.index is None:
            raise FacebenchError("an empty gallery cannot be saved: enrol faces first")
        self._faiss.save(str(folder / "index.faiss"))
        table = pa.table(
            {
                "id": np.arange(len(self.identities), dtype=np.int64),
                "identity": self.identities,
                "path": self.paths,
                "removed": [i in self.removed for i in range(len(self.identities))],
            }
        )
        parquet.write_table(table, folder / "gallery.parquet")
        config = self.config
        manifest = {
            "format": FORMAT,
            "detector": self.detector,
            "recognizer": self.recognizer,
            "align": self.align,
            "index": self._faiss.kind,
            "dim": self._faiss.dim,
            "config": config,
            "config_digest": config_digest(config),
            "skipped": self.skipped,
            "sha256": {name: _sha256(folder / name) for name in ("index.faiss", "gallery.parquet")},
        }
        atomic_write_text(folder / "gallery.json", json.dumps(manifest, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, threads: int | None = None) -> Gallery:
        """Read a saved gallery; its files must match the sha256 its manifest recorded, and its
        models' configuration (weights included) the one it was built with.

        Raises:
            FacebenchError: not a gallery, a file changed since it was saved, or the models differ.
        """
        parquet = require("pyarrow.parquet", "loading a gallery")
        folder = Path(folder)
        manifest_path = folder / "gallery.json"
        if not manifest_path.is_file():
            raise FacebenchError(
                f"{folder}: not a gallery (no gallery.json); build one with `facebench index build`"
            )
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT:
            raise FacebenchError(f"{manifest_path}: format {manifest.get('format')!r}, expected {FORMAT}")
        for name, digest in manifest["sha256"].items():
            if not (folder / name).is_file() or _sha256(folder / name) != digest:
                raise FacebenchError(f"{folder / name} is missing or changed since the gallery was saved")
        gallery = cls(
            detector=manifest["detector"],
            recognizer=manifest["recognizer"],
            align=manifest["align"],
            index=manifest["index"],
            threads=threads,
            skipped=manifest.get("skipped", {}),
        )
        if config_digest(gallery.config) != manifest["config_digest"]:
            raise FacebenchError(
                f"{folder}: its models changed since it was built (weights, options or code version of "
                f"{manifest['detector']} / {manifest['recognizer']}); rebuild it"
            )
        table = parquet.read_table(folder / "gallery.parquet").to_pydict()
        gallery.identities = list(table["identity"])
        gallery.paths = list(table["path"])
        gallery.removed = {i for i, gone in enumerate(table["removed"]) if gone}
        gallery._faiss = FaissIndex.load(
            str(folder / "index.faiss"), manifest["dim"], manifest["index"], threads
        )
        return gallery
