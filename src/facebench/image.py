"""One image loader for every stage: paths, bytes, numpy arrays and PIL images to RGB uint8.

Decoding is Pillow's. On top of it the loader applies EXIF orientation, converts every mode
(grayscale, RGBA, palette, 16-bit, CMYK, float) to RGB uint8, and refuses images whose declared
pixel count exceeds a limit *before* decoding them, so a decompression bomb never allocates.
Every failure raises `ImageError` naming the source and the reason.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facebench.errors import ImageError

__all__ = ["DEFAULT_MAX_PIXELS", "ImageInput", "describe_source", "load_image"]

#: 120 megapixels: well above any camera frame (a 6000x4000 photo is 24 MP), far below a bomb.
DEFAULT_MAX_PIXELS = 120_000_000

ImageInput = str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray | Image.Image


def describe_source(source: Any) -> str:
    """A short, human-readable name for an image source, used in error messages."""
    if isinstance(source, str | os.PathLike):
        return str(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return f"<array shape={source.shape} dtype={source.dtype}>"
    if isinstance(source, Image.Image):
        return f"<PIL image mode={source.mode} size={source.size}>"
    return f"<{type(source).__name__}>"


def _sixteen_bit_to_uint8(array: np.ndarray) -> np.ndarray:
    # 16-bit images use the full 0..65535 range; the top byte is the 8-bit value.
    return (np.clip(array, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8)


def _float_to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(array).all():
        raise ImageError(name, "float image contains NaN or infinity")
    low, high = float(array.min(initial=0.0)), float(array.max(initial=0.0))
    if low < 0.0 or high > 1.0:
        raise ImageError(name, f"float images must hold values in [0, 1], found [{low:.3g}, {high:.3g}]")
    return np.round(array * 255.0).astype(np.uint8)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend an RGBA uint8 array over white: hidden pixels under alpha=0 must not leak through."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32)
    return np.round(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def _pil_to_rgb(image: Image.Image, name: str) -> np.ndarray:
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        return _composite_on_white(np.asarray(image.convert("RGBA"), dtype=np.uint8))
    if mode.startswith("I"):
        # "I;16*" is 16-bit; a 32-bit "I" image holding values above 255 is 16-bit data too.
        array = np.asarray(image).astype(np.int64)
        sixteen_bit = mode.startswith("I;16") or array.max(initial=0) > 255
        gray = _sixteen_bit_to_uint8(array) if sixteen_bit else np.clip(array, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "F":
        array = np.asarray(image, dtype=np.float32)
        scaled = (
            _float_to_uint8(array, name)
            if array.max(initial=0.0) <= 1.0
            else np.clip(array, 0, 255).astype(np.uint8)
        )
        return np.repeat(scaled[..., None], 3, axis=2)
    # L, 1, P without transparency, CMYK, YCbCr, LAB, HSV: Pillow's conversion is exact.
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _decode(opener: Any, name: str, max_pixels: int) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            # our own max_pixels check below replaces Pillow's warning; its hard error still applies
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(opener) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ImageError(name, f"declared size {width}x{height} is empty")
                if width * height > max_pixels:
                    raise ImageError(
                        name,
                        f"declared size {width}x{height} ({width * height:,} pixels) exceeds the limit of "
                        f"{max_pixels:,} pixels (a decompression bomb, or raise `max_pixels`)",
                    )
                image.load()
                image = ImageOps.exif_transpose(image)
                return _pil_to_rgb(image, name)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(name, "not a recognised image format (corrupt file or wrong extension)") from None
    except Image.DecompressionBombError as error:
        raise ImageError(name, f"refused as a decompression bomb: {error}") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        reason = str(error) or type(error).__name__
        if "truncated" in reason.lower():
            reason = f"truncated or incomplete file ({reason})"
        raise ImageError(name, reason) from None


def _from_array(array: np.ndarray, name: str, color: Literal["rgb", "bgr"]) -> np.ndarray:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageError(name, "arrays must be HxW, HxWx1, HxWx3 or HxWx4")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(name, "array has no pixels")
    if array.dtype == np.uint8:
        pass
    elif array.dtype == np.uint16:
        array = _sixteen_bit_to_uint8(array)
    elif np.issubdtype(array.dtype, np.floating):
        array = _float_to_uint8(array.astype(np.float32), name)
    elif array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    else:
        raise ImageError(
            name, f"unsupported dtype {array.dtype} (use uint8, uint16, bool or float in [0, 1])"
        )
    channels = array.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(array, 3, axis=2))
    if color == "bgr":
        array = array[..., [2, 1, 0, 3]] if channels == 4 else array[..., ::-1]
    if channels == 4:
        return _composite_on_white(array)
    return np.ascontiguousarray(array)


def load_image(
    source: ImageInput,
    *,
    color: Literal["rgb", "bgr"] = "rgb",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Read an image into a contiguous ``(H, W, 3)`` RGB uint8 array.

    Args:
        source: a file path, encoded bytes, a numpy array or a PIL image.
        color: channel order of a 3- or 4-channel *array* input (OpenCV arrays are ``"bgr"``).
            Decoded files and PIL images are always RGB.
        max_pixels: largest accepted width×height, checked before decoding.

    Returns:
        The image as RGB uint8, EXIF orientation applied, transparency blended over white.

    Raises:
        ImageError: the source is missing, unreadable, corrupt, too large or of an unsupported kind.

    Example:
        >>> rgb = load_image(np.zeros((4, 6), np.uint8))
        >>> rgb.shape, rgb.dtype
        ((4, 6, 3), dtype('uint8'))
    """
    if color not in ("rgb", "bgr"):
        raise ValueError(f"Expected argument `color` to be one of 'rgb', 'bgr', but got {color!r}")
    name = describe_source(source)
    if isinstance(source, np.ndarray):
        return _from_array(source, name, color)
    if isinstance(source, Image.Image):
        width, height = source.size
        if width * height > max_pixels:
            raise ImageError(name, f"size {width}x{height} exceeds the limit of {max_pixels:,} pixels")
        try:
            return _pil_to_rgb(ImageOps.exif_transpose(source), name)
        except (OSError, ValueError) as error:
            raise ImageError(name, str(error)) from None
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise ImageError(name, "empty input (0 bytes)")
        return _decode(io.BytesIO(bytes(source)), name, max_pixels)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise ImageError(name, "no such file")
        if path.is_dir():
            raise ImageError(name, "is a directory, not an image file")
        try:
            if path.stat().st_size == 0:
                raise ImageError(name, "empty file (0 bytes)")
        except OSError as error:
            raise ImageError(name, f"cannot stat file: {error.strerror}") from None
        try:
            return _decode(path, name, max_pixels)
        except PermissionError:
            raise ImageError(name, "permission denied") from None
    raise ImageError(name, "unsupported input type (use a path, bytes, a numpy array or a PIL image)")
