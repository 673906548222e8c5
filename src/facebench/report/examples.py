"""Aligned-face example sheets: what each detector's landmarks make of the same faces."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facebench.align import ALIGN_METHODS, align_face, get_template
from facebench.atomic import atomic_write_bytes
from facebench.detectors import create as create_detector
from facebench.errors import ImageError
from facebench.image import load_image

__all__ = ["write_aligned_examples"]


def write_aligned_examples(
    detectors: Sequence[str],
    images: Sequence[Path],
    out_dir: Path,
    template: str = "arcface_112",
    count: int = 8,
) -> list[Path]:
    """One PNG per detector: a row per alignment method, a column per image (grey where no face).

    The columns are the first ``count`` of ``images`` that can be read.
    """
    import cv2

    chosen = get_template(template)
    folder = out_dir / "aligned_examples"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    pictures = []
    for path in images:  # the first `count` images that decode; a bad one is reported elsewhere
        with contextlib.suppress(ImageError):
            pictures.append(load_image(path))
        if len(pictures) == count:
            break
    if not pictures:
        return []
    for name in detectors:
        detector = create_detector(name)
        rows = []
        for method in ALIGN_METHODS:
            tiles = []
            for rgb in pictures:
                faces = detector.detect(rgb)
                tile = np.full((chosen.height, chosen.width, 3), 128, np.uint8)
                # a detector without landmarks cannot do similarity/eyes: the tile stays grey
                with contextlib.suppress(ValueError):
                    if faces:
                        tile = align_face(rgb, faces[0].box, faces[0].landmarks, chosen, method)  # type: ignore[arg-type]
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
