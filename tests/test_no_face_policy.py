"""`--on-no-face fail|center|fallback:DET,…`: what happens to an image without a detected face,
recorded per image and counted per pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facebench.bench.no_face import NoFacePolicy, RescuingDetector
from facebench.bench.records import DetectionRecord, FaceSource, Status
from facebench.cli import app
from facebench.errors import FacebenchError
from facebench.image import load_image
from facebench.types import Face


@pytest.mark.parametrize(
    ("text", "kind", "fallbacks"),
    [
        (None, "fail", ()),
        ("fail", "fail", ()),
        ("center", "center", ()),
        ("fallback:mtcnn", "fallback", ("mtcnn",)),
        ("fallback:mtcnn, yunet", "fallback", ("mtcnn", "yunet")),
    ],
)
def test_policies_parse(text, kind, fallbacks):
    policy = NoFacePolicy.parse(text)
    assert (policy.kind, policy.fallbacks) == (kind, fallbacks)
    assert NoFacePolicy.parse(policy.spec) == policy


@pytest.mark.parametrize("text", ["retry", "fallback:", "fallback", "centre"])
def test_a_bad_policy_is_refused(text):
    with pytest.raises(FacebenchError, match="fail, center or fallback"):
        NoFacePolicy.parse(text)


def test_the_center_crop_is_half_the_shorter_side_at_the_centre():
    rescuer = RescuingDetector(object(), NoFacePolicy("center"), [])
    face, source = rescuer.rescue(np.zeros((250, 300, 3), np.uint8))
    assert source == FaceSource.CENTER and face.landmarks is None
    np.testing.assert_allclose(face.box, [87.5, 62.5, 212.5, 187.5])  # 125-px square around (150, 125)


def test_a_detection_record_keeps_its_source_and_reads_older_rows():
    face = Face(box=np.array([1, 2, 3, 4], np.float32), score=0.9)
    record = DetectionRecord(Status.OK, face, 10, 20, FaceSource.FALLBACK + 1)
    decoded = DetectionRecord.decode(record.encode())
    assert (decoded.status, decoded.width, decoded.height, decoded.source) == (Status.OK, 10, 20, 4)
    np.testing.assert_array_equal(decoded.face.box, face.box)
    old = record.encode()[:-4]  # a row written before sources existed: 17 values
    old = old[:2] + (17).to_bytes(4, "little") + old[6:]
    assert DetectionRecord.decode(old).source == FaceSource.DETECTOR


def _paste(face: np.ndarray, side: int, canvas: int) -> np.ndarray:
    image = np.full((canvas, canvas, 3), 128, np.uint8)
    offset = (canvas - side) // 2
    image[offset : offset + side, offset : offset + side] = cv2.resize(
        face, (side, side), interpolation=cv2.INTER_AREA
    )
    return image


@pytest.fixture(scope="module")
def hard_pairs(lfw_root, tmp_path_factory):
    """A: a plain LFW face, B: grey (no face for any detector), C: a 48-px face in a 400-px frame
    (BlazeFace misses it, YuNet finds it), D: a 32-px face in 300 px (YuNet finds it only upscaled)."""
    from facebench.datasets import load_pairs_csv

    folder = tmp_path_factory.mktemp("hard")
    colin = sorted((lfw_root / "Colin_Powell").glob("*.jpg"))
    images = {
        "a.jpg": load_image(colin[0]),
        "b.png": np.full((250, 250, 3), 128, np.uint8),
        "c.png": _paste(load_image(colin[1]), 48, 400),
        "d.png": _paste(load_image(colin[2]), 32, 300),
    }
    for name, rgb in images.items():
        cv2.imwrite(str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    rows = [("a.jpg", "c.png", 1), ("a.jpg", "b.png", 0), ("a.jpg", "d.png", 1), ("b.png", "c.png", 0)]
    (folder / "pairs.csv").write_text(
        "path1,path2,label,fold\n" + "".join(f"{folder / x},{folder / y},{s},0\n" for x, y, s in rows)
    )
    return load_pairs_csv(folder / "pairs.csv"), folder


def _run(pairs, out, detector, policy):
    from facebench.bench.engine import run_benchmark

    result = run_benchmark(
        pairs, out, dataset="hard", detectors=(detector,), recognizers=("mobilefacenet_tflite",),
        measure_cost=False, show_progress=False, on_no_face=policy,
    )  # fmt: skip
    return result.runs[0]


def test_each_policy_rescues_what_it_says_and_counts_it(hard_pairs, tmp_path):
    pairs, _ = hard_pairs
    out = tmp_path / "one_store"  # every policy in one store: none may reuse another's detections
    fail = _run(pairs, out, "blazeface_short", "fail")
    assert fail.pipeline == "blazeface_short+similarity+mobilefacenet_tflite"
    assert fail.failures.no_face == 3 and fail.rescued_images == {} and fail.failed_pairs == 4
    assert fail.success_rate == 0.25

    center = _run(pairs, out, "blazeface_short", "center")
    assert center.pipeline == "blazeface_short~center+similarity+mobilefacenet_tflite"
    assert center.rescued_images == {"center": 3} and center.rescued_pairs == 4
    assert center.failures.no_face == 0 and center.failed_pairs == 0
    assert center.success_rate == 0.25  # the detector's own find rate, whatever the policy
    assert "central crop" in center.failure_policy and center.no_face_policy == "center"

    fallback = _run(pairs, out, "blazeface_short", "fallback:yunet")
    # YuNet finds C; D's face is too small for YuNet and for BlazeFace at ×2; B has none
    assert fallback.rescued_images == {"fallback:yunet": 1}
    assert fallback.rescued_pairs == 2 and fallback.failures.no_face == 2

    upscaled = _run(pairs, out, "yunet", "fallback:blazeface_short")
    assert upscaled.rescued_images == {"upscaled": 1} and upscaled.failures.no_face == 1  # D, then B
    again = _run(pairs, out, "yunet", "fallback:blazeface_short")  # from the store, source and all
    assert again.rescued_images == upscaled.rescued_images and again.accuracy_mean == upscaled.accuracy_mean


def test_the_cli_records_the_policy_and_reports_what_it_touched(hard_pairs, tmp_path):
    _, folder = hard_pairs
    out = tmp_path / "cli"
    arguments = ["benchmark", "--dataset", f"csv:{folder / 'pairs.csv'}", "--detectors", "blazeface_short"]
    arguments += ["--recognizers", "mobilefacenet_tflite", "--on-no-face", "center", "--out", str(out)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    readme = (out / "README.md").read_text()
    assert "--on-no-face center gave 3 image(s) a face (3 by center), touching 4 pair(s)" in readme
    bad = CliRunner().invoke(app, [*arguments[:-4], "--on-no-face", "fallback:nope", "--out", str(out)])
    assert bad.exit_code == 1 and "got 'nope'" in bad.output
