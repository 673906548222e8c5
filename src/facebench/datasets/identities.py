"""Identification from identity folders: ``<root>/<identity>/<image>``.

The gallery holds the first image (in sorted order) of every identity; every other image is a
probe. Identities with a single image stay in the gallery as distractors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from facebench.errors import FacebenchError

__all__ = ["IdentificationSet", "load_identity_folders"]

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


def load_identity_folders(root: str | os.PathLike[str], min_images: int = 1) -> IdentificationSet:
    """Gallery and probes from identity folders; only identities with ``min_images`` or more count."""
    root = Path(root)
    if not root.is_dir():
        raise FacebenchError(f"identity-folder dataset {root} is not a folder")
    gallery, gallery_identity, probes, probe_identity = [], [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if len(images) < max(1, min_images):
            continue
        gallery.append(images[0])
        gallery_identity.append(folder.name)
        probes += images[1:]
        probe_identity += [folder.name] * (len(images) - 1)
    if not probes:
        raise FacebenchError(f"{root}: no identity has two or more images, so there is nothing to identify")
    return IdentificationSet(gallery, gallery_identity, probes, probe_identity)
