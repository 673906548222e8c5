"""Aligned-face example sheets: what each detector's landmarks make of the same faces."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facebench.align import ALIGN_METHODS, align_face, get_template
from facebench.detectors import create as create_detector
from facebench.image import load_image

__all__ = ["write_aligned_examples"]


def write_aligned_examples(
    detectors: Sequence[str], images: Sequence[Path], out_dir: Path, template: str = "arcface_112"
) -> list[Path]:
    """One PNG per detector: a row per alignment method, a column per image (grey where no face)."""
    import cv2

    chosen = get_template(template)
    folder = out_dir / "aligned_examples"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    pictures = [load_image(path) for path in images]
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
        cv2.imwrite(str(path), sheet[..., ::-1])
        written.append(path)
    return written
