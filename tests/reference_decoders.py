"""Deliberately naive reference decoders (per-cell Python loops, own letterbox, own NMS).

They follow the published decoding of each model (insightface scrfd.py, yolov5-face, derronqi
yolov8-face as described in MODELS.md) independently of facebench's vectorised code, so the tests
can check that facebench decodes the raw outputs the way the authors do.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import onnxruntime as ort


def letterbox(
    rgb: np.ndarray, side: int, centred: bool, fill: float
) -> tuple[np.ndarray, float, float, float]:
    height, width = rgb.shape[:2]
    scale = min(side / width, side / height)
    new_w, new_h = round(width * scale), round(height * scale)
    canvas = np.full((side, side, 3), fill, np.float32)
    left = (side - new_w) // 2 if centred else 0
    top = (side - new_h) // 2 if centred else 0
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(
        rgb, (new_w, new_h), interpolation=cv2.INTER_AREA
    )
    return canvas, new_w / width, left, top


def greedy_nms(
    dets: list[tuple[float, list[float], list[float]]], iou: float
) -> list[tuple[float, list[float], list[float]]]:
    dets = sorted(dets, key=lambda d: -d[0])
    kept: list[tuple[float, list[float], list[float]]] = []
    for det in dets:
        box = det[1]
        ok = True
        for other in kept:
            ob = other[1]
            iw = max(0.0, min(box[2], ob[2]) - max(box[0], ob[0]))
            ih = max(0.0, min(box[3], ob[3]) - max(box[1], ob[1]))
            inter = iw * ih
            union = (box[2] - box[0]) * (box[3] - box[1]) + (ob[2] - ob[0]) * (ob[3] - ob[1]) - inter
            if inter / union > iou:
                ok = False
                break
        if ok:
            kept.append(det)
    return kept


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _unmap(dets, scale, left, top):
    out = []
    for score, box, points in dets:
        box = [
            (box[0] - left) / scale,
            (box[1] - top) / scale,
            (box[2] - left) / scale,
            (box[3] - top) / scale,
        ]
        points = [((x - left) / scale, (y - top) / scale) for x, y in points]
        out.append((score, box, points))
    return out


def scrfd_reference(model_path: str, rgb: np.ndarray, threshold: float = 0.5, iou: float = 0.4):
    canvas, scale, left, top = letterbox(rgb, 640, centred=False, fill=0.0)
    blob = ((canvas - 127.5) / 128.0).transpose(2, 0, 1)[None].astype(np.float32)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: blob})
    dets = []
    for level, stride in enumerate((8, 16, 32)):
        scores = outputs[level].reshape(-1)
        distances = outputs[level + 3].reshape(-1, 4)
        kps = outputs[level + 6].reshape(-1, 10)
        cols = 640 // stride
        for index in range(scores.shape[0]):
            if scores[index] < threshold:
                continue
            cell = index // 2
            cx, cy = (cell % cols) * stride, (cell // cols) * stride
            d = distances[index] * stride
            box = [cx - d[0], cy - d[1], cx + d[2], cy + d[3]]
            points = [
                (cx + kps[index, 2 * k] * stride, cy + kps[index, 2 * k + 1] * stride) for k in range(5)
            ]
            dets.append((float(scores[index]), box, points))
    return _unmap(greedy_nms(dets, iou), scale, left, top)


def yolov5_reference(model_path: str, rgb: np.ndarray, threshold: float = 0.5, iou: float = 0.5):
    canvas, scale, left, top = letterbox(rgb, 640, centred=True, fill=114.0)
    blob = (canvas / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: blob})
    anchors = [
        [(4, 5), (8, 10), (13, 16)],
        [(23, 29), (43, 55), (73, 105)],
        [(146, 217), (231, 300), (335, 433)],
    ]
    dets = []
    for head, stride, level_anchors in zip(outputs, (8, 16, 32), anchors, strict=True):
        _, na, rows, cols, _ = head.shape
        for a in range(na):
            aw, ah = level_anchors[a]
            for r in range(rows):
                for c in range(cols):
                    v = head[0, a, r, c]
                    score = _sig(v[4]) * _sig(v[15])
                    if score < threshold:
                        continue
                    cx = (_sig(v[0]) * 2 - 0.5 + c) * stride
                    cy = (_sig(v[1]) * 2 - 0.5 + r) * stride
                    w = (_sig(v[2]) * 2) ** 2 * aw
                    h = (_sig(v[3]) * 2) ** 2 * ah
                    points = [
                        (v[5 + 2 * k] * aw + c * stride, v[6 + 2 * k] * ah + r * stride) for k in range(5)
                    ]
                    dets.append((score, [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], points))
    return _unmap(greedy_nms(dets, iou), scale, left, top)


def yolov8_reference(model_path: str, rgb: np.ndarray, threshold: float = 0.45, iou: float = 0.5):
    canvas, scale, left, top = letterbox(rgb, 640, centred=True, fill=0.0)
    blob = (canvas / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: blob})
    dets = []
    for head, stride in zip(outputs, (8, 16, 32), strict=True):
        _, _, rows, cols = head.shape
        for r in range(rows):
            for c in range(cols):
                v = head[0, :, r, c]
                score = _sig(v[64])
                if score < threshold:
                    continue
                distances = []
                for side in range(4):
                    bins = v[side * 16 : side * 16 + 16].astype(np.float64)
                    weights = np.exp(bins - bins.max())
                    distances.append(float((weights / weights.sum() * np.arange(16)).sum()))
                ax, ay = c + 0.5, r + 0.5
                box = [
                    (ax - distances[0]) * stride,
                    (ay - distances[1]) * stride,
                    (ax + distances[2]) * stride,
                    (ay + distances[3]) * stride,
                ]
                points = [
                    ((v[65 + 3 * k] * 2 + c) * stride, (v[66 + 3 * k] * 2 + r) * stride) for k in range(5)
                ]
                dets.append((score, box, points))
    return _unmap(greedy_nms(dets, iou), scale, left, top)
