"""Folder inference: detection over files and folders, written as result files, annotated images,
aligned crops and face / head masks (`annotate`, `find_images`)."""

from facebench.annotate.run import CROP_CHOICES, AnnotateOptions, AnnotateSummary, annotate
from facebench.annotate.walk import DEFAULT_PATTERNS, FoundImages, ImageFile, find_images

__all__ = [
    "CROP_CHOICES",
    "DEFAULT_PATTERNS",
    "AnnotateOptions",
    "AnnotateSummary",
    "FoundImages",
    "ImageFile",
    "annotate",
    "find_images",
]
