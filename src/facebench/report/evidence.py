"""Error analysis: the pairs a pipeline got wrong (or nearly so), and the images it found no face in,
as small aligned thumbnails a report embeds.

The faces come from the benchmark's own store (the face each image kept under the run's detector
options), so a thumbnail shows what the recognizer saw and costs no inference. An image whose
face is not in any given store is shown whole; one that cannot be read is named, without a picture.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facebench.align import align_face, get_template
from facebench.bench.records import DetectionRecord, RecordError
from facebench.bench.results import PipelineResult
from facebench.bench.stages import detect_description
from facebench.bench.store import ResultStore, config_digest, content_key
from facebench.errors import FacebenchError, ImageError
from facebench.image import decode_image, read_image_file
from facebench.report.analysis import PairScores
from facebench.types import Face

__all__ = ["HardPair", "PipelineEvidence", "gather_evidence"]

THUMBNAIL_PX = 96


@dataclass(frozen=True)
class Thumbnail:
    """An image as the report shows it: its name, a JPEG data URI (``""``: unreadable) and what it is."""

    name: str
    uri: str
    note: str  # "aligned", "no face: whole image", "unreadable: …"


@dataclass(frozen=True)
class HardPair:
    """A pair near or past the decision threshold."""

    index: int
    same: bool
    score: float | None
    threshold: float | None
    error: bool
    first: Thumbnail
    second: Thumbnail


@dataclass(frozen=True)
class PipelineEvidence:
    """For one pipeline: the highest-scoring impostor pairs, the lowest-scoring genuine pairs and the
    images without a face, each capped at the report's ``k``."""

    pipeline: str
    impostors: tuple[HardPair, ...]
    genuine: tuple[HardPair, ...]
    no_face: tuple[Thumbnail, ...]
    no_face_total: int
    false_accepts: int
    false_rejects: int


class _Thumbnailer:
    """Aligned thumbnails of one run's images, looked up in the given stores (first hit wins)."""

    def __init__(self, run: PipelineResult, stores: Sequence[ResultStore]) -> None:
        self.run, self.stores = run, stores
        template = run.config.get("recognizer", {}).get("template", "arcface_112")
        try:
            self.template = get_template(template)
        except FacebenchError:
            self.template = get_template("arcface_112")
        # a pre-aligned protocol (``bin:``) has no detector: its images are shown as they are
        detector = run.config.get("detector")
        self.detect_digest = config_digest(detect_description(detector)) if detector else None
        self._seen: dict[str, tuple[np.ndarray | None, Face | None, bool, str]] = {}

    def face(self, path: str) -> tuple[np.ndarray | None, Face | None, bool, str]:
        """(RGB or None, the stored face, whether a store knew the image, the reason if unreadable);
        remembered, as an image often appears in several pairs."""
        if path not in self._seen:
            self._seen[path] = self._look_up(path)
        return self._seen[path]

    def _look_up(self, path: str) -> tuple[np.ndarray | None, Face | None, bool, str]:
        try:
            data = read_image_file(path)
            rgb = decode_image(data, name=Path(path).name).rgb
        except (ImageError, OSError) as error:
            return None, None, False, str(error)
        key = content_key(data)
        if self.detect_digest is None:
            return rgb, None, False, ""
        for store in self.stores:
            rows = store.get_many("detect", self.detect_digest, [key])
            if key in rows:
                with contextlib.suppress(RecordError):
                    return rgb, DetectionRecord.decode(rows[key]).face, True, ""
        return rgb, None, False, ""

    def thumbnail(self, path: str) -> Thumbnail:
        import cv2

        name = Path(path).name if path else "(no path recorded)"
        if not path:
            return Thumbnail(name, "", "no path recorded")
        rgb, face, known, reason = self.face(path)
        if rgb is None:
            return Thumbnail(name, "", f"unreadable: {reason}")
        tile, note = None, "whole image"
        if face is not None:
            with contextlib.suppress(ValueError):  # a method needing landmarks the detector lacks
                tile = align_face(rgb, face.box, face.landmarks, self.template, self.run.align)  # type: ignore[arg-type]
                note = f"aligned ({self.run.align})"
        elif known:
            note = "no face found: whole image"
        if tile is None:
            tile = rgb
        scale = THUMBNAIL_PX / max(tile.shape[:2])
        small = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 75])
        if not ok:
            return Thumbnail(name, "", "could not encode a thumbnail")
        return Thumbnail(name, "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode(), note)


def _fold_thresholds(run: PipelineResult, pairs: PairScores) -> np.ndarray:
    """Per pair, its fold's threshold (chosen on the other folds); NaN where the run has none."""
    folds = np.unique(pairs.folds)
    if len(run.fold_thresholds) != len(folds):
        return np.full(len(pairs), np.nan)
    lookup = dict(zip(folds.tolist(), run.fold_thresholds, strict=True))
    return np.array([lookup[int(f)] for f in pairs.folds], np.float64)


def gather_evidence(
    run: PipelineResult, pairs: PairScores, store_folders: Sequence[Path], k: int = 4
) -> PipelineEvidence:
    """The ``k`` highest-scoring impostor pairs and ``k`` lowest-scoring genuine pairs (false accepts
    and rejects at the fold threshold marked), and up to ``2k`` images with no face."""
    thresholds = _fold_thresholds(run, pairs)
    scores = pairs.scores
    scored = ~np.isnan(scores)
    accepted = scored & (scores >= np.where(np.isnan(thresholds), np.inf, thresholds))
    impostor_order = np.flatnonzero(~pairs.is_same & scored)
    impostor_order = impostor_order[np.argsort(-scores[impostor_order], kind="stable")][:k]
    genuine_order = np.flatnonzero(pairs.is_same & scored)
    genuine_order = genuine_order[np.argsort(scores[genuine_order], kind="stable")][:k]
    missing = np.flatnonzero(~scored)
    stores = [ResultStore(f) for f in store_folders if (Path(f) / "cache.sqlite").is_file()]
    try:
        maker = _Thumbnailer(run, stores)

        def hard(index: int) -> HardPair:
            threshold = None if np.isnan(thresholds[index]) else float(thresholds[index])
            same = bool(pairs.is_same[index])
            return HardPair(
                int(index),
                same,
                float(scores[index]),
                threshold,
                threshold is not None and bool(accepted[index]) != same,
                maker.thumbnail(pairs.first[index]),
                maker.thumbnail(pairs.second[index]),
            )

        # a pair without a score holds an image with no face (or one whose face could not be aligned)
        no_face: list[Thumbnail] = []
        seen: set[str] = set()
        for index in missing:
            for path in (pairs.first[index], pairs.second[index]):
                if path in seen or len(no_face) >= 2 * k:
                    continue
                seen.add(path)
                if not path or maker.face(path)[1] is None:
                    no_face.append(maker.thumbnail(path))
        return PipelineEvidence(
            run.pipeline,
            tuple(hard(int(i)) for i in impostor_order),
            tuple(hard(int(i)) for i in genuine_order),
            tuple(no_face),
            run.failures.no_face,
            int((accepted & ~pairs.is_same).sum()),
            int((~accepted & pairs.is_same).sum()),
        )
    finally:
        for store in stores:
            store.close()
