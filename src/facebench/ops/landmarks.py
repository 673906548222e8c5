"""Completing facebench's 5 points when a model gives fewer, from ArcFace-template proportions.

In the ArcFace 112×112 template the eye centres are 35.24 px apart, the mouth corners 29.18 px
apart, and the mouth centre lies 40.6 px below the eye midpoint. Estimated points use those ratios,
so an estimated frontal face maps onto the template as a detected one would.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mouth_centre_from_eyes", "mouth_corners_from_centre"]

MOUTH_HALF_WIDTH_PER_EYE_DISTANCE = 29.18 / 35.24 / 2
MOUTH_DROP_PER_EYE_DISTANCE = 40.6 / 35.24


def mouth_corners_from_centre(right_eye: np.ndarray, left_eye: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    """``(N, 2, 2)`` right and left mouth corners either side of ``mouth``, parallel to the eye line."""
    half = (left_eye - right_eye) * MOUTH_HALF_WIDTH_PER_EYE_DISTANCE
    return np.stack([mouth - half, mouth + half], axis=1)


def mouth_centre_from_eyes(right_eye: np.ndarray, left_eye: np.ndarray) -> np.ndarray:
    """``(N, 2)`` mouth centre below the eye midpoint, perpendicular to the eye line."""
    eye_vector = left_eye - right_eye
    downward = np.stack(
        [-eye_vector[:, 1], eye_vector[:, 0]], axis=1
    )  # the eye line turned 90° towards the chin
    return (right_eye + left_eye) / 2 + downward * MOUTH_DROP_PER_EYE_DISTANCE
