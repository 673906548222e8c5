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

__all__ = [
    "IdentificationSet",
    "identity_folders",
    "load_cfp_identification",
    "load_identity_folders",
]

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class IdentificationSet:
    gallery: list[Path]
    gallery_identity: list[str]
    probes: list[Path]
    probe_identity: list[str]
    #: how the gallery and probes were drawn, as results state it
    split: str = "gallery: first image (sorted) of each identity; probes: the rest"

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
    split = "gallery: first image (sorted) of each identity"
    split += f" with {min_images} or more images" if min_images > 1 else " (single-image ones as distractors)"
    return IdentificationSet(gallery, gallery_identity, probes, probe_identity, split + "; probes: the rest")


def load_cfp_identification(root: str | os.PathLike[str]) -> IdentificationSet:
    """CFP as frontal-to-profile identification: each identity's first frontal image is its
    gallery entry and every profile image a probe (``<root>/Data/Images/<id>/{frontal,profile}/``).

    Raises:
        FacebenchError: the release layout is not there, or an identity lacks a frontal image.
    """
    images = Path(root) / "Data" / "Images"
    if not images.is_dir():
        raise FacebenchError(f"CFP images folder {images} not found (expected the official release layout)")
    gallery, gallery_identity, probes, probe_identity = [], [], [], []
    for folder in sorted(p for p in images.iterdir() if p.is_dir()):
        frontal = sorted(p for p in (folder / "frontal").glob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
        profile = sorted(p for p in (folder / "profile").glob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
        if not frontal:
            raise FacebenchError(f"CFP identity {folder} has no frontal image for the gallery")
        gallery.append(frontal[0].resolve())
        gallery_identity.append(folder.name)
        probes += [p.resolve() for p in profile]
        probe_identity += [folder.name] * len(profile)
    if not probes:
        raise FacebenchError(f"{images}: no profile images to identify")
    split = "gallery: first frontal image (sorted) of each identity; probes: every profile image"
    return IdentificationSet(gallery, gallery_identity, probes, probe_identity, split)
