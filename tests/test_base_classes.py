"""The Detector and Recognizer base classes, exercised by synthetic models built here: no real
weights, so every behaviour the base classes promise is checked on inputs chosen to expose it."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from facebench.detectors import Detector
from facebench.image import decode_image
from facebench.recognizers import create as create_recognizer
from facebench.types import Faces
from facebench.zoo.cards import ColorOrder, DetectorDefaults, Preprocess, Task, WeightCard
from facebench.zoo.registry import register_card, unregister_card
from synthetic_models import tiny_onnx_recognizer

pytestmark = pytest.mark.core  # runs on the core install alone

SCRIPTED_CARD = WeightCard(
    name="scripted_test_detector",
    task=Task.DETECTOR,
    directory="none",
    files=(),
    license="test",
    source="tests/test_base_classes.py",
    preprocess=Preprocess(color=ColorOrder.RGB),
    detector_defaults=DetectorDefaults(score_threshold=0.5, nms_iou=0.4, input_size="original"),
)


class Scripted(Detector):
    """Returns fixed candidates (in the coordinates of the image it is given) and counts its calls."""

    name: ClassVar[str] = "scripted_test_detector"
    card_name: ClassVar[str] = "scripted_test_detector"
    max_batch: ClassVar[int] = 4

    def __init__(self, boxes, scores, **options) -> None:
        super().__init__(**options)
        self.boxes, self.scores = np.asarray(boxes, np.float32), np.asarray(scores, np.float32)
        self.batches: list[int] = []

    def _detect_rgb(self, image: np.ndarray) -> Faces:
        self.batches.append(1)
        landmarks = np.repeat(self.boxes[:, None, :2], 5, axis=1) + 1.0
        return Faces(self.boxes, self.scores, landmarks, self.name)

    def _detect_rgb_batch(self, images: list[np.ndarray]) -> list[Faces]:
        self.batches.append(len(images))
        results = [self._detect_rgb(image) for image in images]
        self.batches[-len(images) :] = []  # one forward pass for the whole group
        return results


@pytest.fixture(autouse=True)
def scripted_card():
    register_card(SCRIPTED_CARD)
    yield
    unregister_card(SCRIPTED_CARD.name)


def test_shared_options_threshold_clip_sort_cap_and_minimum_size():
    image = np.zeros((100, 200, 3), np.uint8)
    boxes = [[10, 10, 40, 40], [-20, 50, 30, 120], [100, 10, 104, 14], [150, 20, 190, 60], [0, 0, 50, 50]]
    scores = [0.6, 0.9, 0.95, 0.4, 0.7]
    detector = Scripted(boxes, scores, max_faces=2, min_face_size=10)
    faces = detector.detect_faces(image)
    # 0.4 is under the card's threshold, the 4-px face under min_face_size; best first; two kept
    assert faces.scores.tolist() == pytest.approx([0.9, 0.7])
    np.testing.assert_array_equal(faces.boxes[0], [0, 50, 30, 100])  # clipped to the image
    assert Scripted(boxes, scores, score_threshold=0.3).detect_faces(image).scores.size == 5
    assert detector.config["score_threshold"] == 0.5 and detector.config["max_faces"] == 2


def test_same_size_images_share_a_forward_pass_up_to_batch_size():
    detector = Scripted([[1, 1, 20, 20]], [0.9], batch_size=3)
    small, large = (decode_image(np.zeros((h, 50, 3), np.uint8)) for h in (40, 60))
    results = detector.detect_decoded([small, small, small, small, large, small])
    assert detector.batches == [3, 1, 1, 1]  # 3 same-size, then the 4th alone, then each change of size
    assert len(results) == 6 and all(len(faces) == 1 for faces in results)
    assert Scripted([[1, 1, 20, 20]], [0.9], batch_size=64).batch_size == 4  # capped at max_batch


def test_a_reduced_decode_reports_original_coordinates(tmp_path):
    import cv2

    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), np.full((1600, 2400, 3), 128, np.uint8))
    detector = Scripted([[100, 100, 300, 300]], [0.9], input_size="max_side=600")
    decoded = decode_image(path, fit=detector.decode_fit())
    assert decoded.reduced and decoded.rgb.shape[1] < 2400
    faces = detector.detect_faces(path)
    np.testing.assert_allclose(faces.boxes[0], np.array([100, 100, 300, 300]) * decoded.scale_x, rtol=1e-5)


def test_recognizer_batches_flips_normalises_and_checks_its_input(tmp_path):
    model = tiny_onnx_recognizer(tmp_path / "tiny.onnx", dim=32)
    crops = np.random.default_rng(0).integers(0, 256, (5, 112, 112, 3), dtype=np.uint8)
    one_batch = create_recognizer(f"onnx:{model}", batch_size=5).embed_aligned(crops)
    in_pairs = create_recognizer(f"onnx:{model}", batch_size=2).embed_aligned(crops)
    np.testing.assert_allclose(one_batch, in_pairs, atol=1e-6)  # a face never depends on its batch
    np.testing.assert_allclose(np.linalg.norm(one_batch, axis=1), 1.0, rtol=1e-6)

    raw = create_recognizer(f"onnx:{model}", normalize=False).embed_aligned(crops)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), one_batch, atol=1e-6)
    mirrored = create_recognizer(f"onnx:{model}", normalize=False).embed_aligned(crops[:, :, ::-1])
    flipped = create_recognizer(f"onnx:{model}", flip=True, normalize=False).embed_aligned(crops)
    np.testing.assert_allclose(flipped, raw + mirrored, rtol=1e-5, atol=1e-4)  # flip TTA adds the mirror

    degraded = create_recognizer(f"onnx:{model}", degrade="lowres:4").embed_aligned(crops)
    assert not np.allclose(degraded, one_batch, atol=1e-3)
    assert create_recognizer(f"onnx:{model}").embed_aligned(crops[:0]).shape == (0, 32)
    with pytest.raises(ValueError, match=r"expects aligned crops of shape"):
        create_recognizer(f"onnx:{model}").embed_aligned(np.zeros((2, 96, 112, 3), np.uint8))
