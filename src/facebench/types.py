"""Core result types shared by every stage: `Face` (one detection) and `Faces` (a batch of them).

Landmark order (``LANDMARK_NAMES``) is fixed for every detector and matches the ArcFace template:
the *subject's* right eye, left eye, nose tip, right mouth corner, left mouth corner. For a
frontal face the subject's right eye appears on the left side of the image. All coordinates are
float pixels in the original image, x to the right and y down.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LANDMARK_NAMES", "NUM_LANDMARKS", "Face", "Faces"]

LANDMARK_NAMES: tuple[str, ...] = (
    "right_eye",
    "left_eye",
    "nose_tip",
    "right_mouth_corner",
    "left_mouth_corner",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)


def _frozen_array(value: Any, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
    array = np.array(value, dtype=np.float32)
    if array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        pretty = (
            "("
            + ", ".join("N" if s is None else str(s) for s in shape)
            + ("," if len(shape) == 1 else "")
            + ")"
        )
        raise ValueError(f"`{name}` must have shape {pretty}, got {array.shape}")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face.

    Attributes:
        box: ``(4,)`` float32 ``x1, y1, x2, y2`` in original-image pixels.
        score: detector confidence in ``[0, 1]``.
        landmarks: ``(5, 2)`` float32 in ``LANDMARK_NAMES`` order, or ``None`` when the detector
            gives none (``haar``, ``dlib_mmod`` without a refiner).
        dense_landmarks: optional ``(K, 2)`` or ``(K, 3)`` points from a dense model (FaceMesh 468).
        detector: registry name of the detector (and refiner) that produced the face.

    Example:
        >>> face = Face(box=[10, 20, 110, 140], score=0.98)
        >>> face.width, face.height
        (100.0, 120.0)
    """

    box: np.ndarray
    score: float
    landmarks: np.ndarray | None = None
    dense_landmarks: np.ndarray | None = None
    detector: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", _frozen_array(self.box, "box", (4,)))
        object.__setattr__(self, "score", float(self.score))
        if self.landmarks is not None:
            object.__setattr__(
                self, "landmarks", _frozen_array(self.landmarks, "landmarks", (NUM_LANDMARKS, 2))
            )
        if self.dense_landmarks is not None:
            dense = _frozen_array(self.dense_landmarks, "dense_landmarks", (None, None))
            if dense.shape[1] not in (2, 3):
                raise ValueError(f"`dense_landmarks` must have shape (K, 2) or (K, 3), got {dense.shape}")
            object.__setattr__(self, "dense_landmarks", dense)

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def has_landmarks(self) -> bool:
        return self.landmarks is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists of floats, landmark names as keys)."""
        out: dict[str, Any] = {
            "box": [round(float(v), 2) for v in self.box],
            "score": round(self.score, 5),
            "landmarks": None,
            "detector": self.detector,
        }
        if self.landmarks is not None:
            out["landmarks"] = {
                name: [round(float(x), 2), round(float(y), 2)]
                for name, (x, y) in zip(LANDMARK_NAMES, self.landmarks, strict=True)
            }
        if self.dense_landmarks is not None:
            out["num_dense_landmarks"] = int(self.dense_landmarks.shape[0])
        return out

    def __repr__(self) -> str:
        x1, y1, x2, y2 = (float(v) for v in self.box)
        marks = "5 landmarks" if self.landmarks is not None else "no landmarks"
        return (
            f"Face(box=[{x1:.1f}, {y1:.1f}, {x2:.1f}, {y2:.1f}], score={self.score:.3f}, "
            f"{marks}, detector={self.detector!r})"
        )


@dataclass(frozen=True)
class Faces:
    """A struct-of-arrays batch of faces from one image: vectorised filtering and conversion.

    ``landmarks`` is always ``(N, 5, 2)``; rows of a face without landmarks are NaN.
    ``dense_landmarks`` is ``(N, K, 2|3)`` when a dense model (FaceMesh) ran, else ``None``.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray
    detector: str = ""
    dense_landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"`boxes` must have shape (N, 4), got {boxes.shape}")
        n = boxes.shape[0]
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        if scores.shape != (n,):
            raise ValueError(f"`scores` must have shape ({n},) to match boxes, got {scores.shape}")
        landmarks = np.asarray(self.landmarks, dtype=np.float32)
        if landmarks.size == 0 and n == 0:
            landmarks = landmarks.reshape(0, NUM_LANDMARKS, 2)
        if landmarks.shape != (n, NUM_LANDMARKS, 2):
            raise ValueError(
                f"`landmarks` must have shape ({n}, {NUM_LANDMARKS}, 2) to match boxes, got {landmarks.shape}"
            )
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "landmarks", landmarks)
        if self.dense_landmarks is not None:
            dense = np.asarray(self.dense_landmarks, dtype=np.float32)
            if dense.ndim != 3 or dense.shape[0] != n or dense.shape[2] not in (2, 3):
                raise ValueError(f"`dense_landmarks` must have shape ({n}, K, 2|3), got {dense.shape}")
            object.__setattr__(self, "dense_landmarks", dense)

    @classmethod
    def empty(cls, detector: str = "") -> Faces:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0, NUM_LANDMARKS, 2), np.float32),
            detector,
        )

    @classmethod
    def from_faces(cls, faces: Sequence[Face], detector: str = "") -> Faces:
        if not faces:
            return cls.empty(detector)
        landmarks = np.stack(
            [
                f.landmarks if f.landmarks is not None else np.full((NUM_LANDMARKS, 2), np.nan, np.float32)
                for f in faces
            ]
        )
        return cls(
            np.stack([f.box for f in faces]),
            np.array([f.score for f in faces], np.float32),
            landmarks,
            detector or faces[0].detector,
        )

    @classmethod
    def merge(cls, batches: Sequence[Faces]) -> Faces:
        """Concatenate batches (dense landmarks are kept only when every batch has them)."""
        if not batches:
            return cls.empty()
        dense = [b.dense_landmarks for b in batches]
        return cls(
            np.concatenate([b.boxes for b in batches]),
            np.concatenate([b.scores for b in batches]),
            np.concatenate([b.landmarks for b in batches]),
            batches[0].detector,
            np.concatenate([d for d in dense if d is not None])
            if all(d is not None for d in dense)
            else None,
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def is_empty(self) -> bool:
        return len(self) == 0

    def __getitem__(self, index: int | slice | np.ndarray | Sequence[int]) -> Faces:
        """Index, slice or boolean-mask the batch; always returns a `Faces`."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        dense = None if self.dense_landmarks is None else self.dense_landmarks[index]
        return Faces(self.boxes[index], self.scores[index], self.landmarks[index], self.detector, dense)

    def scaled(self, scale_x: float, scale_y: float) -> Faces:
        """The batch with every coordinate multiplied per axis (reduced-resolution → original pixels)."""
        factors = np.array([scale_x, scale_y], np.float32)
        dense = self.dense_landmarks
        if dense is not None:
            dense = dense.copy()
            dense[..., :2] *= factors
            if dense.shape[2] == 3:  # FaceMesh z is in x's pixel units
                dense[..., 2] *= scale_x
        return Faces(
            self.boxes * np.tile(factors, 2), self.scores, self.landmarks * factors, self.detector, dense
        )

    def sorted_by_score(self) -> Faces:
        return self[np.argsort(-self.scores, kind="stable")]

    def to_faces(self) -> list[Face]:
        out = []
        for i, (box, score, marks) in enumerate(zip(self.boxes, self.scores, self.landmarks, strict=True)):
            out.append(
                Face(
                    box=box,
                    score=float(score),
                    landmarks=None if np.isnan(marks).any() else marks,
                    dense_landmarks=None if self.dense_landmarks is None else self.dense_landmarks[i],
                    detector=self.detector,
                )
            )
        return out

    def __iter__(self) -> Iterator[Face]:
        return iter(self.to_faces())
