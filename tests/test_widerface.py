import numpy as np
import pytest
from typer.testing import CliRunner

from facebench.cli import app
from facebench.datasets.widerface import load_widerface_val
from facebench.metrics.widerface import widerface_ap

TRUTH = [np.array([[10, 10, 50, 50], [100, 100, 40, 40], [300, 300, 8, 8]], float)]


def _det(*rows):
    return [np.array(rows, float).reshape(-1, 5)]


def test_perfect_detections_have_ap_one():
    keep = [np.array([0, 1, 2])]
    assert widerface_ap(
        _det([10, 10, 50, 50, 0.9], [100, 100, 40, 40, 0.8], [300, 300, 8, 8, 0.7]), TRUTH, keep
    ) == pytest.approx(1.0)


def test_a_detection_of_an_ignored_face_is_not_a_false_positive():
    keep = [np.array([0, 1])]  # the tiny face does not count at this difficulty
    with_ignored = _det([300, 300, 8, 8, 0.95], [10, 10, 50, 50, 0.9], [100, 100, 40, 40, 0.8])
    assert widerface_ap(with_ignored, TRUTH, keep) == pytest.approx(1.0)
    false_positive = _det([600, 600, 20, 20, 0.95], [10, 10, 50, 50, 0.9], [100, 100, 40, 40, 0.8])
    assert widerface_ap(false_positive, TRUTH, keep) < 0.9


def test_missed_faces_cap_recall():
    keep = [np.array([0, 1, 2])]
    # two of three found, both ranked first: precision 1 up to recall 2/3, nothing after
    assert widerface_ap(_det([10, 10, 50, 50, 0.9], [100, 100, 40, 40, 0.8]), TRUTH, keep) == pytest.approx(
        2 / 3, abs=1e-3
    )


def test_ground_truth_is_restricted_to_present_images(shared_home):
    data = load_widerface_val()
    assert len(data.images) == 137 and data.total_images == 3226 and data.total_faces == 39708
    assert "137 of 3226" in data.restriction and "Not comparable" in data.restriction
    assert {image.event for image in data.images} == {"4--Dancing", "19--Couple", "20--Family_Group"}
    hard = sum(len(image.kept["hard"]) for image in data.images)
    assert hard == 213 + 97 + 557  # DATA.md's per-event hard counts


def test_eval_detection_writes_submission_files_and_ap(tmp_path):
    result = CliRunner().invoke(app, ["eval-detection", "--detector", "yunet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    import json

    record = json.loads((tmp_path / "ap.json").read_text())
    assert (
        record["images_evaluated"] == 137 and 0.5 < record["easy"] <= 1.0 and record["hard"] < record["easy"]
    )
    files = list((tmp_path / "detections").rglob("*.txt"))
    assert len(files) == 137
    lines = files[0].read_text().splitlines()
    assert lines[0] == files[0].stem and int(lines[1]) == len(lines) - 2
