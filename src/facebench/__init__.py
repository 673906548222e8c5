"""facebench: measure face detection, alignment and recognition pipelines on real benchmarks.

``import facebench`` is light: the public names below are imported on first use (PEP 562), so a
command that only lists models, or detects with an ONNX model, never pays for torch or plotting.

Example:
    >>> import facebench
    >>> faces = facebench.detect("photo.jpg", detector="yunet")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from facebench.api import AnalyzedFace as AnalyzedFace
    from facebench.api import VerifyResult as VerifyResult
    from facebench.api import analyze as analyze
    from facebench.api import benchmark as benchmark
    from facebench.api import detect as detect
    from facebench.api import embed as embed
    from facebench.api import load_results as load_results
    from facebench.api import verify as verify
    from facebench.defaults import DEFAULT_DETECTOR as DEFAULT_DETECTOR
    from facebench.defaults import DEFAULT_RECOGNIZER as DEFAULT_RECOGNIZER
    from facebench.detectors import create as create_detector  # noqa: F401
    from facebench.detectors import list_detectors as list_detectors
    from facebench.errors import ChecksumMismatchError as ChecksumMismatchError
    from facebench.errors import DownloadError as DownloadError
    from facebench.errors import FacebenchError as FacebenchError
    from facebench.errors import ImageError as ImageError
    from facebench.errors import MissingExtraError as MissingExtraError
    from facebench.errors import ModelNotFoundError as ModelNotFoundError
    from facebench.errors import UnknownNameError as UnknownNameError
    from facebench.image import load_image as load_image
    from facebench.recognizers import create as create_recognizer  # noqa: F401
    from facebench.recognizers import list_recognizers as list_recognizers
    from facebench.types import LANDMARK_NAMES as LANDMARK_NAMES
    from facebench.types import Face as Face
    from facebench.types import Faces as Faces

__version__ = "0.1.0"

#: public name → (module, attribute in it)
_LAZY: dict[str, tuple[str, str]] = {
    "DEFAULT_DETECTOR": ("facebench.defaults", "DEFAULT_DETECTOR"),
    "DEFAULT_RECOGNIZER": ("facebench.defaults", "DEFAULT_RECOGNIZER"),
    "AnalyzedFace": ("facebench.api", "AnalyzedFace"),
    "VerifyResult": ("facebench.api", "VerifyResult"),
    "analyze": ("facebench.api", "analyze"),
    "benchmark": ("facebench.api", "benchmark"),
    "embed": ("facebench.api", "embed"),
    "load_results": ("facebench.api", "load_results"),
    "verify": ("facebench.api", "verify"),
    "create_detector": ("facebench.detectors", "create"),
    "detect": ("facebench.api", "detect"),
    "list_detectors": ("facebench.detectors", "list_detectors"),
    "ChecksumMismatchError": ("facebench.errors", "ChecksumMismatchError"),
    "DownloadError": ("facebench.errors", "DownloadError"),
    "FacebenchError": ("facebench.errors", "FacebenchError"),
    "ImageError": ("facebench.errors", "ImageError"),
    "MissingExtraError": ("facebench.errors", "MissingExtraError"),
    "ModelNotFoundError": ("facebench.errors", "ModelNotFoundError"),
    "UnknownNameError": ("facebench.errors", "UnknownNameError"),
    "load_image": ("facebench.image", "load_image"),
    "create_recognizer": ("facebench.recognizers", "create"),
    "list_recognizers": ("facebench.recognizers", "list_recognizers"),
    "LANDMARK_NAMES": ("facebench.types", "LANDMARK_NAMES"),
    "Face": ("facebench.types", "Face"),
    "Faces": ("facebench.types", "Faces"),
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'facebench' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
