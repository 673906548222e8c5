"""Folder inference (`facebench detect PATH... --out DIR`) and face / head masks (`facebench.segment`)."""

import csv
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from facebench import load_image
from facebench.annotate import find_images
from facebench.cli import app
from facebench.detectors import create
from facebench.segment import FACE_OVAL, FaceSegmenter, head_box

runner = CliRunner()


@pytest.fixture
def folder(tmp_path, lfw_sample):
    """A tree of 6 LFW images, a sub-folder, a text file named .jpg, a symlink loop, an empty
    folder and a broken link."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    for index, path in enumerate(lfw_sample[:6]):
        shutil.copy(path, (root / "sub" if index % 2 else root) / path.name)
    (root / "notes.jpg").write_text("this is not an image")
    (root / "readme.txt").write_text("not matched by the default patterns")
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)
    (root / "empty").mkdir()
    (root / "gone.png").symlink_to(tmp_path / "missing.png")
    return root


def _errors(out):
    with (out / "errors.csv").open() as handle:
        return {row["image"]: row["reason"] for row in csv.DictReader(handle)}


def test_find_images_walks_recursively_and_names_every_problem(folder):
    found = find_images([folder])
    names = sorted(image.relative for image in found.images)
    assert len(names) == 7 and "notes.jpg" in names and not any(n.startswith("sub/up") for n in names)
    assert sum(name.startswith("sub/") for name in names) == 3
    reasons = dict(found.problems)
    assert "symbolic link loop" in reasons[str(folder / "sub" / "up")]
    assert "broken symbolic link" in reasons[str(folder / "gone.png")]
    empty = find_images([folder / "empty"])
    assert not empty.images and "no images in this folder" in dict(empty.problems)[str(folder / "empty")]
    only_png = find_images([folder], patterns=["*.png"])
    assert not only_png.images


def test_detect_out_writes_results_outputs_and_errors_and_resumes(folder, tmp_path):
    out = tmp_path / "out"
    arguments = ["detect", str(folder), "--out", str(out), "-d", "yunet"]
    extras = ["--save-images", "--crops", "arcface_112", "--masks", "--format", "wider"]
    result = runner.invoke(app, [*arguments, *extras])
    assert result.exit_code == 1, result.output  # the text file named .jpg, the loop, the broken link
    errors = _errors(out)
    assert "not a recognised image" in errors["notes.jpg"]
    assert any("symbolic link loop" in reason for reason in errors.values())
    records = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(len(r["faces"]) >= 1 for r in records)
    with (out / "detections.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(len(r["faces"]) for r in records)
    first = records[0]
    face = first["faces"][0]
    assert rows[0]["image"] == first["image"] and float(rows[0]["x1"]) == face["box"][0]
    assert float(rows[0]["nose_tip_x"]) == face["landmarks"]["nose_tip"][0]
    stem = first["image"].rsplit(".", 1)[0]
    for sub in ("masks", "head_masks", "faces", "heads", "crops"):
        assert (out / sub / f"{stem}_0.png").is_file(), sub
    assert load_image(out / "crops" / f"{stem}_0.png").shape == (112, 112, 3)
    assert (out / "images" / f"{stem}.png").is_file()
    wider = (out / "wider" / f"{stem}.txt").read_text().splitlines()
    assert wider[0] == stem.rsplit("/", 1)[-1] and int(wider[1]) == len(first["faces"])
    head = load_image(out / "heads" / f"{stem}_0.png")
    mask = load_image(out / "masks" / f"{stem}_0.png")
    assert head.shape == mask.shape and face["masks"]["face_region"] == "facemesh_oval"

    again = runner.invoke(app, [*arguments, *extras])
    assert "0 computed, 6 already done" in again.stderr, again.output
    fewer = runner.invoke(app, arguments)  # outputs already written cover what is asked
    assert "0 computed, 6 already done" in fewer.stderr
    changed = runner.invoke(app, [*arguments, "--score-threshold", "0.8"])  # another option
    assert "6 computed, 0 already done" in changed.stderr


def test_a_replaced_image_and_a_killed_run_are_computed_again(folder, tmp_path, lfw_sample):
    (folder / "notes.jpg").unlink()
    shutil.rmtree(folder / "sub")
    (folder / "gone.png").unlink()
    out = tmp_path / "out"
    arguments = ["detect", str(folder), "--out", str(out)]
    assert runner.invoke(app, arguments).exit_code == 0
    journal = out / "detections.jsonl"
    lines = journal.read_text().splitlines()
    reference = {json.loads(line)["image"]: json.loads(line) for line in lines}
    journal.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])  # killed mid-line
    victim = sorted(folder.glob("*.jpg"))[0]
    shutil.copy(lfw_sample[10], victim)  # same name, other bytes
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0 and "2 computed, 1 already done" in result.stderr, result.output
    records = {json.loads(line)["image"]: json.loads(line) for line in journal.read_text().splitlines()}
    assert records.keys() == reference.keys()
    assert records[victim.name]["sha256"] != reference[victim.name]["sha256"]
    killed = json.loads(lines[-1])["image"]
    assert records[killed]["faces"] == reference[killed]["faces"]


def test_detect_without_out_refuses_folders_and_file_options(folder):
    result = runner.invoke(app, ["detect", str(folder)])
    assert result.exit_code == 1 and "a folder is walked with --out DIR" in result.output
    result = runner.invoke(app, ["detect", str(folder / "sub"), "--masks"])
    assert result.exit_code != 0 and "give --out DIR" in result.output
    result = runner.invoke(app, ["detect", str(folder), "--out", "x", "--crops", "bogus"])
    assert result.exit_code != 0 and "arcface_112" in result.output


def test_detect_all_with_masks_draws_a_mask_sheet(demo_crowd, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(
        app, ["detect", str(demo_crowd), "-d", "all", "--masks", "--save", str(sheet), "--json"]
    )
    assert result.exit_code == 0, result.output
    entries = [e for e in json.loads(result.stdout) if "faces" in e]
    assert entries and all(len(e["masks"]) == len(e["faces"]) for e in entries if e["faces"])
    regions = {m["face_region"] for e in entries for m in e.get("masks", [])}
    assert regions == {"facemesh_oval", "ellipse_prior"}  # haar gives boxes only
    assert load_image(sheet).shape[0] > 500


def test_head_box_is_the_face_box_times_four_clipped():
    box = head_box(np.array([40.0, 40.0, 60.0, 70.0]), 1000, 1000)
    assert box.tolist() == [10, 0, 90, 115]  # y: 55 ± 60 → clipped at 0
    assert head_box(np.array([0.0, 0.0, 10.0, 10.0]), 12, 8).tolist() == [0, 0, 12, 8]


@pytest.fixture(scope="module")
def masked_lfw(lfw_sample):
    """YuNet faces of 200 LFW images and their masks (the central face of each)."""
    from facebench.bench.executor import central_face

    detector, segmenter = create("yunet"), FaceSegmenter()
    results = []
    for path in lfw_sample[:200]:
        rgb = load_image(path)
        face = central_face(detector.detect_faces(rgb), rgb.shape[1], rgb.shape[0])
        if face is not None:
            results.append((rgb, face, segmenter.segment(rgb, [face])[0]))
    assert len(results) >= 195
    return segmenter, results


def _frontal(face) -> bool:
    """Nose within 15 % of the eye distance of the eyes' midpoint, horizontally: a near-frontal face."""
    right_eye, left_eye, nose = face.landmarks[0], face.landmarks[1], face.landmarks[2]
    return abs(nose[0] - (right_eye[0] + left_eye[0]) / 2) < 0.15 * np.linalg.norm(left_eye - right_eye)


def test_face_masks_on_200_lfw_images_meet_the_quality_bars(masked_lfw):
    segmenter, results = masked_lfw
    coverages = []
    for rgb, face, masks in results:
        face_mask, head_mask = masks.face_mask > 0, masks.head_mask > 0
        assert face_mask.any() and not (face_mask & ~head_mask).any()  # inside the head mask
        mesh = segmenter.mesh.mesh(rgb, face.box, face.landmarks)[list(FACE_OVAL), :2]
        x1, y1 = np.floor(mesh.min(axis=0)).astype(int) - 1
        x2, y2 = np.ceil(mesh.max(axis=0)).astype(int) + 1
        ys, xs = np.nonzero(face_mask)
        assert xs.min() >= x1 and xs.max() <= x2 and ys.min() >= y1 and ys.max() <= y2  # in the oval's box
        hx1, hy1, hx2, hy2 = masks.head_box
        hair = np.zeros(face_mask.shape, bool)
        hair[hy1:hy2, hx1:hx2] = (
            segmenter.hair.probabilities(np.ascontiguousarray(rgb[hy1:hy2, hx1:hx2])) >= 0.5
        )
        assert not (face_mask & hair).any()  # hair never enters the face mask
        if _frontal(face):
            region, kind = segmenter.region(rgb, face)
            assert kind == "facemesh_oval"
            oval = region > 0
            coverages.append(np.count_nonzero(face_mask) / np.count_nonzero(oval))
            # of the oval that hair does not cover (fringes, hats and veils over the forehead are
            # hair by design), the person mask keeps at least 90 %: segmentation never eats the face
            uncovered = oval & ~hair
            assert np.count_nonzero(face_mask & uncovered) >= 0.9 * np.count_nonzero(uncovered)
    assert len(coverages) >= 100
    assert np.median(coverages) >= 0.9, sorted(coverages)[:10]


def test_masks_are_deterministic(masked_lfw):
    _, results = masked_lfw
    rgb, face, masks = results[0]
    again = FaceSegmenter().segment(rgb, [face])[0]
    assert np.array_equal(again.face_mask, masks.face_mask) and np.array_equal(
        again.head_mask, masks.head_mask
    )


def test_every_face_of_the_crowd_photo_gets_a_non_empty_mask_set(demo_crowd):
    rgb = load_image(demo_crowd)
    faces = create("retinaface_mnet025").detect(rgb)
    masks = FaceSegmenter().segment(rgb, faces)
    assert len(faces) >= 20 and len(masks) == len(faces)
    assert all(m.face_mask.any() and m.head_mask.any() for m in masks)
    for face, m in zip(faces, masks, strict=True):
        assert np.allclose(m.face_box_in_head + np.tile(m.head_box[:2], 2), face.box, atol=1e-3)


def test_a_box_only_face_gets_the_elliptical_prior(lfw_sample):
    rgb = load_image(lfw_sample[0])
    faces = create("haar").detect(rgb)
    (masks,) = FaceSegmenter().segment(rgb, faces[:1])
    assert masks.face_region == "ellipse_prior" and masks.face_mask.any()


@pytest.mark.parametrize("name", ["selfie_segmentation", "hair_segmentation"])
def test_every_segmenter_gives_probabilities_at_the_image_size(name, lfw_sample):
    from facebench.segment import create_segmenter, list_segmenters

    assert name in list_segmenters()
    segmenter = create_segmenter(name)
    rgb = load_image(lfw_sample[1])[:180, :130]
    probability = segmenter.probabilities(np.ascontiguousarray(rgb))
    assert probability.shape == (180, 130) and probability.dtype == np.float32
    assert probability.min() >= 0.0 and probability.max() <= 1.0 and probability.max() > 0.5
    assert segmenter.card.task == "segmenter" and segmenter.input_size == segmenter.card.preprocess.input_size
