"""Face recognizers behind one API: `create(name, **options)` and `embed_faces(image, faces)`."""

from facebench.recognizers import dlib_resnet as _dlib_resnet  # noqa: F401  (modules register their recognizers)
from facebench.recognizers import edgeface as _edgeface  # noqa: F401
from facebench.recognizers import mobilefacenet as _mobilefacenet  # noqa: F401
from facebench.recognizers import trained as _trained  # noqa: F401
from facebench.recognizers.base import Recognizer as Recognizer
from facebench.recognizers.base import l2_normalise as l2_normalise
from facebench.recognizers.registry import create as create
from facebench.recognizers.registry import list_recognizers as list_recognizers
from facebench.recognizers.registry import recognizer_class as recognizer_class
from facebench.recognizers.registry import register_recognizer as register_recognizer

__all__ = [
    "Recognizer",
    "create",
    "l2_normalise",
    "list_recognizers",
    "recognizer_class",
    "register_recognizer",
]
