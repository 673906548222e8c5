import json

from typer.testing import CliRunner

from facebench.cli import app
from facebench.zoo import list_cards

runner = CliRunner()


def test_detect_json_and_save(demo_crowd, tmp_path):
    result = runner.invoke(app, ["detect", str(demo_crowd), "--detector", "yunet", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["faces"]) >= 20 and payload["config"]["input_size"]
    assert set(payload["faces"][0]["landmarks"]) == {
        "right_eye",
        "left_eye",
        "nose_tip",
        "right_mouth_corner",
        "left_mouth_corner",
    }
    out = tmp_path / "drawn.jpg"
    result = runner.invoke(app, ["detect", str(demo_crowd), "--save", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 10_000


def test_detect_counts_bad_images_and_keeps_going(demo_crowd, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    result = runner.invoke(app, ["detect", str(bad), str(demo_crowd), "--json"])
    assert result.exit_code == 1
    assert "1 of 2 image(s) could not be read" in result.stderr
    assert len(json.loads(result.stdout)) == 1


def test_models_list_json_lists_every_card_with_hash_and_licence():
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {card.name for card in list_cards()}
    for card in list_cards():
        row = rows[card.name]
        assert row["license"] and all(len(f["sha256"]) == 64 for f in row["files"])
        if card.tested_offline:
            assert row["present"], card.name


def test_models_verify_passes_here_and_fails_on_a_tampered_copy(tmp_path, shared_home, monkeypatch):
    assert runner.invoke(app, ["models", "verify"]).exit_code == 0
    home = tmp_path / "home" / "models" / "yunet"
    home.mkdir(parents=True)
    data = bytearray((shared_home / "models" / "yunet" / "face_detection_yunet_2023mar.onnx").read_bytes())
    data[-1] ^= 1
    (home / "face_detection_yunet_2023mar.onnx").write_bytes(bytes(data))
    monkeypatch.setenv("FACEBENCH_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["models", "verify", "yunet"])
    assert result.exit_code == 1
    assert "sha256 mismatch" in result.stderr


def test_models_path(shared_home):
    result = runner.invoke(app, ["models", "path", "yunet"])
    assert result.exit_code == 0 and result.stdout.strip().endswith("face_detection_yunet_2023mar.onnx")
    result = runner.invoke(app, ["models", "path", "nosuchmodel"])
    assert result.exit_code == 1 and "no model named" in result.stderr


def test_docs_models_md_is_generated_from_the_cards():
    from pathlib import Path

    from facebench.zoo.docs import catalog_markdown

    committed = (Path(__file__).resolve().parents[1] / "docs" / "MODELS.md").read_text()
    assert committed == catalog_markdown(), "run `facebench models list --markdown > docs/MODELS.md`"


def test_detect_all_writes_a_comparison_sheet(demo_crowd, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(app, ["detect", str(demo_crowd), "--detector", "all", "--save", str(sheet)])
    assert result.exit_code == 0, result.output
    assert "yunet:" in result.stdout and "mtcnn:" in result.stdout
    import cv2

    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[0] > 600 and image.shape[1] > 1200


def test_detect_all_reports_a_failing_detector_instead_of_hiding_it(demo_crowd, monkeypatch):
    from facebench.detectors import detector_class, list_detectors

    def broken(self, image):
        raise ValueError("a bug in the decoder")

    monkeypatch.setattr(detector_class("haar"), "_detect_rgb", broken)
    result = runner.invoke(app, ["detect", str(demo_crowd), "--detector", "all", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert [entry["detector"] for entry in summary] == list_detectors()  # none dropped silently
    (failed,) = [entry for entry in summary if "error" in entry]
    assert failed == {"detector": "haar", "error": "ValueError: a bug in the decoder"}
