"""Draw detections on an image (boxes, scores, the 5 landmarks in their fixed colours)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from facebench.types import LANDMARK_NAMES, Face

__all__ = ["LANDMARK_COLORS", "draw_faces"]

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
