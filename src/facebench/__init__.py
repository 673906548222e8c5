"""facebench: measure face detection, alignment and recognition pipelines on real benchmarks.

Example:
    >>> import facebench
    >>> faces = facebench.detect("photo.jpg", detector="yunet")  # doctest: +SKIP
"""

from facebench.api import VerifyResult as VerifyResult
from facebench.api import benchmark as benchmark
from facebench.api import embed as embed
from facebench.api import load_results as load_results
from facebench.api import verify as verify
from facebench.detectors import create as create_detector
from facebench.detectors import detect as detect
from facebench.detectors import list_detectors as list_detectors
from facebench.errors import ChecksumMismatchError as ChecksumMismatchError
from facebench.errors import DownloadError as DownloadError
from facebench.errors import FacebenchError as FacebenchError
from facebench.errors import ImageError as ImageError
from facebench.errors import ModelNotFoundError as ModelNotFoundError
from facebench.errors import UnknownNameError as UnknownNameError
from facebench.image import load_image as load_image
from facebench.recognizers import create as create_recognizer
from facebench.recognizers import list_recognizers as list_recognizers
from facebench.types import LANDMARK_NAMES as LANDMARK_NAMES
from facebench.types import Face as Face
from facebench.types import Faces as Faces

__version__ = "0.1.0"

__all__ = [
    "LANDMARK_NAMES",
    "ChecksumMismatchError",
    "DownloadError",
    "Face",
    "FacebenchError",
    "Faces",
    "ImageError",
    "ModelNotFoundError",
    "UnknownNameError",
    "VerifyResult",
    "__version__",
    "benchmark",
    "create_detector",
    "create_recognizer",
    "detect",
    "embed",
    "list_detectors",
    "list_recognizers",
    "load_image",
    "load_results",
    "verify",
]
