"""Alignment: warp a detected face onto a recognizer's template (or a baseline crop)."""

from facebench.align.templates import TEMPLATES as TEMPLATES
from facebench.align.templates import Template as Template
from facebench.align.templates import get_template as get_template
from facebench.align.transform import ALIGN_METHODS as ALIGN_METHODS
from facebench.align.transform import AlignMethod as AlignMethod
from facebench.align.transform import align_face as align_face
from facebench.align.transform import similarity_transform as similarity_transform
from facebench.align.transform import warp_matrix as warp_matrix

__all__ = [
    "ALIGN_METHODS",
    "TEMPLATES",
    "AlignMethod",
    "Template",
    "align_face",
    "get_template",
    "similarity_transform",
    "warp_matrix",
]
