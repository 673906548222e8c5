"""Degradation pipelines (`--degrade`) and restorers (`--restore`): parsing, hand-checked pixels,
super-resolution models that beat bicubic on real pixels, and the grid axes they add."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facebench.image import load_image
from facebench.ops.degrade import parse_degrade
from facebench.recognizers import create as create_recognizer
from facebench.restore import create_restorer, list_restorers
from synthetic_models import tiny_onnx_recognizer

SUPER_RESOLUTION = {
    2: ("fsrcnn_x2", "espcn_x2", "lapsrn_x2"),
    3: ("fsrcnn_x3", "espcn_x3"),
    4: ("fsrcnn_x4", "espcn_x4", "lapsrn_x4"),
    8: ("lapsrn_x8",),
}


# -- degradation pipelines ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "canonical", "factor"),
    [
        ("lowres:4", "lowres:4:bicubic", 4.0),
        ("lowres:2:area", "lowres:2:area", 2.0),
        ("lowres:2, jpeg:50", "lowres:2:bicubic,jpeg:50", 2.0),
        ("blur:1.5,noise:8", "blur:1.5,noise:8", 1.0),
        ("lowres:2,lowres:4:area", "lowres:2:bicubic,lowres:4:area", 8.0),
    ],
)
def test_a_degradation_is_spelled_canonically(spec, canonical, factor):
    degradation = parse_degrade(spec)
    assert degradation.spec == canonical and degradation.factor == factor
    assert parse_degrade(canonical).spec == canonical  # stable: a cache key never changes with spelling


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lowres:1", "greater than 1"),
        ("lowres:x", "needs a number"),
        ("lowres:4:nearest", "not 'nearest'"),
        ("jpeg:0", "at least 1 and at most 100"),
        ("jpeg:101", "at least 1 and at most 100"),
        ("jpeg:50:area", "only lowres takes a method"),
        ("blur:0", "greater than 0"),
        ("noise:-1", "at least 0"),
        ("sharpen:2", "unknown step 'sharpen'"),
        ("lowres:inf", "greater than 1"),
    ],
)
def test_a_bad_degradation_is_refused_with_the_reason(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_degrade(spec)


def test_none_means_no_degradation():
    assert parse_degrade(None) is None and parse_degrade("none") is None and parse_degrade("") is None


def test_lowres_area_averages_blocks_and_sizes_round():
    image = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3) * 5
    small = parse_degrade("lowres:2:area").shrink(image)
    by_hand = image.reshape(2, 2, 2, 2, 3).astype(float).mean(axis=(1, 3))  # each 2×2 block's mean
    np.testing.assert_array_equal(small, np.floor(by_hand + 0.5).astype(np.uint8))  # halves round up
    crop = np.zeros((112, 96, 3), np.uint8)
    assert parse_degrade("lowres:3").shrink(crop).shape == (37, 32, 3)  # round(112/3), round(96/3)
    assert parse_degrade("lowres:8").shrink(crop).shape == (14, 12, 3)


def test_jpeg_blur_and_noise_change_pixels_as_stated():
    rng = np.random.default_rng(0)
    crop = cv2.GaussianBlur(rng.integers(0, 256, (112, 112, 3), dtype=np.uint8), (0, 0), 2)
    jpeg = parse_degrade("jpeg:10").shrink(crop)
    _, encoded = cv2.imencode(".jpg", crop[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 10])
    np.testing.assert_array_equal(jpeg, cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])
    sharp = np.zeros((32, 32, 3), np.uint8)
    sharp[:, 16:] = 255
    blurred = parse_degrade("blur:2").shrink(sharp)
    assert blurred[16, 15, 0] > 0 and blurred[16, 16, 0] < 255 and blurred[16, 0, 0] == 0  # the edge spreads
    noisy = parse_degrade("noise:10").shrink(np.full((64, 64, 3), 128, np.uint8)).astype(float)
    assert abs(noisy.mean() - 128) < 0.5 and 9.0 < noisy.std() < 11.0


def test_noise_depends_on_the_crop_only_never_on_its_batch_mates():
    rng = np.random.default_rng(1)
    crops = rng.integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    degradation = parse_degrade("lowres:2,noise:8")
    together = degradation(crops)
    alone = degradation(crops[1:2])
    np.testing.assert_array_equal(together[1], alone[0])
    np.testing.assert_array_equal(degradation(crops), together)  # and never on the run
    assert together.shape == crops.shape  # without a restorer, scaled back to the input size


# -- restorers -----------------------------------------------------------------------------------
def test_every_super_resolution_file_of_the_store_is_a_restorer():
    assert set(list_restorers()) >= {"bicubic", "realesrgan_x4", *sum(SUPER_RESOLUTION.values(), ())}


def test_depth_to_space_follows_tensorflows_layout():
    from facebench.restore.opencv_sr import _DepthToSpace

    block, out_channels, height, width = 2, 3, 2, 3
    blob = np.random.default_rng(0).random((1, block * block * out_channels, height, width), np.float32)
    layer = _DepthToSpace({"block_size": block, "data_format": "NHWC"}, None)
    shuffled = layer.forward([blob])[0]
    assert layer.getMemoryShapes([list(blob.shape)]) == [list(shuffled.shape)]
    for h in range(height):  # TensorFlow: out[h·b+i, w·b+j, c] = in[h, w, (i·b+j)·C + c]
        for w in range(width):
            for i in range(block):
                for j in range(block):
                    for c in range(out_channels):
                        expected = blob[0, (i * block + j) * out_channels + c, h, w]
                        assert shuffled[0, c, h * block + i, w * block + j] == expected


def _luma_psnr(first: np.ndarray, second: np.ndarray) -> float:
    a, b = (cv2.cvtColor(x, cv2.COLOR_RGB2YCrCb)[..., 0].astype(float) for x in (first, second))
    return float(10 * np.log10(255**2 / ((a - b) ** 2).mean()))


@pytest.fixture(scope="module")
def sharp_photo(shared_home):
    """A 192×192 central crop of a full-resolution demo photo (LFW's own pixels are already soft)."""
    image = load_image(shared_home / "data" / "demo" / "dlib_examples_faces" / "2007_007763.jpg")
    height, width = image.shape[:2]
    return np.ascontiguousarray(image[height // 2 - 96 : height // 2 + 96, width // 2 - 96 : width // 2 + 96])


@pytest.mark.parametrize("scale", sorted(SUPER_RESOLUTION))
def test_super_resolution_beats_bicubic_on_real_pixels(sharp_photo, scale):
    side = 192 if scale != 3 else 189
    original = sharp_photo[:side, :side]
    small = cv2.resize(original, (side // scale, side // scale), interpolation=cv2.INTER_CUBIC)
    bicubic = _luma_psnr(create_restorer("bicubic").restore([small], (side, side))[0], original)
    for name in SUPER_RESOLUTION[scale]:
        restorer = create_restorer(name)
        restored = restorer.restore([small], (side, side))
        assert restored.shape == (1, side, side, 3) and restored.dtype == np.uint8
        # a wrong pixel shuffle or channel order costs far more than the models gain (≥ 0.3 dB)
        assert _luma_psnr(restored[0], original) > bicubic + 0.3, name


def test_real_esrgan_restores_at_four_times_and_each_face_alone(sharp_photo):
    restorer = create_restorer("realesrgan_x4")
    faces = [
        cv2.resize(sharp_photo[:112, :112], (28, 28), interpolation=cv2.INTER_CUBIC),
        sharp_photo[80:108, 80:108],
    ]
    both = restorer.restore(faces, (112, 112))
    assert both.shape == (2, 112, 112, 3)
    np.testing.assert_array_equal(both[1], restorer.restore(faces[1:], (112, 112))[0])
    assert _luma_psnr(both[0], sharp_photo[:112, :112]) > 17.0  # a restoration, not noise (bicubic: ~21)
    assert restorer.config["weights_sha256"] == [restorer.card.files[0].sha256]


def test_a_restorer_refuses_what_is_not_an_rgb_uint8_image():
    with pytest.raises(ValueError, match=r"uint8 RGB"):
        create_restorer("bicubic").restore([np.zeros((28, 28), np.uint8)], (112, 112))


# -- restorers in recognizers and in the grid ---------------------------------------------------
def test_a_recognizer_embeds_the_restored_crop_and_records_the_restorer(tmp_path):
    model = tiny_onnx_recognizer(tmp_path / "tiny.onnx", dim=16)
    crops = np.random.default_rng(2).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    restored = create_recognizer(f"onnx:{model}", degrade="lowres:4", restore="bicubic")
    small = [cv2.resize(c, (28, 28), interpolation=cv2.INTER_CUBIC) for c in crops]
    by_hand = np.stack([cv2.resize(s, (112, 112), interpolation=cv2.INTER_CUBIC) for s in small])
    np.testing.assert_allclose(
        restored.embed_aligned(crops), create_recognizer(f"onnx:{model}").embed_aligned(by_hand), atol=1e-6
    )
    plain = create_recognizer(f"onnx:{model}", degrade="lowres:4")
    assert restored.config["restore"]["restorer"] == "bicubic" and "restore" not in plain.config
    assert restored.config["degrade"] == "lowres:4:bicubic"
    with pytest.raises(ValueError, match="add a lowres step"):
        create_recognizer(f"onnx:{model}", degrade="jpeg:50", restore="bicubic")


def test_degradations_and_restorers_are_grid_axes(tmp_path):
    from facebench.bench.plan import ModelPool, plan_grid

    model = tiny_onnx_recognizer(tmp_path / "tiny.onnx", dim=16)
    plan = plan_grid(
        ("yunet",),
        (f"onnx:{model}",),
        ("similarity",),
        pool=ModelPool(),
        degrade=("lowres:4", "jpeg:30"),
        restore=("none", "fsrcnn_x4"),
    )
    names = sorted(p.pipeline.name.split("+", 3)[3] for p in plan.pipelines)
    assert names == ["jpeg:30", "lowres:4:bicubic", "lowres:4:bicubic+fsrcnn_x4"]
    assert [s.reason for s in plan.skipped] == ["fsrcnn_x4 restores a shrunk crop: jpeg:30 shrinks nothing"]
