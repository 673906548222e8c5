"""WIDER FACE average precision by the official protocol (the WIDER toolbox's evaluation).

Per difficulty: scores are min-max normalised over all detections; a detection matching (IoU ≥
0.5, pixel-inclusive areas) a face outside the difficulty's list is ignored rather than counted as a
false positive; precision and recall are read at 1,000 score thresholds and summed over images;
AP is the VOC area under the monotone precision envelope.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["THRESHOLDS", "widerface_ap"]

THRESHOLDS = 1000
IOU = 0.5


def _overlaps(detections: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """IoU of xyxy boxes with the toolbox's +1 pixel-inclusive convention."""
    area_d = (detections[:, 2] - detections[:, 0] + 1) * (detections[:, 3] - detections[:, 1] + 1)
    area_t = (truth[:, 2] - truth[:, 0] + 1) * (truth[:, 3] - truth[:, 1] + 1)
    iw = (
        np.minimum(detections[:, None, 2], truth[None, :, 2])
        - np.maximum(detections[:, None, 0], truth[None, :, 0])
        + 1
    )
    ih = (
        np.minimum(detections[:, None, 3], truth[None, :, 3])
        - np.maximum(detections[:, None, 1], truth[None, :, 1])
        + 1
    )
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = area_d[:, None] + area_t[None, :] - inter
    return np.where(inter > 0, inter / union, 0.0)


def _image_pr(
    scores: np.ndarray, boxes_xywh: np.ndarray, truth_xywh: np.ndarray, counted: np.ndarray
) -> np.ndarray:
    """(THRESHOLDS, 2): proposals kept and faces recalled at each threshold, for one image."""
    order = np.argsort(-scores, kind="stable")
    scores, boxes = scores[order], boxes_xywh[order]
    detections = np.column_stack([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]])
    truth = np.column_stack([truth_xywh[:, :2], truth_xywh[:, :2] + truth_xywh[:, 2:]])
    overlaps = _overlaps(detections, truth)
    recalled = np.zeros(len(truth))
    proposal = np.ones(len(detections))
    recall_after = np.zeros(len(detections))
    for index in range(len(detections)):
        best = int(overlaps[index].argmax())
        if overlaps[index, best] >= IOU:
            if not counted[best]:
                recalled[best] = -1
                proposal[index] = -1
            elif recalled[best] == 0:
                recalled[best] = 1
        recall_after[index] = (recalled == 1).sum()
    info = np.zeros((THRESHOLDS, 2))
    proposals_so_far = np.cumsum(proposal == 1)
    for step in range(THRESHOLDS):
        threshold = 1 - (step + 1) / THRESHOLDS
        above = np.flatnonzero(scores >= threshold)
        if len(above):
            last = above[-1]
            info[step] = proposals_so_far[last], recall_after[last]
    return info


def _voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    changes = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[changes + 1] - mrec[changes]) * mpre[changes + 1]))


def widerface_ap(
    detections: Sequence[np.ndarray],
    truth: Sequence[np.ndarray],
    kept: Sequence[np.ndarray],
) -> float:
    """AP for one difficulty.

    Args:
        detections: per image, ``(M, 5)`` rows ``x, y, w, h, score``.
        truth: per image, ``(N, 4)`` ground-truth ``x, y, w, h``.
        kept: per image, 0-based indices of the faces that count at this difficulty.
    """
    all_scores = (
        np.concatenate([d[:, 4] for d in detections if len(d)]) if any(len(d) for d in detections) else None
    )
    if all_scores is None:
        return 0.0
    low, span = float(all_scores.min()), float(all_scores.max() - all_scores.min())
    curve = np.zeros((THRESHOLDS, 2))
    faces = 0
    for dets, gt, keep in zip(detections, truth, kept, strict=True):
        faces += len(keep)
        if len(gt) == 0 or len(dets) == 0:
            continue
        counted = np.zeros(len(gt), bool)
        counted[keep] = True
        scores = (dets[:, 4] - low) / span if span > 0 else np.ones(len(dets))
        curve += _image_pr(scores, dets[:, :4], gt, counted)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(curve[:, 0] > 0, curve[:, 1] / curve[:, 0], 0.0)
    recall = curve[:, 1] / max(faces, 1)
    return _voc_ap(recall, precision)
