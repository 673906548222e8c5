"""Non-maximum suppression over xyxy boxes (OpenCV's implementation)."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["nms"]


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, top_k: int = 0) -> np.ndarray:
    """Indices of the boxes kept, best score first.

    Args:
        boxes: ``(N, 4)`` xyxy.
        scores: ``(N,)``, non-negative.
        iou_threshold: boxes overlapping a kept box by more than this are dropped.
        top_k: keep at most this many (0 keeps all).
    """
    if len(boxes) == 0:
        return np.zeros((0,), np.int64)
    xywh = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]])
    keep = cv2.dnn.NMSBoxes(
        xywh.astype(np.float32).tolist(),
        scores.astype(np.float32).tolist(),
        score_threshold=0.0,
        nms_threshold=float(iou_threshold),
        top_k=int(top_k),
    )
    return np.asarray(keep, dtype=np.int64).reshape(-1)
