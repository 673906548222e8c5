"""Draw detections on an image (boxes, scores, the 5 landmarks in their fixed colours)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from facebench.types import LANDMARK_NAMES, Face

__all__ = ["LANDMARK_COLORS", "draw_faces", "draw_masks"]

#: RGB colour per landmark, in `LANDMARK_NAMES` order: eyes red/blue, nose green, mouth magenta/cyan.
LANDMARK_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0),
    (0, 0, 255),
    (0, 200, 0),
    (255, 0, 255),
    (0, 255, 255),
)
assert len(LANDMARK_COLORS) == len(LANDMARK_NAMES)


def draw_faces(
    image: np.ndarray,
    faces: Sequence[Face],
    *,
    box_color: tuple[int, int, int] = (0, 255, 0),
    label: str | None = None,
) -> np.ndarray:
    """A copy of RGB ``image`` with each face's box, score and landmarks drawn on it."""
    canvas = np.ascontiguousarray(image.copy())
    scale = max(1.0, max(canvas.shape[:2]) / 800.0)
    thickness = max(1, round(2 * scale))
    for face in faces:
        x1, y1, x2, y2 = (round(float(v)) for v in face.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), box_color, thickness)
        cv2.putText(
            canvas,
            f"{face.score:.2f}",
            (x1, max(0, y1 - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45 * scale,
            box_color,
            thickness,
        )
        if face.landmarks is not None:
            for (x, y), color in zip(face.landmarks, LANDMARK_COLORS, strict=True):
                cv2.circle(canvas, (round(float(x)), round(float(y))), max(2, thickness + 1), color, -1)
    if label:
        cv2.putText(
            canvas,
            label,
            (8, round(24 * scale)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8 * scale,
            (255, 255, 0),
            thickness,
        )
    return canvas


def draw_masks(image: np.ndarray, masks: Sequence[Any], *, alpha: float = 0.55) -> np.ndarray:
    """A copy of RGB ``image`` with each face's head mask tinted blue and face mask green
    (`facebench.segment.FaceMasks`), and each head box outlined."""
    canvas = image.astype(np.float32)
    for tint, attribute in (((40, 80, 255), "head_mask"), ((0, 230, 0), "face_mask")):
        covered = np.zeros(image.shape[:2], bool)
        for face_masks in masks:
            covered |= getattr(face_masks, attribute) > 0
        canvas[covered] = canvas[covered] * (1 - alpha) + np.asarray(tint, np.float32) * alpha
    drawn = np.ascontiguousarray(np.round(canvas).astype(np.uint8))
    thickness = max(1, round(max(drawn.shape[:2]) / 400))
    for face_masks in masks:
        x1, y1, x2, y2 = (int(v) for v in face_masks.head_box)
        cv2.rectangle(drawn, (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1)), (40, 80, 255), thickness)
    return drawn
