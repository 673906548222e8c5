"""Identification from identity folders: ``<root>/<identity>/<image>``.

The gallery holds the first image (in sorted order) of every identity; every other image is a
probe. Identities with a single image stay in the gallery as distractors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from facebench.errors import FacebenchError

__all__ = ["IdentificationSet", "identity_folders", "load_identity_folders"]

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class IdentificationSet:
    gallery: list[Path]
    gallery_identity: list[str]
    probes: list[Path]
    probe_identity: list[str]

    @property
    def images(self) -> list[Path]:
        return sorted(set(self.gallery) | set(self.probes))


def identity_folders(root: str | os.PathLike[str], min_images: int = 1) -> Iterator[tuple[str, list[Path]]]:
    """``(identity, sorted images)`` of each ``<root>/<identity>/`` with ``min_images`` or more, in name order.

    Raises:
        FacebenchError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FacebenchError(f"identity-folder dataset {root} does not exist or is not a folder")
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if len(images) >= max(1, min_images):
            yield folder.name, images


def load_identity_folders(root: str | os.PathLike[str], min_images: int = 1) -> IdentificationSet:
    """Gallery and probes from identity folders; only identities with ``min_images`` or more count."""
    gallery, gallery_identity, probes, probe_identity = [], [], [], []
    for name, images in identity_folders(root, min_images):
        gallery.append(images[0])
        gallery_identity.append(name)
        probes += images[1:]
        probe_identity += [name] * (len(images) - 1)
    if not probes:
        raise FacebenchError(f"{root}: no identity has two or more images, so there is nothing to identify")
    return IdentificationSet(gallery, gallery_identity, probes, probe_identity)
