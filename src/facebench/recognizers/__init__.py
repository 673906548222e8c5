"""Face recognizers behind one API: `create(name, **options)` and `embed_faces(image, faces)`."""

from facebench.recognizers.base import Recognizer as Recognizer
from facebench.recognizers.base import l2_normalise as l2_normalise
from facebench.recognizers.registry import DEFAULT_RECOGNIZER as DEFAULT_RECOGNIZER
from facebench.recognizers.registry import create as create
from facebench.recognizers.registry import list_recognizers as list_recognizers
from facebench.recognizers.registry import recognizer_class as recognizer_class
from facebench.recognizers.registry import register_recognizer as register_recognizer

__all__ = [
    "DEFAULT_RECOGNIZER",
    "Recognizer",
    "create",
    "l2_normalise",
    "list_recognizers",
    "recognizer_class",
    "register_recognizer",
]
