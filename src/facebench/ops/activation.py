"""Activations shared by model decoders."""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid"]


def sigmoid(values: np.ndarray) -> np.ndarray:
    """The logistic function without overflow for any input (``1/(1+exp(-x))`` overflows below -88
    in float32); computed as ``(1 + tanh(x/2)) / 2``, keeping the input's float dtype."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * values))
