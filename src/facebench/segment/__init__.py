"""Segmentation: face and head masks of detected faces (MediaPipe selfie and hair segmentation,
FaceMesh's face oval). See `facebench.segment.masks`."""

from facebench.segment.base import Segmenter, create_segmenter, list_segmenters, register_segmenter
from facebench.segment.masks import FACE_OVAL, FaceMasks, FaceSegmenter, head_box

__all__ = [
    "FACE_OVAL",
    "FaceMasks",
    "FaceSegmenter",
    "Segmenter",
    "create_segmenter",
    "head_box",
    "list_segmenters",
    "register_segmenter",
]
