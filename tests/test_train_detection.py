"""RetinaFace training: WIDER annotations, anchor matching, the multibox loss, and fine-tuning the
pretrained MobileNet-0.25 on the WIDER images present, whose result must still find faces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from facebench.datasets.wider_labels import read_wider_annotations
from facebench.detectors.retinaface import MNET_CONFIG, decode, prior_boxes
from facebench.errors import FacebenchError
from facebench.train.common import read_log
from facebench.train.config import config_from_dict
from facebench.train.detection import (
    DetectionConfig,
    match_anchors,
    multibox_loss,
    train_detector,
)


def _image(folder: Path, name: str) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / name), np.zeros((50, 60, 3), np.uint8))


def test_retinaface_label_txt_with_and_without_landmarks(tmp_path):
    _image(tmp_path, "0--Parade/a.jpg")
    _image(tmp_path, "1--Handshaking/b.jpg")
    labels = tmp_path / "label.txt"
    labels.write_text(
        "# 0--Parade/a.jpg\n"
        "10 20 30 40 15 25 0.0 35 25 0.0 25 35 0.0 18 45 0.0 32 45 0.0 0.9\n"
        "5 5 8 8 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n"
        "# 1--Handshaking/b.jpg\n"
        "1 2 3 4\n"
        "0 0 0 5\n"
    )
    first, second = read_wider_annotations(labels, tmp_path)
    np.testing.assert_allclose(first.boxes_xyxy, [[10, 20, 40, 60], [5, 5, 13, 13]])
    assert first.has_landmarks.tolist() == [True, False]
    np.testing.assert_allclose(first.landmarks[0], [[15, 25], [35, 25], [25, 35], [18, 45], [32, 45]])
    assert len(second.boxes_xyxy) == 1 and not second.has_landmarks.any()  # the 0-wide box is dropped


def test_official_bbx_gt_format_drops_invalid_faces_and_reports_missing_images(tmp_path):
    _image(tmp_path, "e/a.jpg")
    labels = tmp_path / "gt.txt"
    labels.write_text(
        "e/a.jpg\n2\n1 1 10 10 0 0 0 0 0 0\n5 5 10 10 0 0 0 1 0 0\ne/missing.jpg\n0\n0 0 0 0 0 0 0 0 0 0\ne/gone.jpg\n1\n1 1 4 4 0 0 0 0 0 0\n"
    )
    with pytest.raises(FacebenchError, match=r"1 of 2 images annotated .* missing .*skip_missing"):
        read_wider_annotations(labels, tmp_path)
    (sample,) = read_wider_annotations(labels, tmp_path, skip_missing=True)
    np.testing.assert_allclose(sample.boxes_xyxy, [[1, 1, 11, 11]])
    labels.write_text("e/a.jpg\ntwo\n")
    with pytest.raises(FacebenchError, match=r"gt\.txt:2: expected the face count"):
        read_wider_annotations(labels, tmp_path)


def test_matched_targets_decode_back_to_the_faces():
    priors = prior_boxes(320, 320, MNET_CONFIG)
    boxes = np.array([[0.1, 0.1, 0.3, 0.35], [0.5, 0.55, 0.56, 0.6]], np.float32)
    points = np.stack(
        [(b[:2] + b[2:]) / 2 + np.linspace(-0.02, 0.02, 10).reshape(5, 2) for b in boxes]
    ).astype(np.float32)
    loc, labels, marks, mask = match_anchors(
        boxes, points, np.array([True, False]), priors, MNET_CONFIG.variance
    )
    assert labels.sum() >= 2
    decoded_boxes, decoded_points = decode(loc, marks, priors, MNET_CONFIG.variance)
    corners = np.concatenate([priors[:, :2] - priors[:, 2:] / 2, priors[:, :2] + priors[:, 2:] / 2], axis=1)
    for face, box in enumerate(boxes):
        own = np.flatnonzero(labels > 0)
        hits = own[np.abs(decoded_boxes[own] - box).max(axis=1) < 1e-5]
        assert len(hits) >= 1, f"face {face} has no positive anchor"
        if face == 0:
            np.testing.assert_allclose(
                decoded_points[hits], np.broadcast_to(points[0], (len(hits), 5, 2)), atol=1e-5
            )
            assert mask[hits].all()
        else:
            assert not mask[hits].any()  # no landmarks: no landmark target
    assert (labels[np.abs(corners).sum(axis=1) < 0] == 0).all()


def test_multibox_loss_is_near_zero_for_perfect_outputs_and_mines_three_negatives_per_positive():
    priors = prior_boxes(128, 128, MNET_CONFIG)
    boxes = np.array([[0.2, 0.2, 0.5, 0.55]], np.float32)
    points = np.full((1, 5, 2), 0.35, np.float32)
    targets = tuple(
        torch.from_numpy(t[None])
        for t in match_anchors(boxes, points, np.array([True]), priors, MNET_CONFIG.variance)
    )
    loc, labels, marks, _ = targets
    perfect_conf = torch.stack([(1 - labels) * 20.0 - 10, labels * 20.0 - 10], dim=-1).float()
    loss, parts = multibox_loss(loc.clone(), perfect_conf, marks.clone(), targets)
    assert loss.item() < 1e-3 and parts["landmarks"] < 1e-6
    wrong = torch.zeros_like(perfect_conf)
    _, parts = multibox_loss(loc.clone(), wrong, marks.clone(), targets)
    positives = int(labels.sum())
    # every positive and 3× as many negatives cost log 2 each, averaged over positives
    assert parts["conf"] == pytest.approx(4 * positives * np.log(2) / positives, rel=1e-4)


def _finetune_config(out: Path, shared_home: Path, **changes) -> DetectionConfig:
    data = {
        "output": str(out),
        "backbone": "mobilenet0.25",
        "init": "retinaface_mnet025",
        "image_size": 640,
        "freeze_batchnorm": True,
        "device": "cpu",
        "log_every": 1,
        "checkpoint_every": 1,
        "tensorboard": False,
        "data": {
            "labels": str(shared_home / "data/widerface/wider_face_split/wider_face_val_bbx_gt.txt"),
            "images": str(shared_home / "data/widerface/WIDER_val/images"),
            "skip_missing": True,
            "workers": 0,
        },
        "optim": {
            "optimizer": "sgd",
            "lr": 1e-4,
            "batch_size": 2,
            "steps": 2,
            "schedule": "constant",
            "clip_grad_norm": None,
        },
        **changes,
    }
    return config_from_dict(DetectionConfig, data)


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory, shared_home):
    out = tmp_path_factory.mktemp("finetune")
    summary = train_detector(_finetune_config(out, shared_home))
    return out, summary


def test_finetuned_retinaface_still_finds_the_faces(finetuned, demo_crowd, tmp_path):
    from facebench.detectors import create

    out, summary = finetuned
    assert summary["finished"] and summary["step"] == 2
    data = next(r for r in read_log(out) if r["kind"] == "data")
    assert data["images"] == 137 and data["faces"] > 500
    detector = create(f"ckpt:{out / 'last.pt'}")
    found = len(detector.detect(demo_crowd))
    assert found >= 24, found  # the pretrained model finds 27 here
    result = subprocess.run(
        [sys.executable, "-m", "facebench.cli", "eval-detection", "--detector", f"ckpt:{out / 'last.pt'}", "--out", str(tmp_path / "eval")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    ap = json.loads((tmp_path / "eval" / "ap.json").read_text())
    assert ap["easy"] > 0.8, ap  # trained on these very images: a working-detector check, not a score


def test_detector_training_resumes_exactly(finetuned, shared_home, tmp_path):
    reference, _ = finetuned
    config = _finetune_config(tmp_path, shared_home)
    train_detector(config, stop_at=1)
    train_detector(config)
    theirs = {r["step"]: r["last_loss"] for r in read_log(reference, "train")}
    ours = {r["step"]: r["last_loss"] for r in read_log(tmp_path, "train")}
    assert ours == theirs and sorted(ours) == [1, 2]


def test_resnet50_retinaface_trains_from_scratch(shared_home, tmp_path):
    config = _finetune_config(
        tmp_path, shared_home, backbone="resnet50", init="none", image_size=256, freeze_batchnorm=False
    )
    config.optim.batch_size = 1
    config.optim.steps = 1
    summary = train_detector(config)
    assert summary["finished"]
    loss = read_log(tmp_path, "train")[0]["loss"]
    assert np.isfinite(loss) and loss > 0
    payload = torch.load(tmp_path / "last.pt", weights_only=True)
    assert payload["config"]["backbone"] == "resnet50" and payload["config"]["out_channels"] == 256
