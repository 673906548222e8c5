"""Per-image records of the benchmark stages, and the small binary codec the result store keeps.

A record says what happened to one image (its `Status`) and carries the output when there is
one. The codec is versioned and self-describing (status, payload length), so a row can never be
misread as another layout; positional float rows with NaN meaning "failed" are gone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from facebench.types import NUM_LANDMARKS, Face

__all__ = ["DetectionRecord", "EmbeddingRecord", "FaceSource", "RecordError", "Status"]

#: bumped when a record's layout changes; an older row is then recomputed, never misread
CODEC_VERSION = 1
_HEADER = struct.Struct("<BBI")  # codec version, status, payload float count


class Status(IntEnum):
    """What happened to one image in one stage (only these are cached; an unexpected exception is not)."""

    OK = 0
    NO_FACE = 1
    UNREADABLE = 2
    ALIGN_FAILED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class FaceSource(IntEnum):
    """Where a kept face came from: the pipeline's detector, or a no-face policy's rescue
    (``--on-no-face``); ``FALLBACK + i`` is the i-th fallback detector."""

    DETECTOR = 0
    CENTER = 1  # the image's central crop, embedded without landmarks
    UPSCALED = 2  # the pipeline's detector on the image upscaled ×2
    FALLBACK = 3


class RecordError(ValueError):
    """A stored row is not a record of this codec version."""


def _encode(status: Status, payload: np.ndarray) -> bytes:
    values = np.ascontiguousarray(payload, np.float32)
    return _HEADER.pack(CODEC_VERSION, int(status), values.size) + values.tobytes()


def _decode(data: bytes) -> tuple[Status, np.ndarray]:
    if len(data) < _HEADER.size:
        raise RecordError("row shorter than its header")
    version, status, count = _HEADER.unpack_from(data)
    if version != CODEC_VERSION:
        raise RecordError(f"row of codec version {version}, expected {CODEC_VERSION}")
    payload = np.frombuffer(data, np.float32, offset=_HEADER.size)
    if payload.size != count:
        raise RecordError(f"row holds {payload.size} values, its header says {count}")
    return Status(status), payload.copy()


_DETECTION_VALUES = 4 + 1 + 2 * NUM_LANDMARKS + 2 + 1


@dataclass(frozen=True, slots=True)
class DetectionRecord:
    """The face a benchmark keeps for one image (the one closest to the image centre).

    Attributes:
        status: ``OK`` (``face`` is set), ``NO_FACE`` or ``UNREADABLE``.
        face: the kept face, with landmarks when the detector gives them.
        width, height: the decoded image's size (0 when unreadable).
        source: where ``face`` came from (`FaceSource`: 0 the detector, else a no-face rescue).
    """

    status: Status
    face: Face | None = None
    width: int = 0
    height: int = 0
    source: int = FaceSource.DETECTOR

    def encode(self) -> bytes:
        values = np.full(_DETECTION_VALUES, np.nan, np.float32)
        if self.face is not None:
            values[:4] = self.face.box
            values[4] = self.face.score
            if self.face.landmarks is not None:
                values[5:15] = np.asarray(self.face.landmarks, np.float32).reshape(-1)
        values[15:17] = self.width, self.height
        values[17] = self.source
        return _encode(self.status, values)

    @classmethod
    def decode(cls, data: bytes) -> DetectionRecord:
        status, values = _decode(data)
        if values.size == _DETECTION_VALUES - 1:  # a row from before no-face policies: the detector's
            values = np.append(values, np.float32(FaceSource.DETECTOR))
        if values.size != _DETECTION_VALUES:
            raise RecordError(f"a detection holds {_DETECTION_VALUES} values, this row {values.size}")
        face = None
        if status == Status.OK:
            landmarks = values[5:15].reshape(NUM_LANDMARKS, 2)
            face = Face(
                box=values[:4].copy(),
                score=float(values[4]),
                landmarks=None if np.isnan(landmarks).any() else landmarks.copy(),
            )
        return cls(status, face, int(values[15]), int(values[16]), int(values[17]))


@dataclass(frozen=True, slots=True)
class EmbeddingRecord:
    """One image's embedding (``OK``) or why there is none (``NO_FACE``, ``ALIGN_FAILED``, ``UNREADABLE``)."""

    status: Status
    vector: np.ndarray | None = None

    def encode(self) -> bytes:
        vector = np.zeros(0, np.float32) if self.vector is None else self.vector
        return _encode(self.status, vector)

    @classmethod
    def decode(cls, data: bytes) -> EmbeddingRecord:
        status, values = _decode(data)
        if status == Status.OK and values.size == 0:
            raise RecordError("an OK embedding row holds no vector")
        return cls(status, values if status == Status.OK else None)
