"""Face alignment: a least-squares similarity transform onto a template, and two baselines.

* ``similarity``: rotation + uniform scale + translation that maps the 5 detected landmarks onto
  the template's 5 points with the least squared error (Umeyama's closed form), then one
  `cv2.warpAffine`. This is what ArcFace-family models were trained on.
* ``none``: no geometric normalisation: the detector's box, enlarged by a margin and made square
  (or the template's aspect), resized to the template size.
* ``eyes``: rotate so the eyes are level (about the box centre), then crop the box as in
  ``none``; what DeepFace's default alignment does.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from facebench.align.templates import Template, get_template
from facebench.errors import AlignmentError

__all__ = ["ALIGN_METHODS", "AlignMethod", "align_face", "similarity_transform", "warp_matrix"]

AlignMethod = Literal["similarity", "none", "eyes"]
ALIGN_METHODS: tuple[str, ...] = ("similarity", "none", "eyes")
#: fraction of the box added on each side by the ``none`` and ``eyes`` baselines
BOX_MARGIN = 0.1


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2×3 matrix of the similarity transform mapping ``source`` points onto ``target`` (least squares).

    Args:
        source: ``(K, 2)`` points, K ≥ 2.
        target: ``(K, 2)`` points.
    """
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    covariance = target_centred.T @ source_centred / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection would fit better; forbid it
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = (source_centred**2).sum() / len(source)
    scale = float((singular * np.diag(sign)).sum() / variance) if variance > 0 else 1.0
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]]).astype(np.float32)


def _box_crop_matrix(box: np.ndarray, template: Template, angle_degrees: float) -> np.ndarray:
    """Affine taking a margin-enlarged box (rotated by ``angle``) to the template's crop."""
    centre = (box[:2] + box[2:]) / 2.0
    width, height = float(box[2] - box[0]), float(box[3] - box[1])
    aspect = template.width / template.height
    # grow the box to the template's aspect ratio, then add the margin
    if width / max(height, 1e-6) < aspect:
        width = height * aspect
    else:
        height = width / aspect
    scale = template.width / (width * (1.0 + 2.0 * BOX_MARGIN))
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle_degrees, scale)
    matrix[:, 2] += np.array([template.width / 2.0, template.height / 2.0]) - centre
    return matrix.astype(np.float32)


def warp_matrix(
    box: np.ndarray, landmarks: np.ndarray | None, template: Template, method: AlignMethod = "similarity"
) -> np.ndarray:
    """The 2×3 image-to-crop affine for one face under ``method``.

    Raises:
        AlignmentError: ``similarity`` or ``eyes`` asked for a face without landmarks (a
            `ValueError`).
    """
    if method == "none":
        return _box_crop_matrix(box, template, 0.0)
    if landmarks is None or np.isnan(landmarks).any():
        raise AlignmentError(
            f"alignment method {method!r} needs the 5 landmarks, and this face has none "
            "(use a detector with landmarks, a refiner such as refine='facemesh', or method='none')"
        )
    if method == "similarity":
        return similarity_transform(landmarks, template.array)
    if method == "eyes":
        eye_vector = landmarks[1] - landmarks[0]
        return _box_crop_matrix(box, template, float(np.degrees(np.arctan2(eye_vector[1], eye_vector[0]))))
    raise ValueError(
        f"Expected argument `method` to be one of {', '.join(ALIGN_METHODS)}, but got {method!r}"
    )


def align_face(
    image: np.ndarray,
    box: np.ndarray,
    landmarks: np.ndarray | None,
    template: Template | str,
    method: AlignMethod = "similarity",
) -> np.ndarray:
    """The face cut out of RGB ``image`` as the template's ``(height, width, 3)`` uint8 crop."""
    template = get_template(template) if isinstance(template, str) else template
    matrix = warp_matrix(np.asarray(box, np.float32), landmarks, template, method)
    return cv2.warpAffine(
        image, matrix, template.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
