"""Weight cards: everything facebench knows about a model's files and its preprocessing contract.

A card is declared once (in `facebench.zoo.catalog`) and travels with the loaded model, so
preprocessing is derived from the card instead of constants scattered through the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

__all__ = [
    "ColorOrder",
    "DetectorDefaults",
    "PackageFiles",
    "Preprocess",
    "Task",
    "WeightCard",
    "WeightFile",
]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Task(StrEnum):
    DETECTOR = "detector"
    LANDMARKS = "landmarks"
    RECOGNIZER = "recognizer"
    SEGMENTER = "segmenter"
    RESTORER = "restorer"


class ColorOrder(StrEnum):
    RGB = "rgb"
    BGR = "bgr"


@dataclass(frozen=True, slots=True)
class WeightFile:
    """One file a model needs.

    Attributes:
        filename: the name the model loads (after unpacking, when ``archive`` is set).
        sha256: full sha256 of ``filename`` as loaded.
        size: size in bytes of ``filename`` (``None`` when not published).
        url: canonical public URL; it serves ``archive`` when that is set, else ``filename``.
        archive: name of the compressed file the URL serves: ``.bz2`` or ``.zip``.
        archive_member: path of ``filename`` inside a ``.zip`` archive.
        archive_sha256: sha256 of the archive when published, checked before unpacking. The
            unpacked file is always checked against ``sha256`` before it is loaded.
        archive_size: size in bytes of the archive.
    """

    filename: str
    sha256: str
    url: str
    size: int | None = None
    archive: str | None = None
    archive_member: str | None = None
    archive_sha256: str | None = None
    archive_size: int | None = None

    def __post_init__(self) -> None:
        for label, digest in (("sha256", self.sha256), ("archive_sha256", self.archive_sha256)):
            if digest is not None and not _SHA256.match(digest):
                raise ValueError(f"WeightFile {self.filename!r}: `{label}` must be 64 lowercase hex digits")
        if self.archive is not None and not self.archive.endswith((".bz2", ".zip")):
            raise ValueError(f"WeightFile {self.filename!r}: only .bz2 and .zip archives are supported")
        if self.archive is not None and self.archive.endswith(".zip") and not self.archive_member:
            raise ValueError(f"WeightFile {self.filename!r}: a .zip archive needs `archive_member`")


@dataclass(frozen=True, slots=True)
class PackageFiles:
    """A PyPI package that ships a model's files as part of its normal function.

    Attributes:
        distribution: the name to ``pip install``.
        module: the importable module whose folder holds the files (located without importing it).
        subdir: folder below the module's folder.
    """

    distribution: str
    module: str
    subdir: str = ""


@dataclass(frozen=True, slots=True)
class Preprocess:
    """The input contract a model was trained with.

    Attributes:
        input_size: ``(width, height)`` the network takes, or ``None`` for any size.
        size_policy: how an image is brought to ``input_size``: ``original`` (no resize),
            ``letterbox`` (keep aspect, pad bottom/right), ``letterbox_center`` (keep aspect,
            pad evenly), ``stretch`` (resize without keeping aspect), ``crop`` (aligned face crop).
        color: channel order the network expects.
        mean: per-channel value subtracted, in the network's channel order, 0–255 scale.
        std: per-channel divisor after the mean, 0–255 scale.
        layout: ``nchw`` or ``nhwc``.
        template: alignment template name for recognizers (``arcface_112``, ``sphereface_112x96``,
            ``dlib_150``).
        embedding_dim: output dimension of a recognizer.
    """

    input_size: tuple[int, int] | None = None
    size_policy: Literal["original", "letterbox", "letterbox_center", "stretch", "crop"] = "original"
    color: ColorOrder = ColorOrder.RGB
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: Literal["nchw", "nhwc"] = "nchw"
    template: str | None = None
    embedding_dim: int | None = None


@dataclass(frozen=True, slots=True)
class DetectorDefaults:
    """A detector's default options: the one place they are stated (classes read them from here).

    Attributes:
        score_threshold: minimum confidence kept.
        nms_iou: IoU above which overlapping boxes are suppressed.
        input_size: size policy (``original``, ``max_side=N``, ``fixed=WxH``).
        fixed_input: the graph takes only ``input_size``; it is then forced whatever is asked.
        refine: landmark refiner applied unless the caller chooses another.
        batch_size: same-size images per forward pass by default: above 1 only where a batched
            pass is bit-identical to one image at a time (tested), so results never depend on
            their batch-mates.
        largest_face: for a ``fixed=WxH`` letterbox, the largest share of the input side an image
            may fill and still have a frame-filling face found (1.0: the whole input). When the
            letterbox would show an image larger than that and finds no face, the detector runs a
            second pass on the image shrunk to that share (never enlarged) and padded: a small
            tight crop is no longer blown up past every face the model was trained on.
        why: where the values come from (the authors' code, a calibration), shown in the docs.
    """

    score_threshold: float = 0.5
    nms_iou: float = 0.4
    input_size: str = "original"
    fixed_input: bool = False
    refine: str | None = None
    batch_size: int = 1
    largest_face: float = 1.0
    why: str = ""

    def describe(self) -> str:
        parts = [f"score {self.score_threshold:g}", f"NMS {self.nms_iou:g}", f"input {self.input_size}"]
        if self.fixed_input:
            parts[-1] += " (the graph takes only this size)"
        if self.refine:
            parts.append(f"landmarks refined by {self.refine}")
        if self.batch_size > 1:
            parts.append(f"{self.batch_size} same-size images per pass")
        return "Defaults: " + ", ".join(parts) + (f". {self.why}" if self.why else ".")


@dataclass(frozen=True, slots=True)
class WeightCard:
    """A model's identity, files, licence and preprocessing contract.

    Attributes:
        name: registry name (``yunet``, ``edgeface_xs_q`` ...).
        task: what the model does.
        directory: folder under ``$FACEBENCH_HOME/models`` and the cache that holds the files.
        files: the files it needs, with hashes.
        license: licence of the weights (and of the code they come from, when different).
        source: where the files were taken from (repository, commit, path).
        paper: the publication to cite.
        preprocess: input contract.
        package: a PyPI package that ships the files (searched before downloading).
        tested_offline: ``False`` for cards whose files were not available when facebench was
            tested, so their loading path is untested.
        notes: anything a user must know (decoding, caveats).
        detector_defaults: a detector's default options (every registered detector's card has them).
    """

    name: str
    task: Task
    directory: str
    files: tuple[WeightFile, ...]
    license: str
    source: str
    paper: str = ""
    preprocess: Preprocess = field(default_factory=Preprocess)
    package: PackageFiles | None = None
    tested_offline: bool = True
    notes: str = ""
    detector_defaults: DetectorDefaults | None = None

    def file(self, filename: str | None = None) -> WeightFile:
        """The card's file named ``filename``, or its only file when ``filename`` is ``None``."""
        if filename is None:
            if len(self.files) != 1:
                names = ", ".join(f.filename for f in self.files)
                raise ValueError(f"model '{self.name}' has several files ({names}); name one")
            return self.files[0]
        for weight_file in self.files:
            if weight_file.filename == filename:
                return weight_file
        names = ", ".join(f.filename for f in self.files)
        raise ValueError(f"model '{self.name}' has no file {filename!r}; it has: {names}")

    @property
    def total_size(self) -> int:
        return sum(f.size or 0 for f in self.files)
