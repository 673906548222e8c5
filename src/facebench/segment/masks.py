"""Face and head masks for detected faces.

For each face:

* ``head_box``: the face box scaled ×4 about its centre, clipped to the image.
* ``head_mask``: person pixels of MediaPipe selfie segmentation run on the head crop, mapped back.
* ``face_mask``: the face region ∩ person pixels, minus hair pixels (MediaPipe hair segmentation on
  the same crop). The face region is the face-oval polygon of the 468-point FaceMesh when the
  detector gave landmarks (the mesh crop is rotated by the eye line), and, for a box-only
  detector, an elliptical prior inscribed in the face box: `FaceMasks.face_region` says which.

Masks are uint8 (0 or 255) in original-image coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from facebench.types import Face, Faces
from facebench.zoo import get_card

__all__ = ["FACE_OVAL", "FaceMasks", "FaceSegmenter", "head_box"]

#: FaceMesh indices of the face oval (silhouette), in order around the face (MediaPipe's
#: ``FACEMESH_FACE_OVAL`` connections walked as a polygon)
FACE_OVAL: tuple[int, ...] = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip

HEAD_SCALE = 4.0
#: a pixel belongs to a class when its probability is at least this
PROBABILITY_THRESHOLD = 0.5

FaceRegion = Literal["facemesh_oval", "ellipse_prior"]


def head_box(box: np.ndarray, width: int, height: int, scale: float = HEAD_SCALE) -> np.ndarray:
    """``(4,)`` int ``x1, y1, x2, y2`` (exclusive end): ``box`` scaled about its centre, clipped."""
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * scale / 2, (y2 - y1) * scale / 2
    left = int(np.clip(np.floor(cx - half_w), 0, width))
    top = int(np.clip(np.floor(cy - half_h), 0, height))
    right = int(np.clip(np.ceil(cx + half_w), 0, width))
    bottom = int(np.clip(np.ceil(cy + half_h), 0, height))
    return np.array([left, top, right, bottom], np.int32)


@dataclass(frozen=True)
class FaceMasks:
    """The masks of one face.

    Attributes:
        face_mask: ``(H, W)`` uint8, 255 on face skin (region ∩ person − hair), image coordinates.
        head_mask: ``(H, W)`` uint8, 255 on person pixels inside ``head_box``.
        head_box: ``(4,)`` int32 ``x1, y1, x2, y2`` (end exclusive) of the head crop.
        face_box_in_head: ``(4,)`` float32 face box relative to ``head_box``'s top-left corner.
        face_region: ``facemesh_oval`` (FaceMesh polygon) or ``ellipse_prior`` (box-only detector).
    """

    face_mask: np.ndarray
    head_mask: np.ndarray
    head_box: np.ndarray
    face_box_in_head: np.ndarray
    face_region: FaceRegion

    def crop(self, array: np.ndarray) -> np.ndarray:
        """``array`` (an image or a mask in image coordinates) cut to the head box."""
        x1, y1, x2, y2 = (int(v) for v in self.head_box)
        return array[y1:y2, x1:x2]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (boxes, region kind and pixel counts; the masks are written as PNGs)."""
        return {
            "head_box": [int(v) for v in self.head_box],
            "face_box_in_head": [round(float(v), 2) for v in self.face_box_in_head],
            "face_region": self.face_region,
            "face_pixels": int(np.count_nonzero(self.face_mask)),
            "head_pixels": int(np.count_nonzero(self.head_mask)),
        }


class FaceSegmenter:
    """Computes `FaceMasks` for detected faces (models load on first use and are reused).

    Args:
        threads: inference threads of each model.
        store: where the weights are found (default: the default store).
    """

    def __init__(self, *, threads: int | None = None, store: Any = None) -> None:
        from facebench.segment.base import create_segmenter

        options = {"threads": threads, **({"store": store} if store is not None else {})}
        self.person = create_segmenter("selfie_segmentation", **options)
        self.hair = create_segmenter("hair_segmentation", **options)
        self._options = options
        self._mesh: Any = None

    @property
    def mesh(self) -> Any:
        """The FaceMesh refiner that draws the face oval (built when a face with landmarks needs it)."""
        if self._mesh is None:
            from facebench.detectors.refiners import create_refiner

            self._mesh = create_refiner("facemesh", **self._options)
        return self._mesh

    @property
    def config(self) -> dict[str, Any]:
        """What shapes the masks: the models and the constants of this module."""
        return {
            "person": self.person.config,
            "hair": self.hair.config,
            "mesh": {"refiner": "facemesh", "weights_sha256": [f.sha256 for f in get_card("facemesh").files]},
            "head_scale": HEAD_SCALE,
            "threshold": PROBABILITY_THRESHOLD,
        }

    def region(self, rgb: np.ndarray, face: Face) -> tuple[np.ndarray, FaceRegion]:
        """The ``(H, W)`` uint8 face region of ``face``: FaceMesh's oval, or the ellipse prior."""
        height, width = rgb.shape[:2]
        region = np.zeros((height, width), np.uint8)
        if face.landmarks is not None and not np.isnan(face.landmarks).any():
            mesh = self.mesh.mesh(rgb, np.asarray(face.box, np.float32), np.asarray(face.landmarks))
            polygon = np.round(mesh[list(FACE_OVAL), :2]).astype(np.int32)
            cv2.fillPoly(region, [polygon], 255)
            return region, "facemesh_oval"
        x1, y1, x2, y2 = (float(v) for v in face.box)
        centre = (round((x1 + x2) / 2), round((y1 + y2) / 2))
        axes = (max(1, round((x2 - x1) / 2)), max(1, round((y2 - y1) / 2)))
        cv2.ellipse(region, centre, axes, 0.0, 0.0, 360.0, 255, thickness=-1)
        return region, "ellipse_prior"

    def segment(self, image: np.ndarray, faces: Faces | Sequence[Face]) -> list[FaceMasks]:
        """One `FaceMasks` per face of RGB uint8 ``image`` (a face whose head box is empty raises)."""
        height, width = image.shape[:2]
        results = []
        for face in faces.to_faces() if isinstance(faces, Faces) else faces:
            box = head_box(face.box, width, height)
            x1, y1, x2, y2 = (int(v) for v in box)
            if x2 <= x1 or y2 <= y1:
                raise ValueError(f"the face at {face.box.tolist()} lies outside the {width}x{height} image")
            crop = np.ascontiguousarray(image[y1:y2, x1:x2])
            person = self.person.probabilities(crop) >= PROBABILITY_THRESHOLD
            hair = self.hair.probabilities(crop) >= PROBABILITY_THRESHOLD
            head = np.zeros((height, width), np.uint8)
            head[y1:y2, x1:x2][person] = 255
            region, kind = self.region(image, face)
            face_mask = np.zeros((height, width), np.uint8)
            face_mask[y1:y2, x1:x2][(region[y1:y2, x1:x2] > 0) & person & ~hair] = 255
            inside = (np.asarray(face.box, np.float32) - np.array([x1, y1, x1, y1], np.float32)).astype(
                np.float32
            )
            results.append(FaceMasks(face_mask, head, box, inside, kind))
        return results
