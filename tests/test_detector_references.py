"""Each ONNX detector's decoding against an independent reference on the crowd photo."""

import numpy as np
import pytest

from facebench.detectors import create
from facebench.image import load_image
from facebench.zoo import resolve
from reference_decoders import scrfd_reference, yolov5_reference, yolov8_reference


def _iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("scrfd_500m", scrfd_reference),
        ("scrfd_2.5g", scrfd_reference),
        ("yolov5n_face", yolov5_reference),
        ("yolov8lite_t_face", yolov8_reference),
    ],
)
def test_onnx_decoding_matches_the_reference(demo_crowd, name, reference):
    rgb = load_image(demo_crowd)
    ours = create(name, input_size="fixed=640x640").detect(rgb)
    theirs = reference(str(resolve(name)), rgb)
    assert len(theirs) >= 20 and len(ours) == len(theirs)
    height, width = rgb.shape[:2]
    for score, box, points in theirs:
        box = np.clip(box, 0, [width, height, width, height])  # facebench clips boxes to the image
        best = max(ours, key=lambda face: _iou(face.box, box))
        assert _iou(best.box, box) >= 0.9
        assert np.abs(best.landmarks - np.array(points)).max() <= 2.0
        assert abs(best.score - score) < 0.02


@pytest.mark.parametrize("name", ["scrfd_500m", "retinaface_mnet025", "mtcnn", "yolov5n_face"])
def test_detectors_agree_with_yunet_on_the_crowd(demo_crowd, name):
    """Different models, same faces: most boxes overlap a YuNet box, and typically their eyes coincide."""
    rgb = load_image(demo_crowd)
    anchors = create("yunet").detect(rgb)
    faces = create(name).detect(rgb)
    matched, offsets = 0, []
    for face in faces:
        best = max(anchors, key=lambda a: _iou(a.box, face.box))
        if _iou(best.box, face.box) >= 0.5:
            matched += 1
            eye_distance = np.linalg.norm(best.landmarks[1] - best.landmarks[0])
            if eye_distance >= 15:  # below that, a pixel of landmark noise is a large fraction
                offsets.append(
                    np.linalg.norm(face.landmarks[:2] - best.landmarks[:2], axis=1).max() / eye_distance
                )
    assert matched >= 0.8 * len(faces)
    # turned heads legitimately differ between models; a decoding bug would move every face
    assert offsets and float(np.median(offsets)) <= 0.25, sorted(offsets)


@pytest.mark.parametrize("name", ["blazeface_short", "blazeface_full"])
def test_blazeface_eyes_agree_with_yunet_on_lfw(lfw_sample, name):
    """BlazeFace sees the crowd photo at 128-192 px, too coarse for eyes; LFW faces fill its input."""
    yunet, blaze = create("yunet"), create(name)
    offsets = []
    for path in lfw_sample[:30]:
        theirs, ours = yunet.detect(path), blaze.detect(path)
        if theirs and ours:
            eye_distance = np.linalg.norm(theirs[0].landmarks[1] - theirs[0].landmarks[0])
            offsets.append(
                np.linalg.norm(ours[0].landmarks[:2] - theirs[0].landmarks[:2], axis=1).max() / eye_distance
            )
    assert len(offsets) >= 28 and float(np.median(offsets)) <= 0.15, sorted(offsets)
