"""Input-size policies and the geometry that maps detections back to the original image."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from facebench.types import Faces

__all__ = ["InputSize", "Resized", "model_input_shape", "resize_for_model"]

_POLICY = re.compile(r"^(original|max_side=(\d+)|fixed=(\d+)x(\d+))$")


@dataclass(frozen=True, slots=True)
class InputSize:
    """How an image is sized before a detector sees it.

    ``original`` keeps the image as it is, ``max_side=N`` shrinks it (never enlarges) so its
    longer side is at most N, ``fixed=WxH`` fits it into exactly W×H keeping its aspect ratio
    and padding the rest. Parse from text with `InputSize.parse`.
    """

    kind: Literal["original", "max_side", "fixed"]
    max_side: int | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def parse(cls, value: InputSize | str) -> InputSize:
        if isinstance(value, InputSize):
            return value
        match = _POLICY.match(str(value).strip().lower())
        if match is None:
            raise ValueError(
                f"Expected argument `input_size` to be one of 'original', 'max_side=N', 'fixed=WxH', but got {value!r}"
            )
        if match.group(2):
            side = int(match.group(2))
            if side < 16:
                raise ValueError(f"`input_size` max_side must be at least 16, got {side}")
            return cls("max_side", max_side=side)
        if match.group(3):
            width, height = int(match.group(3)), int(match.group(4))
            if width < 16 or height < 16:
                raise ValueError(f"`input_size` fixed size must be at least 16x16, got {width}x{height}")
            return cls("fixed", width=width, height=height)
        return cls("original")

    def __str__(self) -> str:
        if self.kind == "max_side":
            return f"max_side={self.max_side}"
        if self.kind == "fixed":
            return f"fixed={self.width}x{self.height}"
        return "original"


@dataclass(frozen=True, slots=True)
class Resized:
    """A resized, padded image and the transform back: ``original = (model - offset) / scale``."""

    image: np.ndarray
    scale: float
    offset_x: float
    offset_y: float

    def boxes_to_original(self, boxes: np.ndarray) -> np.ndarray:
        out = boxes.astype(np.float32, copy=True)
        out[..., 0::2] = (out[..., 0::2] - self.offset_x) / self.scale
        out[..., 1::2] = (out[..., 1::2] - self.offset_y) / self.scale
        return out

    def faces_to_original(
        self, boxes: np.ndarray, scores: np.ndarray, points: np.ndarray, detector: str
    ) -> Faces:
        """`Faces` in original-image coordinates from boxes and ``(N, 5, 2)`` points in model pixels."""
        return Faces(self.boxes_to_original(boxes), scores, self.points_to_original(points), detector)

    def points_to_original(self, points: np.ndarray) -> np.ndarray:
        out = points.astype(np.float32, copy=True)
        out[..., 0] = (out[..., 0] - self.offset_x) / self.scale
        out[..., 1] = (out[..., 1] - self.offset_y) / self.scale
        return out


def model_input_shape(width: int, height: int, policy: InputSize, stride: int = 1) -> tuple[int, int]:
    """(width, height) the network sees for an image of this size under ``policy``."""
    if policy.kind == "fixed":
        assert policy.width is not None and policy.height is not None
        return policy.width, policy.height
    scale = 1.0
    if policy.kind == "max_side" and policy.max_side is not None and max(width, height) > policy.max_side:
        scale = policy.max_side / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    return -(-new_w // stride) * stride, -(-new_h // stride) * stride


def resize_for_model(
    image: np.ndarray,
    policy: InputSize,
    *,
    stride: int = 1,
    center: bool = False,
    pad_value: float = 0.0,
) -> Resized:
    """Scale ``image`` as ``policy`` says, then pad it to a multiple of ``stride`` (or to the fixed size).

    Args:
        center: pad evenly on both sides (YOLO/BlazeFace letterbox) instead of bottom/right.
    """
    height, width = image.shape[:2]
    if policy.kind == "fixed":
        assert policy.width is not None and policy.height is not None
        scale = min(policy.width / width, policy.height / height)
        target_w, target_h = policy.width, policy.height
    else:
        scale = 1.0
        if policy.kind == "max_side" and policy.max_side is not None and max(height, width) > policy.max_side:
            scale = policy.max_side / max(height, width)
        target_w = target_h = 0  # set from the resized size below
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = image
    if (new_w, new_h) != (width, height):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    if policy.kind != "fixed":
        target_w = -(-new_w // stride) * stride
        target_h = -(-new_h // stride) * stride
    pad_w, pad_h = target_w - new_w, target_h - new_h
    left = pad_w // 2 if center else 0
    top = pad_h // 2 if center else 0
    if pad_w or pad_h:
        resized = cv2.copyMakeBorder(
            resized, top, pad_h - top, left, pad_w - left, cv2.BORDER_CONSTANT, value=(pad_value,) * 3
        )
    # the effective scale per axis differs by rounding; use the exact ratio of the x axis
    exact_scale = new_w / width
    return Resized(resized, exact_scale, float(left), float(top))
