"""Training data for recognition: identity folders (aligned or raw) and InsightFace RecordIO.

Every source yields ``(image source, label)`` samples; `FaceTrainSet` turns one into a
preprocessed crop with augmentation drawn from a per-sample seed, and `ResumableSampler` orders the
samples from ``(seed, epoch)`` alone. A run can therefore stop anywhere and resume at the same
sample with the same augmentation: no hidden random state lives in the data pipeline.

RecordIO is read directly (record framing and the ``IfQQ`` image header), without MXNet.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from facebench.align import align_face, get_template
from facebench.datasets.identities import identity_folders
from facebench.errors import FacebenchError, ImageError
from facebench.image import load_image
from facebench.ops.blob import to_blob
from facebench.ops.degrade import degrade_lowres
from facebench.zoo.cards import Preprocess

__all__ = [
    "Augmentation",
    "FaceTrainSet",
    "IdentityFolders",
    "RecordIO",
    "ResumableSampler",
    "read_identity_folders",
    "write_recordio",
]

logger = logging.getLogger("facebench.train")

_RECORD_MAGIC = 0xCED7230A
_IMAGE_HEADER = struct.Struct("<IfQQ")  # flag, label, id, id2 (MXNet's IRHeader)
_LENGTH_MASK = (1 << 29) - 1


@dataclass
class IdentityFolders:
    """``<root>/<identity>/<image>`` samples with integer labels in sorted identity order."""

    root: Path
    paths: list[Path]
    labels: list[int]
    identities: list[str]


def read_identity_folders(
    root: str | os.PathLike[str],
    *,
    min_images: int = 1,
    exclude: Sequence[str] = (),
    max_identities: int | None = None,
) -> IdentityFolders:
    """Identity folders with at least ``min_images`` images, minus ``exclude``, the first ``max_identities``."""
    excluded = set(exclude)
    paths: list[Path] = []
    labels: list[int] = []
    identities: list[str] = []
    for name, images in identity_folders(root, min_images):
        if name in excluded:
            continue
        if max_identities is not None and len(identities) >= max_identities:
            break
        label = len(identities)
        identities.append(name)
        paths += images
        labels += [label] * len(images)
    if not identities:
        raise FacebenchError(f"{root}: no identity folder has {min_images} or more images")
    return IdentityFolders(Path(root), paths, labels, identities)


class RecordIO:
    """Random access to an InsightFace ``train.rec``/``train.idx`` pair, without MXNet.

    Record 0 of an InsightFace file is a header whose label holds ``(first identity record,
    end)``; images are records ``1 .. label[0] − 1``. Files without that header list every record.
    """

    def __init__(
        self, rec_path: str | os.PathLike[str], idx_path: str | os.PathLike[str] | None = None
    ) -> None:
        self.rec_path = Path(rec_path)
        self.idx_path = Path(idx_path) if idx_path else self.rec_path.with_suffix(".idx")
        for path in (self.rec_path, self.idx_path):
            if not path.is_file():
                raise FacebenchError(f"RecordIO file {path} does not exist")
        self.offsets: dict[int, int] = {}
        for number, line in enumerate(self.idx_path.read_text().splitlines(), 1):
            parts = line.split()
            if len(parts) != 2:
                raise FacebenchError(f"{self.idx_path}:{number}: expected 'key<TAB>offset', got {line!r}")
            self.offsets[int(parts[0])] = int(parts[1])
        self._file: Any = None
        flag, label, _ = self.read(0) if 0 in self.offsets else (0, (0.0,), b"")
        if flag > 0:
            self.keys = list(range(1, int(label[0])))
        else:
            self.keys = sorted(self.offsets)

    def __getstate__(self) -> dict[str, Any]:  # DataLoader workers open their own handle
        return {**self.__dict__, "_file": None}

    def read(self, key: int) -> tuple[int, tuple[float, ...], bytes]:
        """``(flag, labels, payload)`` of record ``key``."""
        if self._file is None:
            self._file = open(self.rec_path, "rb")  # noqa: SIM115 - kept open for the dataset's life
        self._file.seek(self.offsets[key])
        magic, length_field = struct.unpack("<II", self._file.read(8))
        if magic != _RECORD_MAGIC:
            raise FacebenchError(f"{self.rec_path}: record {key} has a bad magic number (file corrupt?)")
        if length_field >> 29:
            raise FacebenchError(f"{self.rec_path}: record {key} is split over several parts; not supported")
        data = self._file.read(length_field & _LENGTH_MASK)
        flag, label, _, _ = _IMAGE_HEADER.unpack_from(data)
        start = _IMAGE_HEADER.size
        if flag > 0:
            labels = struct.unpack_from(f"<{flag}f", data, start)
            start += 4 * flag
        else:
            labels = (label,)
        return flag, labels, data[start:]

    def __len__(self) -> int:
        return len(self.keys)

    def sample(self, index: int) -> tuple[bytes, int]:
        _, labels, payload = self.read(self.keys[index])
        return payload, int(labels[0])

    def labels(self) -> list[int]:
        """Every image's label, reading only record headers (not the images)."""
        if self._file is None:
            self._file = open(self.rec_path, "rb")  # noqa: SIM115 - kept open for the dataset's life
        labels = []
        for key in self.keys:
            self._file.seek(self.offsets[key] + 8)
            flag, label, _, _ = _IMAGE_HEADER.unpack(self._file.read(_IMAGE_HEADER.size))
            if flag > 0:
                label = struct.unpack("<f", self._file.read(4))[0]
            labels.append(int(label))
        return labels


def _pack(labels: Sequence[float], payload: bytes) -> bytes:
    flag = len(labels) if len(labels) > 1 else 0
    header = _IMAGE_HEADER.pack(flag, 0.0 if flag else float(labels[0]), 0, 0)
    extra = struct.pack(f"<{flag}f", *labels) if flag else b""
    body = header + extra + payload
    record = struct.pack("<II", _RECORD_MAGIC, len(body)) + body
    return record + b"\0" * (-len(record) % 4)


def write_recordio(prefix: str | os.PathLike[str], samples: Sequence[tuple[bytes, int]]) -> tuple[Path, Path]:
    """Write encoded images with labels as ``prefix.rec``/``prefix.idx`` in InsightFace's layout."""
    rec_path, idx_path = Path(f"{prefix}.rec"), Path(f"{prefix}.idx")
    offset = 0
    with open(rec_path, "wb") as rec, open(idx_path, "w") as idx:
        records = [_pack((len(samples) + 1.0, len(samples) + 1.0), b"")]
        records += [_pack((float(label),), payload) for payload, label in samples]
        for key, record in enumerate(records):
            idx.write(f"{key}\t{offset}\n")
            rec.write(record)
            offset += len(record)
    return rec_path, idx_path


@dataclass(frozen=True)
class Augmentation:
    """Training-time augmentation, drawn per sample.

    Attributes:
        flip: probability of a horizontal mirror.
        lowres_probability: probability of a low-resolution degradation.
        lowres_factors: ``(min, max)`` downscale factor, drawn uniformly.
    """

    flip: float = 0.5
    lowres_probability: float = 0.0
    lowres_factors: tuple[float, float] = (2.0, 8.0)

    def __call__(self, crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() < self.flip:
            crop = crop[:, ::-1]
        if self.lowres_probability and rng.random() < self.lowres_probability:
            crop = degrade_lowres(np.ascontiguousarray(crop), float(rng.uniform(*self.lowres_factors)))
        return np.ascontiguousarray(crop)


@dataclass
class FaceTrainSet(Dataset):
    """Preprocessed ``(crop, label)`` pairs for a backbone's input contract.

    Exactly one of the sources is used: ``paths`` of aligned crops; ``paths`` with ``faces`` (box +
    landmarks per image, aligned here on every read); or ``record`` (RecordIO of aligned crops).
    An unreadable sample yields label ``−1`` (left out of the loss) and a warning naming the file.

    Items are requested as ``(index, seed)``: the seed drives this sample's augmentation.
    """

    preprocess: Preprocess
    labels: list[int]
    paths: list[Path] | None = None
    faces: list[tuple[np.ndarray, np.ndarray]] | None = None
    record: RecordIO | None = None
    augmentation: Augmentation = field(default_factory=Augmentation)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return max(self.labels) + 1

    def _fit(self, crop: np.ndarray, where: str) -> np.ndarray:
        """An aligned crop brought to the template size (ArcFace 112×112 centre-cropped to SphereFace 112×96)."""
        template = get_template(self.preprocess.template)  # type: ignore[arg-type]
        height, width = crop.shape[:2]
        if (height, width) == (template.height, template.width):
            return crop
        if height == template.height and width > template.width:
            left = (width - template.width) // 2
            return crop[:, left : left + template.width]
        raise ImageError(
            where, f"aligned crop is {width}×{height}, the backbone needs {template.width}×{template.height}"
        )

    def _crop(self, index: int) -> np.ndarray:
        if self.record is not None:
            payload, _ = self.record.sample(index)
            decoded = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
            if decoded is None:
                raise ImageError(f"{self.record.rec_path}[{index}]", "the record is not a decodable image")
            return self._fit(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), f"{self.record.rec_path}[{index}]")
        assert self.paths is not None
        image = load_image(self.paths[index])
        if self.faces is not None:
            box, landmarks = self.faces[index]
            return align_face(image, box, landmarks, self.preprocess.template, "similarity")  # type: ignore[arg-type]
        return self._fit(image, str(self.paths[index]))

    def __getitem__(self, item: tuple[int, int]) -> tuple[np.ndarray, int]:
        index, seed = item
        template = get_template(self.preprocess.template)  # type: ignore[arg-type]
        try:
            crop = self.augmentation(self._crop(index), np.random.default_rng(seed))
            label = self.labels[index]
        except ImageError as error:
            logger.warning("skipping training sample: %s", error)
            crop, label = np.zeros((template.height, template.width, 3), np.uint8), -1
        return to_blob(crop, self.preprocess)[0], label


class ResumableSampler(Sampler[tuple[int, int]]):
    """``(index, augmentation seed)`` for one rank, in an order fixed by ``(seed, epoch)``.

    Each epoch is a fresh permutation; ranks take interleaved slices of it (the permutation is
    padded by wrapping so every rank gets the same number). `start` skips the samples a resumed
    run has already seen this epoch.
    """

    def __init__(self, size: int, *, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.size, self.seed, self.rank, self.world_size = size, seed, rank, world_size
        self.per_rank = -(-size // world_size)
        self.epoch, self.start = 0, 0

    def set_position(self, epoch: int, start: int) -> None:
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        return self.per_rank - self.start

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.size)
        order = np.resize(order, self.per_rank * self.world_size)[self.rank :: self.world_size]
        for position in range(self.start, self.per_rank):
            global_position = position * self.world_size + self.rank
            sample_seed = np.random.SeedSequence([self.seed, self.epoch, global_position]).generate_state(1)[
                0
            ]
            yield int(order[position]), int(sample_seed)


def collate(batch: list[tuple[np.ndarray, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(np.stack([item[0] for item in batch]))
    return images, torch.tensor([item[1] for item in batch], dtype=torch.long)
