"""Faces that fill the frame: a fixed letterbox never blows a tight crop up past what its
detector was trained on (issue 13), and the YOLO decoders' sigmoid never overflows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from facebench.detectors import create
from facebench.image import decode_image, load_image
from facebench.ops.activation import sigmoid

FIXED_INPUT = ("scrfd_500m", "scrfd_2.5g", "yolov5n_face", "yolov8lite_t_face", "blazeface_full")


def _central(rgb: np.ndarray, side: int) -> np.ndarray:
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    return np.ascontiguousarray(rgb[top : top + side, left : left + side])


@pytest.fixture(scope="module")
def tight_crops(lfw_sample):
    images = [load_image(path) for path in lfw_sample[:40]]
    return {side: [_central(rgb, side) for rgb in images] for side in (120, 160)}


@pytest.mark.parametrize("name", FIXED_INPUT)
def test_fixed_input_detectors_find_faces_that_fill_the_frame(name, tight_crops):
    detector = create(name, threads=1)
    for side, crops in tight_crops.items():
        found = sum(bool(detector.detect(crop)) for crop in crops) / len(crops)
        # before the fallback pass: scrfd 0 % (120 px) and 10 % (160 px), yolov5n 46 %
        assert found >= 0.97, (name, side, found)
        faces = detector.detect(crops[0])
        box = np.array(faces[0].box)
        assert box.min() >= 0 and box.max() <= side  # in the crop's own pixels
        assert (box[2] - box[0]) > 0.4 * side  # the face that fills it, not a speck


@pytest.mark.parametrize("name", ["scrfd_500m", "yolov5n_face"])
def test_an_image_whose_faces_are_found_costs_one_pass_and_keeps_its_results(name, lfw_sample, monkeypatch):
    detector = create(name, threads=1)
    decoded = decode_image(lfw_sample[0], fit=detector.decode_fit())
    assert detector._second_scale(*decoded.rgb.shape[:2]) is not None  # a 250-px image is enlarged 2.56×
    single = detector._finish(decoded, detector._detect_rgb(decoded.rgb))
    calls = []
    original = type(detector)._detect_rgb
    monkeypatch.setattr(
        type(detector), "_detect_rgb", lambda self, rgb: calls.append(rgb.shape) or original(self, rgb)
    )
    faces = detector.detect_faces(lfw_sample[0])
    assert len(calls) == 1  # the first pass found the face: no second pass
    np.testing.assert_array_equal(faces.boxes, single.boxes)
    np.testing.assert_array_equal(faces.scores, single.scores)


def test_large_images_never_get_a_second_pass():
    detector = create("scrfd_500m", threads=1)
    assert detector._second_scale(768, 1024) is None  # WIDER's images: shrunk, not enlarged
    assert detector._second_scale(640, 640) is None
    assert detector._second_scale(120, 120) == 1.0  # a tight crop is seen at its own size
    assert create("yunet").config.get("largest_face") is None  # a free input size needs no pass
    assert create("scrfd_500m").config["largest_face"] == 1.0  # recorded: results of the old policy are stale


def test_sigmoid_never_overflows_and_matches_the_logistic_function():
    values = np.array([-1000.0, -89.0, -5.0, 0.0, 5.0, 89.0, 1000.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # `1 / (1 + np.exp(-x))` warns "overflow encountered in exp"
        result = sigmoid(values)
    assert result.dtype == np.float32
    middle = np.array([-5.0, 0.0, 5.0])
    np.testing.assert_allclose(sigmoid(middle), 1 / (1 + np.exp(-middle)), rtol=1e-12)
    assert result[0] == 0.0 and result[-1] == 1.0 and np.all(np.diff(result) >= 0)
