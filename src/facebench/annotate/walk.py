"""Finding the images of files and folders: recursive, glob-filtered, safe against symlink loops."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_PATTERNS", "FoundImages", "ImageFile", "find_images"]

#: file names taken from a folder by default (case-insensitive)
DEFAULT_PATTERNS: tuple[str, ...] = (
    "*.jpg", "*.jpeg", "*.png", "*.bmp", "*.webp", "*.tif", "*.tiff",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImageFile:
    """One input image: where it is, and the name its outputs are written under (``a/b.jpg``)."""

    path: Path
    relative: str


@dataclass
class FoundImages:
    """The images found, and every input that could not be used, with why."""

    images: list[ImageFile]
    problems: list[tuple[str, str]]  # (input, reason)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatch(lowered, pattern.lower()) for pattern in patterns)


def find_images(
    paths: Sequence[str | os.PathLike[str]], patterns: Sequence[str] = DEFAULT_PATTERNS
) -> FoundImages:
    """Every image named by ``paths``: a file is taken as it is (whatever its name), a folder is
    walked recursively for files matching ``patterns``, following symbolic links but visiting each
    real folder once (a link back up the tree is reported, never walked forever).

    Output names are relative to the folder given (a file given directly keeps its own name); two
    inputs that would share an output name keep the first, and the second is reported.
    """
    found: list[ImageFile] = []
    problems: list[tuple[str, str]] = []
    taken: dict[str, Path] = {}

    def add(path: Path, relative: str) -> None:
        if relative in taken:
            problems.append((str(path), f"its output name {relative!r} is already used by {taken[relative]}"))
            return
        taken[relative] = path
        found.append(ImageFile(path, relative))

    for given in paths:
        root = Path(given)
        if root.is_file():
            add(root, root.name)
            continue
        if not root.exists():
            reason = "a broken symbolic link" if root.is_symlink() else "no such file or folder"
            problems.append((str(root), reason))
            continue
        if not root.is_dir():
            problems.append((str(root), "not a regular file or a folder"))
            continue
        before = len(found)
        visited: set[tuple[int, int]] = set()
        for folder, subfolders, files in os.walk(root, followlinks=True, onerror=None):
            info = os.stat(folder)
            identity = (info.st_dev, info.st_ino)
            if identity in visited:
                problems.append((folder, "a symbolic link loop (this folder was already walked); skipped"))
                subfolders[:] = []
                continue
            visited.add(identity)
            subfolders.sort()
            for name in sorted(files):
                if not _matches(name, patterns):
                    continue
                path = Path(folder) / name
                if not path.exists():
                    problems.append((str(path), "a broken symbolic link"))
                    continue
                add(path, path.relative_to(root).as_posix())
        if len(found) == before:
            problems.append((str(root), f"no images in this folder (matching {', '.join(patterns)})"))
    return FoundImages(found, problems)
