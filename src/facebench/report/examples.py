"""Aligned-face example sheets: what each detector's landmarks make of the same faces.

The faces are the ones the benchmark itself stored (each image's central face under the run's
own detector options), so a sheet shows what the pipelines aligned and costs no inference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facebench.align import ALIGN_METHODS, align_face, get_template
from facebench.atomic import atomic_write_bytes
from facebench.bench.records import DetectionRecord, RecordError
from facebench.bench.results import BenchmarkResult
from facebench.bench.stages import detect_description
from facebench.bench.store import ResultStore, config_digest, content_key
from facebench.errors import ImageError
from facebench.image import decode_image, display_name, read_image_file
from facebench.types import Face

__all__ = ["write_aligned_examples"]


def _first_readable(images: Sequence[Path], count: int) -> list[tuple[str, np.ndarray]]:
    """(content key, RGB) of the first ``count`` images that decode; a bad one is reported elsewhere."""
    pictures = []
    for path in images:
        with contextlib.suppress(ImageError):
            data = read_image_file(path)
            pictures.append((content_key(data), decode_image(data, name=display_name(path)).rgb))
        if len(pictures) == count:
            break
    return pictures


def _stored_faces(store: ResultStore, config: dict, keys: list[str]) -> list[Face | None]:
    rows = store.get_many("detect", config_digest(detect_description(config)), keys)
    faces: list[Face | None] = []
    for key in keys:
        face = None
        with contextlib.suppress(RecordError):
            face = DetectionRecord.decode(rows[key]).face if key in rows else None
        faces.append(face)
    return faces


def write_aligned_examples(
    result: BenchmarkResult,
    images: Sequence[Path],
    out_dir: Path,
    template: str = "arcface_112",
    count: int = 8,
) -> list[Path]:
    """One PNG per detector of ``result``: a row per alignment method, a column per image (grey
    where the run found no face, or a method needs landmarks the detector does not give).

    The columns are the first ``count`` of ``images`` that can be read; the faces come from the
    store in ``result.out_dir``.
    """
    import cv2

    detectors: dict[str, dict] = {}
    for run in result.runs:
        detectors.setdefault(run.detector, run.config["detector"])
    pictures = _first_readable(images, count)
    if not pictures or not detectors or result.out_dir is None:
        return []
    chosen = get_template(template)
    folder = out_dir / "aligned_examples"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with ResultStore(Path(result.out_dir)) as store:
        stored = {
            name: _stored_faces(store, config, [k for k, _ in pictures]) for name, config in detectors.items()
        }
    for name, faces in stored.items():
        rows = []
        for method in ALIGN_METHODS:
            tiles = []
            for (_, rgb), face in zip(pictures, faces, strict=True):
                tile = np.full((chosen.height, chosen.width, 3), 128, np.uint8)
                with contextlib.suppress(ValueError):  # no landmarks for similarity/eyes: grey
                    if face is not None:
                        tile = align_face(rgb, face.box, face.landmarks, chosen, method)  # type: ignore[arg-type]
                tiles.append(tile)
            row = np.concatenate(tiles, axis=1)
            label = np.full((chosen.height, 110, 3), 255, np.uint8)
            cv2.putText(label, method, (4, chosen.height // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
            rows.append(np.concatenate([label, row], axis=1))
        sheet = np.concatenate(rows, axis=0)
        path = folder / f"{name}.png"
        ok, encoded = cv2.imencode(".png", sheet[..., ::-1])
        if not ok:
            raise OSError(f"could not encode {path}")
        atomic_write_bytes(path, encoded.tobytes())
        written.append(path)
    return written
