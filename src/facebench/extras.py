"""Optional dependencies: which extra provides each, and one way to import them.

The core install (numpy, OpenCV, ONNX Runtime, Pillow, typer, rich, PyYAML) runs every ONNX
detector and recognizer. Everything else is an extra, imported only where it is used; a missing
one raises `MissingExtraError`, whose one-line message names the ``pip install`` that fixes it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from facebench.errors import MissingExtraError

__all__ = ["EXTRA_OF", "has_module", "require", "require_all"]

#: top-level module → the facebench extra that installs it
EXTRA_OF: dict[str, str] = {
    "torch": "torch",
    "ai_edge_litert": "litert",
    "dlib": "dlib",
    "face_recognition_models": "dlib",
    "scipy": "metrics",
    "sklearn": "metrics",
    "matplotlib": "report",
    "plotly": "report",
    "pandas": "report",
    "tensorboard": "train",
    "faiss": "gallery",
    "pyarrow": "gallery",
    "ray": "ray",
    # pydantic is not here: typer, a core dependency, depends on it
}


def has_module(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):  # a finder that refuses the name outright
        return False


def require(module: str, needed_for: str) -> ModuleType:
    """Import ``module``, or raise `MissingExtraError` naming the extra that installs it.

    Args:
        module: the module to import (``torch``, ``scipy.io`` …).
        needed_for: what the caller was about to do, for the message (``retinaface_mnet025``).
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if error.name is not None and error.name.split(".")[0] != top:
            raise  # the module is installed but one of its own imports broke: not a missing extra
        raise MissingExtraError(needed_for, top, EXTRA_OF.get(top, top)) from error


def require_all(modules: tuple[str, ...], needed_for: str) -> None:
    """`require` each of ``modules`` (a model's `requires`), without keeping them."""
    for module in modules:
        if not has_module(module):
            require(module, needed_for)
