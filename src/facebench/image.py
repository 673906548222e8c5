"""One image loader for every stage: paths, bytes, numpy arrays and PIL images to RGB uint8.

Decoding is Pillow's (a complete, upright colour JPEG is decoded by OpenCV, to the same pixels,
faster: `_jpeg_by_opencv`). On top of it the loader applies EXIF orientation, converts every mode
(grayscale, RGBA, palette, 16-bit, CMYK, float) to RGB uint8, and refuses images whose declared
pixel count exceeds a limit *before* decoding them, so a decompression bomb never allocates.
Every failure raises `ImageError` naming the source and the reason.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from facebench.errors import ImageError

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_MAX_PIXELS",
    "MAX_FILE_BYTES",
    "DecodedImage",
    "ImageInput",
    "decode_image",
    "describe_source",
    "display_name",
    "load_image",
    "read_image_file",
]

#: 120 megapixels: well above any camera frame (a 6000x4000 photo is 24 MP), far below a bomb.
DEFAULT_MAX_PIXELS = 120_000_000

#: The only Pillow decoders facebench lets near a file. Pillow would otherwise identify dozens of
#: formats, some of which hand the file to an external program (EPS → Ghostscript).
ALLOWED_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF", "GIF", "PPM")

#: Leading bytes of formats that are refused, to say *what* a refused file is.
_REFUSED_SIGNATURES = (
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML/SVG"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "Photoshop PSD"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xffO\xffQ", "JPEG 2000"),
    (b"gimp xcf", "GIMP XCF"),
    (b"icns", "ICNS"),
    (b"DDS ", "DDS"),
)

ImageInput = str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray | Image.Image


def display_name(path: str | os.PathLike[str]) -> str:
    """A path as printable text: undecodable bytes as ``\\xNN``, control characters escaped.

    A file name may hold a newline or bytes that are not UTF-8; printed raw, the first forges
    an extra line in a report and the second crashes a UTF-8 writer.
    """
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text
    )


def describe_source(source: Any) -> str:
    """A short, human-readable name for an image source, used in error messages."""
    if isinstance(source, str | os.PathLike):
        return display_name(source)
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


#: EXIF orientations that need a transpose (1 is upright; anything else Pillow ignores too)
_TRANSPOSED_ORIENTATIONS = frozenset(range(2, 9))


def _upright(image: Image.Image) -> Image.Image:
    """``image`` turned upright by its EXIF (or XMP) orientation. `ImageOps.exif_transpose` copies
    an image that is upright already, and reading that copy into numpy is slower than reading the
    decoded image itself, so an upright image is returned as it is."""
    return image if _is_upright(image) else ImageOps.exif_transpose(image)


def _is_upright(image: Image.Image) -> bool:
    return image.getexif().get(ExifTags.Base.Orientation, 1) not in _TRANSPOSED_ORIENTATIONS


def _jpeg_by_opencv(opener: Any, width: int, height: int) -> np.ndarray | None:
    """A complete 3-component JPEG decoded by OpenCV, or ``None`` to let Pillow decode it.

    Both decode with libjpeg-turbo's defaults (integer IDCT, fancy upsampling), so the pixels are
    Pillow's (``tests/test_image.py`` checks every JPEG the tests can reach and synthetic ones of
    each subsampling, progressive and restart-marker kind), but OpenCV skips Pillow's image object
    and its copy into numpy (docs/BENCHMARKS.md, "Engine overhead"). OpenCV pads a
    truncated file with grey instead of failing, so only a file ending in its end-of-image marker
    goes this way; one OpenCV cannot decode falls back to Pillow, which names the problem.
    """
    import cv2

    if isinstance(opener, io.BytesIO):
        data: Any = opener.getbuffer()
    else:
        opener.seek(0)
        data = opener.read()
    if bytes(data[-2:]) != b"\xff\xd9":
        return None
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    if rgb is None or rgb.shape != (height, width, 3):
        return None
    return rgb


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
        if not np.isfinite(array).all():
            raise ImageError(name, "float image contains NaN or infinity")
        scaled = (
            _float_to_uint8(array, name)
            if array.max(initial=0.0) <= 1.0
            else np.clip(array, 0, 255).astype(np.uint8)
        )
        return np.repeat(scaled[..., None], 3, axis=2)
    # L, 1, P without transparency, CMYK, YCbCr, LAB, HSV: Pillow's conversion is exact.
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _refused_format(head: bytes) -> str | None:
    stripped = head.lstrip()
    for signature, label in _REFUSED_SIGNATURES:
        if head.startswith(signature) or stripped[:5].lower().startswith(signature.lower()):
            return label
    return None


def _reduction(width: int, height: int, fit: tuple[int, int] | None) -> int:
    """The largest integer factor by which the image may shrink and still cover ``fit``."""
    if fit is None:
        return 1
    scale = min(fit[0] / width, fit[1] / height)
    return max(1, int(1.0 / scale)) if scale < 1.0 else 1


def _decode(opener: Any, name: str, max_pixels: int, fit: tuple[int, int] | None) -> DecodedImage:
    try:
        with warnings.catch_warnings():
            # our own max_pixels check below replaces Pillow's warning; its hard error still applies
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(opener, formats=ALLOWED_FORMATS) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ImageError(name, f"declared size {width}x{height} is empty")
                if width * height > max_pixels:
                    raise ImageError(
                        name,
                        f"declared size {width}x{height} ({width * height:,} pixels) exceeds the limit of "
                        f"{max_pixels:,} pixels (a decompression bomb, or raise `max_pixels`)",
                    )
                factor = _reduction(width, height, fit)
                if factor == 1 and image.format == "JPEG" and image.mode == "RGB" and _is_upright(image):
                    fast = _jpeg_by_opencv(opener, width, height)
                    if fast is not None:
                        return DecodedImage(fast, (width, height))
                if factor > 1 and image.format == "JPEG":
                    # DCT-domain downscaling: the full-size frame is never allocated
                    image.draft("RGB", (-(-width // factor), -(-height // factor)))
                image.load()
                reduced = image.size != (width, height)
                frame: Image.Image = image
                if factor > 1 and not reduced:
                    frame = image.reduce(factor)  # box filter; the full frame is released below
                decoded = _pil_to_rgb(_upright(frame), name)
                transposed = decoded.shape[:2] != image.size[::-1]
                original = (height, width) if transposed else (width, height)
                return DecodedImage(decoded, original)
    except ImageError:
        raise
    except UnidentifiedImageError:
        head = _peek(opener)
        refused = _refused_format(head)
        if refused is not None:
            raise ImageError(
                name, f"{refused} files are not accepted (facebench decodes {', '.join(ALLOWED_FORMATS)})"
            ) from None
        raise ImageError(name, "not a recognised image format (corrupt file or wrong extension)") from None
    except Image.DecompressionBombError as error:
        raise ImageError(name, f"refused as a decompression bomb: {error}") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, struct.error) as error:
        reason = str(error) or type(error).__name__
        if "truncated" in reason.lower():
            reason = f"truncated or incomplete file ({reason})"
        raise ImageError(name, reason) from None


def _peek(opener: Any) -> bytes:
    try:
        opener.seek(0)
        return bytes(opener.read(16))
    except (OSError, ValueError):
        return b""


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """An RGB uint8 image and the size of the original it was decoded from.

    ``rgb`` may be smaller than ``original_size`` when decoding was allowed to reduce it
    (`decode_image`'s ``fit``); ``scale_x``/``scale_y`` map its pixels back to the original's.
    """

    rgb: np.ndarray
    original_size: tuple[int, int]  # (width, height)

    @property
    def scale_x(self) -> float:
        return self.original_size[0] / self.rgb.shape[1]

    @property
    def scale_y(self) -> float:
        return self.original_size[1] / self.rgb.shape[0]

    @property
    def reduced(self) -> bool:
        return self.original_size != (self.rgb.shape[1], self.rgb.shape[0])


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
        ImageError: the source is missing, unreadable, corrupt, too large, of a format outside
            `ALLOWED_FORMATS`, or of an unsupported kind.

    Example:
        >>> rgb = load_image(np.zeros((4, 6), np.uint8))
        >>> rgb.shape, rgb.dtype
        ((4, 6, 3), dtype('uint8'))
    """
    return decode_image(source, color=color, max_pixels=max_pixels).rgb


def decode_image(
    source: ImageInput,
    *,
    color: Literal["rgb", "bgr"] = "rgb",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fit: tuple[int, int] | None = None,
    name: str | None = None,
) -> DecodedImage:
    """Like `load_image`, optionally decoding an encoded image at reduced resolution.

    Args:
        fit: ``(width, height)`` the consumer will shrink the image into anyway (a detector's
            input size). The decoder may then reduce it by an integer factor while it still
            covers ``fit``: JPEGs by DCT scaling (``draft``), so a 100 MP photo never occupies
            100 MP of memory; other formats by a box filter right after decoding. Arrays and
            PIL images are never reduced.
        name: what errors call the source (default: derived from it; pass the file name when
            decoding bytes read from a file).
    """
    if color not in ("rgb", "bgr"):
        raise ValueError(f"Expected argument `color` to be one of 'rgb', 'bgr', but got {color!r}")
    name = name or describe_source(source)
    if isinstance(source, np.ndarray):
        rgb = _from_array(source, name, color)
        return DecodedImage(rgb, (rgb.shape[1], rgb.shape[0]))
    if isinstance(source, Image.Image):
        width, height = source.size
        if width * height > max_pixels:
            raise ImageError(name, f"size {width}x{height} exceeds the limit of {max_pixels:,} pixels")
        try:
            rgb = _pil_to_rgb(_upright(source), name)
        except (OSError, ValueError) as error:
            raise ImageError(name, str(error)) from None
        return DecodedImage(rgb, (rgb.shape[1], rgb.shape[0]))
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise ImageError(name, "empty input (0 bytes)")
        return _decode(io.BytesIO(bytes(source)), name, max_pixels, fit)
    if isinstance(source, str | os.PathLike):
        with _open_regular_file(source, name) as handle:
            return _decode(handle, name, max_pixels, fit)
    raise ImageError(name, "unsupported input type (use a path, bytes, a numpy array or a PIL image)")


#: largest image file `read_image_file` accepts (a 100 MP PNG is about 300 MB)
MAX_FILE_BYTES = 1 << 30


def read_image_file(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of an image file, opened with the same checks as `load_image` (regular file,
    not empty, no FIFO or device), so a caller can hash exactly the bytes it will decode.

    Raises:
        ImageError: the file is missing, not a regular file, empty, unreadable or over ``max_bytes``.
    """
    name = display_name(path)
    with _open_regular_file(path, name) as handle:
        # checked on the open descriptor before reading (a read sized by the limit would
        # allocate the limit for every small file)
        if os.fstat(handle.fileno()).st_size > max_bytes:
            raise ImageError(name, f"file larger than {max_bytes:,} bytes")
        try:
            data = handle.read()
        except OSError as error:
            raise ImageError(name, f"cannot read file: {error.strerror or error}") from None
    if len(data) > max_bytes:  # it grew while being read
        raise ImageError(name, f"file larger than {max_bytes:,} bytes")
    return data


def _open_regular_file(path: str | os.PathLike[str], name: str) -> io.BufferedReader:
    """Open ``path`` for reading only if it is a non-empty regular file, checked on the open descriptor.

    ``O_NONBLOCK`` keeps a FIFO from blocking the open; the type check on the descriptor (not on
    the name) leaves no window for the name to be swapped for something else in between.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ImageError(name, "no such file") from None
    except IsADirectoryError:
        raise ImageError(name, "is a directory, not an image file") from None
    except PermissionError:
        raise ImageError(name, "permission denied") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ImageError(name, "too many levels of symbolic links (a symlink loop)") from None
        raise ImageError(name, f"cannot open file: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageError(name, "is a directory, not an image file")
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket or device"
            raise ImageError(name, f"not a regular file ({kind})")
        if info.st_size == 0:
            raise ImageError(name, "empty file (0 bytes)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
