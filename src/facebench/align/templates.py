"""Alignment templates: where each recognizer expects the 5 landmarks in its input crop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facebench.errors import UnknownNameError
from facebench.zoo.registry import suggest

__all__ = ["TEMPLATES", "Template", "get_template"]


@dataclass(frozen=True, slots=True)
class Template:
    """A crop size and the 5 target points (facebench landmark order) inside it."""

    name: str
    width: int
    height: int
    points: tuple[tuple[float, float], ...]

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.points, np.float32)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


# InsightFace's ArcFace template for 112×112 crops (arcface_torch, `arcface_dst`).
_ARCFACE = (
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
)

TEMPLATES: dict[str, Template] = {
    "arcface_112": Template("arcface_112", 112, 112, _ARCFACE),
    # SphereFace's 96×112 template: the same face, 8 px narrower on each side
    "sphereface_112x96": Template("sphereface_112x96", 96, 112, tuple((x - 8.0, y) for x, y in _ARCFACE)),
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        known = sorted(TEMPLATES)
        raise UnknownNameError(
            f"Expected argument `template` to be one of {', '.join(known)}, but got {name!r}.{suggest(name, known)}"
        ) from None
