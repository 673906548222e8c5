"""The bad-image corpus: every case ends in ImageError or a correct RGB uint8 image."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facebench import ImageError, load_image
from hostile_corpus import png_with_declared_size

pytestmark = pytest.mark.core  # runs on the core install alone


def _save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


@pytest.fixture
def gradient() -> np.ndarray:
    y, x = np.mgrid[0:40, 0:60]
    return np.stack([x * 4, y * 6, (x + y) * 2], axis=2).astype(np.uint8)


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("empty.jpg", b"", "empty file"),
        (
            "random.jpg",
            bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
            "not a recognised image",
        ),
        ("text.png", b"this is not a png at all", "not a recognised image"),
    ],
)
def test_unreadable_files_raise_image_error_naming_the_file(tmp_path, name, payload, reason):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(ImageError, match=reason) as caught:
        load_image(path)
    assert str(path) in str(caught.value)


def test_truncated_jpeg(tmp_path, gradient):
    full = io.BytesIO()
    Image.fromarray(gradient).save(full, format="JPEG", quality=95)
    path = tmp_path / "truncated.jpg"
    path.write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    with pytest.raises(ImageError, match="truncated"):
        load_image(path)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


def test_huge_declared_size_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_declared_size(100_000, 100_000))
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image(path)
    with pytest.raises(ImageError, match="exceeds the limit of 120,000,000 pixels"):
        load_image(png_with_declared_size(12_000, 12_000))
    with pytest.raises(ImageError, match="exceeds the limit of 1,000 pixels"):
        load_image(png_with_declared_size(100, 100), max_pixels=1000)


def test_one_by_one(tmp_path):
    path = _save(Image.new("RGB", (1, 1), (10, 20, 30)), tmp_path / "one.png")
    out = load_image(path)
    assert out.shape == (1, 1, 3) and out.tolist() == [[[10, 20, 30]]]


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "deep.png")
    out = load_image(path)
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)
    assert out[0, :, 0].tolist() == [0, 128, 255]


def test_cmyk_jpeg(tmp_path):
    path = _save(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", quality=100)
    out = load_image(path)
    assert out.shape == (8, 8, 3)
    red, green, blue = out[4, 4].astype(int)
    assert red > 200 and green < 60 and blue < 60  # pure red in CMYK


def test_rgba_png_blends_over_white(tmp_path):
    pixels = np.zeros((2, 2, 4), np.uint8)
    pixels[0, 0] = (255, 0, 0, 255)  # opaque red
    pixels[1, 1] = (0, 0, 255, 0)  # fully transparent blue must not show
    out = load_image(_save(Image.fromarray(pixels, "RGBA"), tmp_path / "alpha.png"))
    assert out[0, 0].tolist() == [255, 0, 0]
    assert out[1, 1].tolist() == [255, 255, 255]


def test_grayscale_and_palette(tmp_path, gradient):
    gray = load_image(_save(Image.fromarray(gradient[..., 0]), tmp_path / "gray.png"))
    assert gray.shape == (40, 60, 3) and (gray[..., 0] == gradient[..., 0]).all()
    palette = Image.fromarray(gradient).convert("P", palette=Image.Palette.ADAPTIVE)
    out = load_image(_save(palette, tmp_path / "palette.png"))
    assert out.shape == (40, 60, 3)
    bilevel = load_image(_save(Image.new("1", (5, 5), 1), tmp_path / "bw.png"))
    assert bilevel.min() == 255


def test_exif_orientation_is_applied(tmp_path):
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, :10] = (255, 0, 0)  # red block on the left
    image = Image.fromarray(wide)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = _save(image, tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=100)
    out = load_image(path)
    assert out.shape == (30, 10, 3)
    assert out[2, 5, 0] > 200 and out[-3, 5, 0] < 60  # the red block is now on top


@pytest.mark.parametrize("orientation", [None, 1, 2, 3, 4, 5, 6, 7, 8, 9])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_every_exif_orientation_decodes_as_pillows_exif_transpose(tmp_path, gradient, orientation, fmt):
    from PIL import ImageOps

    image = Image.fromarray(gradient)
    exif = image.getexif()
    if orientation is not None:
        exif[0x0112] = orientation  # 9 is out of range: Pillow leaves the image as it is
    path = _save(image, tmp_path / f"o.{fmt.lower()}", format=fmt, exif=exif.tobytes())
    with Image.open(path) as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference.convert("RGB")))
    assert expected.shape[:2] == ((60, 40) if orientation in (5, 6, 7, 8) else (40, 60))
    assert np.array_equal(load_image(path), expected)
    assert np.array_equal(load_image(path.read_bytes()), expected)
    with Image.open(path) as opened:
        assert np.array_equal(load_image(opened), expected)


def test_bytes_arrays_and_pil_inputs(tmp_path, gradient):
    encoded = io.BytesIO()
    Image.fromarray(gradient).save(encoded, format="PNG")
    assert (load_image(encoded.getvalue()) == gradient).all()
    assert (load_image(Image.fromarray(gradient)) == gradient).all()
    assert (load_image(gradient[..., ::-1], color="bgr") == gradient).all()
    assert load_image(gradient.astype(np.float32) / 255.0).shape == (40, 60, 3)
    assert load_image(gradient.astype(np.uint16) * 257).tolist() == gradient.tolist()
    with pytest.raises(ImageError, match=r"\[0, 1\]"):
        load_image(gradient.astype(np.float32))
    with pytest.raises(ImageError, match="no pixels"):
        load_image(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ImageError, match="unsupported input type"):
        load_image(12345)  # type: ignore[arg-type]
    with pytest.raises(ImageError, match="empty input"):
        load_image(b"")


def _pillow_only(monkeypatch) -> None:
    import facebench.image

    monkeypatch.setattr(facebench.image, "_jpeg_by_opencv", lambda *args: None)


def _decoded_both_ways(source, monkeypatch) -> tuple[np.ndarray, np.ndarray, int]:
    """(fast path, Pillow alone, how many images the fast path decoded)."""
    import facebench.image

    taken = []
    original = facebench.image._jpeg_by_opencv

    def spy(*args):
        result = original(*args)
        taken.append(result is not None)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(facebench.image, "_jpeg_by_opencv", spy)
        fast = load_image(source)
    with monkeypatch.context() as patch:
        _pillow_only(patch)
        reference = load_image(source)
    return fast, reference, sum(taken)


@pytest.mark.parametrize(
    ("size", "params"),
    [
        ((60, 40), {"quality": 95}),
        ((61, 37), {"quality": 75, "subsampling": 0}),  # 4:4:4
        ((61, 37), {"quality": 75, "subsampling": 1}),  # 4:2:2
        ((333, 251), {"quality": 90, "subsampling": 2}),  # 4:2:0, odd sizes
        ((333, 251), {"quality": 80, "progressive": True}),
        ((333, 251), {"quality": 80, "optimize": True}),
        ((333, 251), {"quality": 80, "restart_marker_blocks": 4}),
        ((200, 120), {"quality": 90, "keep_rgb": True}),  # stored as RGB, no YCbCr transform
        ((1, 1), {"quality": 50}),
    ],
)
def test_opencv_decodes_a_jpeg_to_exactly_pillows_pixels(tmp_path, monkeypatch, size, params):
    noise = np.random.default_rng(sum(size)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path = _save(Image.fromarray(noise), tmp_path / "noise.jpg", **params)
    for source in (path, path.read_bytes()):
        fast, reference, taken = _decoded_both_ways(source, monkeypatch)
        assert taken == 1  # the fast path decoded it
        assert fast.dtype == np.uint8 and fast.flags.c_contiguous
        assert np.array_equal(fast, reference)


def test_opencv_decodes_real_photos_to_exactly_pillows_pixels(shared_home, lfw_sample, monkeypatch):
    """LFW, WIDER FACE and the demo photos: every one of these JPEGs takes the fast path, and each
    gives Pillow's pixels to the last bit."""
    data = shared_home / "data"
    photos = sorted({*data.joinpath("widerface").rglob("*.jpg"), *data.joinpath("demo").rglob("*.jpg")})
    assert len(photos) >= 100
    for path in [*lfw_sample, *photos]:
        fast, reference, taken = _decoded_both_ways(path, monkeypatch)
        assert taken == 1, path
        assert np.array_equal(fast, reference), path


def test_jpegs_the_fast_path_leaves_to_pillow(tmp_path, gradient, monkeypatch):
    """Grey, CMYK, rotated and truncated JPEGs, and one with bytes after its end marker, decode
    through Pillow (with the errors Pillow names)."""
    cases = {
        "grey.jpg": (Image.fromarray(gradient).convert("L"), {}),
        "cmyk.jpg": (Image.fromarray(gradient).convert("CMYK"), {}),
    }
    rotated = Image.fromarray(gradient)
    exif = rotated.getexif()
    exif[0x0112] = 6
    cases["rotated.jpg"] = (rotated, {"exif": exif.tobytes()})
    for name, (image, params) in cases.items():
        fast, reference, taken = _decoded_both_ways(_save(image, tmp_path / name, **params), monkeypatch)
        assert taken == 0 and np.array_equal(fast, reference), name
    encoded = io.BytesIO()
    Image.fromarray(gradient).save(encoded, format="JPEG")
    trailing = tmp_path / "trailing.jpg"
    trailing.write_bytes(encoded.getvalue() + b"\0" * 7)
    fast, reference, taken = _decoded_both_ways(trailing, monkeypatch)
    assert taken == 0 and np.array_equal(fast, reference)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(encoded.getvalue()[:-40] + b"\xff\xd9")  # truncated, yet ending in the marker
    with monkeypatch.context() as patch:
        _pillow_only(patch)
        try:
            expected: np.ndarray | None = load_image(cut)
        except ImageError:
            expected = None
    if expected is None:
        with pytest.raises(ImageError):
            load_image(cut)
    else:
        assert np.array_equal(load_image(cut), expected)
