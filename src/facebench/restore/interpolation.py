"""Plain interpolation: the baseline a super-resolution model has to beat."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from facebench.restore.base import Restorer, register_restorer

__all__ = ["Bicubic"]


@register_restorer
class Bicubic(Restorer):
    """Bicubic interpolation straight to the recognizer's input size (OpenCV's ``INTER_CUBIC``)."""

    name: ClassVar[str] = "bicubic"

    def _upscale(self, image: np.ndarray) -> np.ndarray:  # scale is None: `restore` resizes
        return image
