"""IJB-B and IJB-C in their official release layout (as InsightFace's evaluation reads them).

``<root>/meta/`` (or ``<root>/``) holds, for ``ijbc`` (``ijbb`` alike):

- ``ijbc_face_tid_mid.txt``: ``<image> <template id> <media id>`` per face crop;
- ``ijbc_template_pair_label.txt``: ``<template 1> <template 2> <1 same | 0 different>`` (1:1);
- ``ijbc_name_5pts_score.txt``: ``<image> x1 y1 … x5 y5 <detector score>`` per face crop (the
  landmarks and faceness score of the published protocol);
- ``ijbc_1N_gallery_G1.csv``, ``ijbc_1N_gallery_G2.csv`` (IJB-B: ``_S1``/``_S2``) and
  ``ijbc_1N_probe_mixed.csv``: CSV with a header whose first two columns are ``TEMPLATE_ID`` and
  ``SUBJECT_ID``, one row per image (1:N);

and ``<root>/loose_crop/<image>`` the face crops.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facebench.errors import FacebenchError

__all__ = ["IJB_DATASETS", "Gallery", "IJBSet", "load_ijb"]

IJB_DATASETS = ("ijbb", "ijbc")
_GALLERIES = {"ijbc": ("G1", "G2"), "ijbb": ("S1", "S2")}


@dataclass(frozen=True)
class Gallery:
    """One 1:N gallery (or the probe set): a subject id per template."""

    name: str
    templates: np.ndarray
    subjects: np.ndarray


@dataclass(frozen=True)
class IJBSet:
    """The face crops, their templates and media, the published landmarks, and both protocols."""

    name: str
    root: Path
    images: tuple[Path, ...]
    templates: np.ndarray  # per face crop
    medias: np.ndarray  # per face crop
    landmarks: np.ndarray  # (faces, 5, 2), facebench order (the release's order)
    faceness: np.ndarray  # the release detector's score per face crop
    pairs: np.ndarray  # (pairs, 3): template 1, template 2, label
    galleries: tuple[Gallery, ...]
    probes: Gallery


def _meta(root: Path, filename: str) -> Path:
    for folder in (root / "meta", root):
        if (folder / filename).is_file():
            return folder / filename
    raise FacebenchError(
        f"IJB file {filename} not found in {root / 'meta'} or {root} (official release layout)"
    )


def _read_table(path: Path, columns: int) -> list[list[str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != columns:
                raise FacebenchError(f"{path}, line {number}: expected {columns} fields, got {len(parts)}")
            rows.append(parts)
    if not rows:
        raise FacebenchError(f"{path} is empty")
    return rows


def _read_subjects(path: Path, name: str) -> Gallery:
    try:
        table = np.loadtxt(path, dtype=np.int64, delimiter=",", skiprows=1, usecols=(0, 1), ndmin=2)
    except ValueError as error:
        raise FacebenchError(
            f"{path}: expected TEMPLATE_ID,SUBJECT_ID,... rows after a header ({error})"
        ) from None
    templates, first = np.unique(table[:, 0], return_index=True)
    subjects = table[first, 1]
    for template, subject in zip(table[:, 0], table[:, 1], strict=True):
        if subjects[np.searchsorted(templates, template)] != subject:
            raise FacebenchError(f"{path}: template {template} is listed under two subjects")
    return Gallery(name, templates, subjects)


def load_ijb(name: str, root: str | os.PathLike[str] | None = None) -> IJBSet:
    """Read ``ijbc`` or ``ijbb`` from ``root`` (default ``$FACEBENCH_HOME/data/<name>``).

    Raises:
        FacebenchError: a file is missing or malformed, or a face crop has no landmarks.
    """
    if name not in IJB_DATASETS:
        raise FacebenchError(f"Expected an IJB dataset ({', '.join(IJB_DATASETS)}), but got {name!r}")
    if root is None:
        home = os.environ.get("FACEBENCH_HOME")
        if not home:
            raise FacebenchError(f"FACEBENCH_HOME is not set: pass --data-root for {name}")
        root = Path(home) / "data" / name
    root = Path(root)
    if not root.is_dir():
        raise FacebenchError(f"{name} root {root} is not a folder")
    faces = _read_table(_meta(root, f"{name}_face_tid_mid.txt"), 3)
    points_path = _meta(root, f"{name}_name_5pts_score.txt")
    points = {row[0]: row[1:] for row in _read_table(points_path, 12)}
    missing = [row[0] for row in faces if row[0] not in points]
    if missing:
        raise FacebenchError(
            f"{points_path}: no landmarks for {len(missing)} face crop(s), e.g. {missing[0]}"
        )
    values = np.array([points[row[0]] for row in faces], np.float32)
    pairs_path = _meta(root, f"{name}_template_pair_label.txt")
    try:
        pairs = np.loadtxt(pairs_path, dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise FacebenchError(
            f"{pairs_path}: expected '<template> <template> <label>' rows ({error})"
        ) from None
    if pairs.shape[1] != 3 or not np.isin(pairs[:, 2], (0, 1)).all():
        raise FacebenchError(f"{pairs_path}: expected '<template> <template> <0|1>' rows")
    templates = np.array([int(row[1]) for row in faces], np.int64)
    unknown = np.setdiff1d(pairs[:, :2], templates)
    if unknown.size:
        raise FacebenchError(f"{pairs_path}: {unknown.size} template(s) have no face crop, e.g. {unknown[0]}")
    galleries = tuple(_read_subjects(_meta(root, f"{name}_1N_gallery_{g}.csv"), g) for g in _GALLERIES[name])
    probes = _read_subjects(_meta(root, f"{name}_1N_probe_mixed.csv"), "probe_mixed")
    return IJBSet(
        name=name,
        root=root,
        images=tuple(root / "loose_crop" / row[0] for row in faces),
        templates=templates,
        medias=np.array([int(row[2]) for row in faces], np.int64),
        landmarks=values[:, :10].reshape(-1, 5, 2),
        faceness=values[:, 10],
        pairs=pairs,
        galleries=galleries,
        probes=probes,
    )
