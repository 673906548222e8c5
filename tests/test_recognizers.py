"""Recognizers on real LFW faces: unit norm, determinism, identity ranking, batch independence."""

import dataclasses
import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import facebench
from facebench.cli import app
from facebench.detectors import create as create_detector
from facebench.errors import FacebenchError
from facebench.image import load_image
from facebench.recognizers import create, list_recognizers
from facebench.report.analysis import read_pair_scores

ALL_RECOGNIZERS = list_recognizers()


@pytest.fixture(scope="module")
def faces(lfw_root):
    """(image, face) for two photos of one person and one photo each of two others."""
    detector = create_detector("retinaface_mnet025")
    paths = [
        sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[0],
        sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[5],
        sorted((lfw_root / "Aaron_Eckhart").glob("*.jpg"))[0],
        sorted((lfw_root / "Serena_Williams").glob("*.jpg"))[0],
    ]
    out = []
    for path in paths:
        rgb = load_image(path)
        out.append((rgb, detector.detect(rgb)[0]))
    return out


@pytest.fixture(scope="module")
def recognizers():
    return {name: create(name) for name in ALL_RECOGNIZERS}


@pytest.mark.parametrize("name", ALL_RECOGNIZERS)
def test_embeddings_are_unit_norm_deterministic_and_rank_identities(recognizers, faces, name):
    model = recognizers[name]
    vectors = np.concatenate([model.embed_faces(rgb, [face]) for rgb, face in faces])
    assert vectors.shape == (4, model.embedding_dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = model.embed_faces(*faces[0][:1], [faces[0][1]])
    assert np.array_equal(again[0], vectors[0])
    same = vectors[0] @ vectors[1]
    assert (
        same > vectors[0] @ vectors[2] and same > vectors[0] @ vectors[3] and same > vectors[2] @ vectors[3]
    )


@pytest.mark.parametrize("name", ALL_RECOGNIZERS)
def test_mirrored_face_scores_higher_than_another_person(recognizers, faces, name):
    model = recognizers[name]
    rgb, face = faces[2]
    crop = model.align(rgb, [face])
    original, mirrored = model.embed_aligned(crop)[0], model.embed_aligned(crop[:, :, ::-1])[0]
    other = model.embed_faces(faces[3][0], [faces[3][1]])[0]
    assert original @ mirrored > original @ other


@pytest.mark.parametrize(
    "name", ["edgeface_xs_q", "edgeface_xxs_q", "mobilefacenet_casia", "mobilefacenet_tflite"]
)
def test_embeddings_do_not_depend_on_the_batch(recognizers, faces, name):
    """The int8 _q models run one face per call: a face's embedding is the same alone or in a batch."""
    model = recognizers[name]
    crops = np.concatenate([model.align(rgb, [face]) for rgb, face in faces] * 4)
    alone = model.embed_aligned(crops[:1])
    batched = model.embed_aligned(crops)
    assert np.allclose(batched[0], alone[0], atol=1e-5)


def test_flip_augmentation_is_recorded_and_changes_the_embedding(faces):
    plain, flipped = create("mobilefacenet_casia"), create("mobilefacenet_casia", flip=True)
    assert flipped.config["flip"] is True
    rgb, face = faces[0]
    a, b = plain.embed_faces(rgb, [face])[0], flipped.embed_faces(rgb, [face])[0]
    assert 0.9 < a @ b < 0.99999


@pytest.mark.parametrize("name", ["mobilefacenet_casia", "edgeface_xs_dequant", "edgeface_xxs_dequant"])
def test_onnx_engine_matches_pytorch(faces, name, tmp_path, monkeypatch):
    torch_model, onnx_model = create(name), create(name, engine="onnx")
    for rgb, face in faces:
        a, b = torch_model.embed_faces(rgb, [face])[0], onnx_model.embed_faces(rgb, [face])[0]
        assert a @ b >= 0.9999


def test_dequantized_edgeface_stays_close_to_the_int8_model(recognizers, faces):
    for size in ("xs", "xxs"):
        quantized, dequant = recognizers[f"edgeface_{size}_q"], recognizers[f"edgeface_{size}_dequant"]
        for rgb, face in faces:
            assert quantized.embed_faces(rgb, [face])[0] @ dequant.embed_faces(rgb, [face])[0] > 0.9


def test_faceless_and_landmarkless_inputs_fail_clearly(recognizers):
    model = recognizers["edgeface_xs_q"]
    assert model.embed_faces(np.zeros((50, 50, 3), np.uint8), []).shape == (0, 512)
    with pytest.raises(ValueError, match="needs the 5 landmarks"):
        model.embed_faces(np.zeros((50, 50, 3), np.uint8), [facebench.Face(box=[5, 5, 40, 40], score=1.0)])
    box_only = model.embed_faces(
        np.zeros((50, 50, 3), np.uint8), [facebench.Face(box=[5, 5, 40, 40], score=1.0)], "none"
    )
    assert box_only.shape == (1, 512)
    with pytest.raises(ValueError, match="expects aligned crops"):
        model.embed_aligned(np.zeros((2, 100, 100, 3), np.uint8))


def test_top_level_embed_and_verify(lfw_root):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    vectors = facebench.embed(bush[0], recognizer="mobilefacenet_casia")
    assert vectors.shape[1] == 128
    result = facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_casia", threshold=0.3)
    other = facebench.verify(
        bush[0],
        sorted((lfw_root / "Aaron_Eckhart").glob("*.jpg"))[0],
        recognizer="mobilefacenet_casia",
        threshold=0.3,
    )
    assert result.score > other.score and result.same and not other.same
    with pytest.raises(FacebenchError, match="no face"):
        facebench.verify(np.zeros((100, 100, 3), np.uint8), bush[0], threshold=0.3)


def test_cli_embed_keeps_each_image_best_face_and_reruns_from_its_cache(demo_crowd, tmp_path):
    from facebench.detectors import create as create_detector
    from facebench.image import load_image

    runner = CliRunner()
    out = tmp_path / "crowd.npy"
    arguments = ["embed", str(demo_crowd), "--out", str(out), "-d", "yunet", "-r", "mobilefacenet_casia"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    faces = create_detector("yunet").detect(load_image(demo_crowd))
    assert len(faces) > 5
    best = max(faces, key=lambda face: face.score)
    row = np.load(out)[0]
    assert float(row @ facebench.embed(demo_crowd, [best], recognizer="mobilefacenet_casia")[0]) > 0.999
    others = facebench.embed(
        demo_crowd, [f for f in faces if f is not best], recognizer="mobilefacenet_casia"
    )
    assert (others @ row).max() < 0.9  # any other face of the crowd gives another row
    assert (tmp_path / "crowd.cache" / "cache.sqlite").is_file()
    from facebench.bench import executor as engine

    calls = []
    original = engine.LocalExecutor.run_jobs

    def counting(self, jobs, items):
        calls.append(sum(len(i) for i in items))
        return original(self, jobs, items)

    engine.LocalExecutor.run_jobs = counting
    try:
        again = runner.invoke(
            app,
            [
                *arguments[:3],
                str(tmp_path / "again.npy"),
                *arguments[4:],
                "--cache",
                str(tmp_path / "crowd.cache"),
            ],
        )
    finally:
        engine.LocalExecutor.run_jobs = original
    assert again.exit_code == 0, again.output
    assert calls == [0]  # every row came from the cache
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), np.load(out))


def test_cli_embed_verify_export(lfw_root, tmp_path):
    runner = CliRunner()
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    out = tmp_path / "emb.npy"
    result = runner.invoke(
        app, ["embed", str(bush[0]), str(bush[1]), "--out", str(out), "-r", "mobilefacenet_casia"]
    )
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (2, 128)
    index = (tmp_path / "emb.csv").read_text().splitlines()
    assert index[0] == "row,path,status" and index[1] == f"0,{bush[0]},ok" and len(index) == 3
    folder = tmp_path / "two"
    folder.mkdir()
    for image in bush[:2]:
        (folder / image.name).symlink_to(image)
    walked = runner.invoke(
        app, ["embed", str(folder), "--out", str(tmp_path / "f.npy"), "-r", "mobilefacenet_casia"]
    )
    assert walked.exit_code == 0, walked.output
    assert np.load(tmp_path / "f.npy").shape == (2, 128)  # a folder is walked
    result = runner.invoke(
        app,
        ["verify", str(bush[0]), str(bush[1]), "-r", "mobilefacenet_casia", "--threshold", "0.3", "--json"],
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["same"] is True
    onnx_file = tmp_path / "m.onnx"
    result = runner.invoke(
        app, ["export", "mobilefacenet_casia", "--format", "onnx", "--out", str(onnx_file)]
    )
    assert result.exit_code == 0 and onnx_file.stat().st_size > 1_000_000
    result = runner.invoke(app, ["export", "edgeface_xs_q", "--out", str(onnx_file)])
    assert result.exit_code == 1 and "_dequant" in result.stderr


def test_dlib_raw_descriptors_use_dlibs_euclidean_metric(faces):
    normalised, raw = create("dlib_resnet"), create("dlib_resnet", normalize=False)
    assert (normalised.metric, raw.metric) == ("cosine", "euclidean")
    vectors = np.concatenate([raw.embed_faces(rgb, [face]) for rgb, face in faces])
    assert not np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    distance = -raw.similarity(vectors[:1], vectors[1:2])[0]
    assert distance == pytest.approx(np.linalg.norm(vectors[0] - vectors[1]))
    # dlib's documented rule: the same person is closer than 0.6, different people farther
    assert distance < 0.6 < -raw.similarity(vectors[:1], vectors[2:3])[0]


def test_every_recognizer_has_a_threshold_written_by_its_eval_lfw_command():
    from facebench.recognizers.thresholds import DEFAULT_THRESHOLDS

    assert set(DEFAULT_THRESHOLDS) == set(ALL_RECOGNIZERS)
    for name, threshold in DEFAULT_THRESHOLDS.items():
        assert threshold.command.startswith("facebench eval-lfw ") and f"-r {name}" in threshold.command
        assert threshold.command.endswith("--write-threshold") and threshold.pairs == 6000
        # the default pipeline's own calibration, at every FAR 3,000 impostors can express
        assert threshold.detector == facebench.DEFAULT_DETECTOR and threshold.align == "similarity"
        assert list(threshold.far) == ["1e-1", "1e-2", "1e-3"]
        at = [threshold.at_far(far) for far in (1e-1, 1e-2, 1e-3)]
        assert at == sorted(at), f"{name}: a lower FAR needs a higher threshold"


def test_eval_lfw_write_threshold_sets_what_verify_decides_with(tmp_path, lfw_root, monkeypatch):
    """The data file is the command's output: the all-pairs threshold of the run, with its pipeline."""
    from facebench.recognizers.thresholds import DEFAULT_THRESHOLDS, PACKAGE_THRESHOLDS

    packaged = DEFAULT_THRESHOLDS["mobilefacenet_tflite"]
    monkeypatch.setenv("FACEBENCH_THRESHOLDS", str(tmp_path / "thresholds.json"))
    lines = (lfw_root.parent / "pairs.txt").read_text().splitlines()[1:]
    mini = tmp_path / "lfw"
    mini.mkdir()
    (mini / "lfw-deepfunneled").symlink_to(lfw_root)
    (mini / "pairs.txt").write_text("1\t10\n" + "\n".join(lines[0:10] + lines[300:310]) + "\n")
    arguments = ["eval-lfw", "-d", "yunet", "-r", "mobilefacenet_tflite", "--data-root", str(mini)]
    result = CliRunner().invoke(app, [*arguments, "--out", str(tmp_path / "out"), "--write-threshold"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    written = DEFAULT_THRESHOLDS["mobilefacenet_tflite"]
    assert written.value == pytest.approx(run["threshold_all_pairs"], abs=1e-6) != packaged.value
    assert (written.detector, written.pairs, written.align) == ("yunet", 20, "similarity")
    # 10 impostors express FAR 1e-1 (one may pass), nothing lower: the threshold sits just above
    # the second-highest impostor score, so exactly one impostor is accepted
    scores = read_pair_scores(tmp_path / "out" / "scores" / "yunet+similarity+mobilefacenet_tflite.csv")
    impostors = np.sort(scores.scores[~scores.is_same])[::-1]
    assert list(written.far) == ["1e-1"] and impostors[1] < written.at_far(0.1) <= impostors[1] + 2e-6
    assert int((impostors >= written.at_far(0.1)).sum()) == 1
    assert DEFAULT_THRESHOLDS["edgeface_xs_q"] == json_entry(
        PACKAGE_THRESHOLDS, "edgeface_xs_q"
    )  # others kept

    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    decided = facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_tflite", detector="yunet")
    assert decided.threshold == written.value and decided.same == (decided.score >= written.value)
    strict = CliRunner().invoke(
        app,
        ["verify", str(bush[0]), str(bush[1]), "-d", "yunet", "-r", "mobilefacenet_tflite", "--far", "0.1"],
    )
    assert strict.exit_code == 0, strict.output
    assert f"threshold {written.at_far(0.1):.4f}" in strict.stdout and "FAR 0.1 on lfw" in strict.output
    unmeasured = CliRunner().invoke(
        app, ["verify", str(bush[0]), str(bush[1]), "-r", "mobilefacenet_tflite", "--far", "1e-3"]
    )
    assert unmeasured.exit_code == 1 and "no threshold calibrated for FAR 0.001" in unmeasured.output
    assert "calibrated FARs: 1e-1" in unmeasured.output and "Traceback" not in unmeasured.output


def json_entry(path, name):
    from facebench.recognizers.thresholds import Threshold

    return Threshold(**json.loads(path.read_text())["thresholds"][name])


def test_a_planted_onnx_export_in_the_cache_is_never_used(faces, tmp_path, monkeypatch):
    """A different ONNX file under the export's name is caught by its digest, or by the probe when
    the attacker also rewrote the sidecar; either way the real model is exported again."""
    monkeypatch.setenv("FACEBENCH_CACHE", str(tmp_path / "cache"))
    reference = create("edgeface_xxs_dequant")
    rgb, face = faces[0]
    expected = reference.embed_faces(rgb, [face])[0]
    create("edgeface_xxs_dequant", engine="onnx")  # fills the cache
    (export,) = (tmp_path / "cache" / "onnx").glob("*.onnx")
    sidecar = export.with_name(export.name + ".sha256")
    genuine = export.read_bytes()
    impostor = create("edgeface_xs_dequant", engine="onnx")  # a 512-d model of the same input size
    (other,) = [p for p in (tmp_path / "cache" / "onnx").glob("*.onnx") if p != export]
    assert impostor.embed_faces(rgb, [face])[0] @ expected < 0.5

    from facebench.zoo.hashing import sha256_file

    for forge_sidecar in (False, True):
        export.write_bytes(other.read_bytes())
        if forge_sidecar:
            sidecar.write_text(f"{sha256_file(export)}  {export.name}\n")
        model = create("edgeface_xxs_dequant", engine="onnx")
        assert model.embed_faces(rgb, [face])[0] @ expected >= 0.9999
        assert export.read_bytes() == genuine  # exported again, atomically, and re-recorded
        assert sidecar.read_text().split()[0] == sha256_file(export)


def test_onnx_export_key_covers_weights_versions_and_opset(monkeypatch):
    import torch

    import facebench
    from facebench.ops import torch_engine

    base = torch_engine._export_key("a" * 64, "m", (3, 112, 112))
    assert torch_engine._export_key("b" * 64, "m", (3, 112, 112)) != base
    assert torch_engine._export_key("a" * 64, "m", (3, 112, 96)) != base
    monkeypatch.setattr(torch_engine, "ONNX_OPSET", torch_engine.ONNX_OPSET + 1)
    assert torch_engine._export_key("a" * 64, "m", (3, 112, 112)) != base
    monkeypatch.undo()
    monkeypatch.setattr(facebench, "__version__", "9.9.9")
    assert torch_engine._export_key("a" * 64, "m", (3, 112, 112)) != base
    monkeypatch.undo()
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    assert torch_engine._export_key("a" * 64, "m", (3, 112, 112)) != base


def test_an_exported_recognizer_runs_as_onnx_file_like_its_source(faces, tmp_path):
    """`facebench export` writes graph + contract; ``onnx:FILE`` then embeds as the source does."""
    from facebench.errors import ChecksumMismatchError

    exported = tmp_path / "edgeface_xxs.onnx"
    result = CliRunner().invoke(app, ["export", "edgeface_xxs_dequant", "--out", str(exported)])
    assert result.exit_code == 0, result.output
    source, onnx_file = create("edgeface_xxs_dequant"), create(f"onnx:{exported}")
    assert onnx_file.template == source.template and onnx_file.embedding_dim == source.embedding_dim
    rgb, face = faces[0]
    cosine = float(source.embed_faces(rgb, [face])[0] @ onnx_file.embed_faces(rgb, [face])[0])
    assert cosine > 0.9999
    assert onnx_file.config["weights_sha256"] != source.config["weights_sha256"]  # stored apart
    data = bytearray(exported.read_bytes())
    data[-1] ^= 0xFF
    exported.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError):
        create(f"onnx:{exported}")


def test_verify_result_is_its_decision_and_says_where_its_threshold_came_from(lfw_root, demo_crowd):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    same = facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_tflite")
    other = facebench.verify(
        bush[0], sorted((lfw_root / "Aaron_Eckhart").glob("*.jpg"))[0], recognizer="mobilefacenet_tflite"
    )
    assert bool(same) is True and bool(other) is False  # a tuple would always be truthy
    assert same.calibrated_for_this_pipeline is True and "lfw, all 6,000 pairs" in same.threshold_source
    assert same.notes == []
    elsewhere = facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_tflite", detector="yunet")
    assert elsewhere.calibrated_for_this_pipeline is False
    assert any("calibrated for another pipeline" in note for note in elsewhere.notes)
    given = facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_tflite", threshold=0.5)
    assert (given.threshold_source, given.calibrated_for_this_pipeline) == ("given", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        same.same = False  # type: ignore[misc]
    crowd = facebench.verify(demo_crowd, bush[0], recognizer="mobilefacenet_tflite", threshold=0.3)
    assert crowd.faces[0] > 1 and crowd.faces[1] == 1
    assert f"the first image holds {crowd.faces[0]} faces" in crowd.notes[0]


def test_cli_verify_takes_align_and_refine_and_reports_notes(lfw_root, demo_crowd):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    result = CliRunner().invoke(
        app,
        [
            "verify",
            str(demo_crowd),
            str(bush[0]),
            "-r",
            "mobilefacenet_tflite",
            "--refine",
            "facemesh",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["faces"][0] > 1 and record["notes"] and record["calibrated_for_this_pipeline"] is False
    plain = CliRunner().invoke(
        app, ["verify", str(bush[0]), str(bush[1]), "-r", "mobilefacenet_tflite", "--align", "none"]
    )
    assert plain.exit_code == 0 and "threshold:" in plain.output


def test_analyze_attaches_embeddings_and_takes_lists_and_folders(lfw_root, demo_crowd, tmp_path):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[:2]
    faces = facebench.analyze(demo_crowd, recognizer="mobilefacenet_tflite", detector="yunet")
    assert len(faces) > 1 and all(isinstance(f, facebench.AnalyzedFace) for f in faces)
    assert faces[0].score >= faces[1].score and faces[0].embedding.shape == (128,)
    direct = facebench.embed(demo_crowd, recognizer="mobilefacenet_tflite", detector="yunet")
    np.testing.assert_allclose(np.stack([f.embedding for f in faces]), direct, atol=1e-6)
    folder = tmp_path / "people"
    folder.mkdir()
    for image in bush:
        (folder / image.name).symlink_to(image)
    per_image = facebench.analyze(folder, recognizer="mobilefacenet_tflite", detector="yunet")
    assert len(per_image) == 2 and per_image[0][0].similarity(per_image[1][0]) > 0.3
    listed = facebench.embed(list(bush), recognizer="mobilefacenet_tflite", detector="yunet")
    assert len(listed) == 2 and listed[0].shape[1] == 128
    other = facebench.analyze(bush[0], recognizer="edgeface_xs_dequant")[0]
    with pytest.raises(FacebenchError, match="cannot compare"):
        per_image[0][0].similarity(other)


def test_verify_at_a_target_far_uses_that_calibration(lfw_root):
    from facebench.recognizers.thresholds import DEFAULT_THRESHOLDS

    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))
    entry = DEFAULT_THRESHOLDS["mobilefacenet_tflite"]
    strict = facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_tflite", far=1e-3)
    assert strict.threshold == entry.at_far(1e-3) and strict.threshold_source.startswith("FAR 0.001 on lfw")
    assert strict.calibrated_for_this_pipeline is True and strict.same == (strict.score >= strict.threshold)
    with pytest.raises(FacebenchError, match="not both"):
        facebench.verify(bush[0], bush[1], threshold=0.3, far=1e-3)
    with pytest.raises(
        FacebenchError, match=re.escape("no threshold calibrated for FAR 0.0001; calibrated FARs: 1e-1")
    ):
        facebench.verify(bush[0], bush[1], recognizer="mobilefacenet_tflite", far=1e-4)


def test_verify_takes_lists_and_folders_and_reports_a_faceless_image_without_stopping(lfw_root, tmp_path):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[:3]
    other = sorted((lfw_root / "Aaron_Eckhart").glob("*.jpg"))[0]
    folder = tmp_path / "probes"
    folder.mkdir()
    for image in (*bush[1:], other):
        (folder / image.name).symlink_to(image)
    blank = np.zeros((120, 120, 3), np.uint8)
    options = {"recognizer": "mobilefacenet_tflite", "threshold": 0.3}
    one_to_many = facebench.verify(bush[0], folder, **options)
    singles = [facebench.verify(bush[0], image, **options) for image in sorted(folder.iterdir())]
    assert isinstance(one_to_many, list) and [r.score for r in one_to_many] == pytest.approx(
        [r.score for r in singles], abs=1e-6
    )
    assert [bool(r) for r in one_to_many] == [False, True, True]  # sorted: Eckhart, then two Bush photos
    paired = facebench.verify([bush[0], blank, bush[1]], [bush[1], bush[2], other], **options)
    assert [r.error is None for r in paired] == [True, False, True]
    assert paired[1].same is False and np.isnan(paired[1].score) and "no face found" in paired[1].notes[0]
    assert paired[0].score == pytest.approx(singles[1].score, abs=1e-6)  # bush[0] vs bush[1]
    with pytest.raises(FacebenchError, match="cannot pair 2 first images with 3"):
        facebench.verify([bush[0], bush[1]], [bush[0], bush[1], other], **options)

    result = CliRunner().invoke(
        app,
        ["verify", str(bush[0]), str(folder), "-r", "mobilefacenet_tflite", "--threshold", "0.3", "--json"],
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["second"] for r in records] == [str(p) for p in sorted(folder.iterdir())]
    assert [r["same"] for r in records] == [False, True, True]


def test_detect_takes_lists_folders_and_arrays_with_the_default_detector(lfw_root, tmp_path):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[:2]
    folder = tmp_path / "two"
    folder.mkdir()
    for image in bush:
        (folder / image.name).symlink_to(image)
    one = facebench.detect(bush[0])
    assert one and one[0].detector == facebench.DEFAULT_DETECTOR
    from_array = facebench.detect(load_image(bush[0]))
    np.testing.assert_allclose(from_array[0].box, one[0].box, atol=1e-3)
    listed, walked = facebench.detect(list(bush)), facebench.detect(folder)
    assert len(listed) == len(walked) == 2 and all(len(faces) >= 1 for faces in walked)
    np.testing.assert_allclose(walked[0][0].box, one[0].box, atol=1e-3)


def test_one_default_detector_everywhere():
    """Every command and call that detects without being told how uses the same detector (the one
    the default thresholds were calibrated with), and every single-image embedder the same recognizer."""
    import inspect

    import typer.main

    from facebench.api import analyze, embed, verify
    from facebench.defaults import DEFAULT_DETECTOR, DEFAULT_RECOGNIZER
    from facebench.gallery import Gallery
    from facebench.train.recognition import DataConfig, ValidationConfig

    command = typer.main.get_command(app)
    defaults: dict[str, object] = {}

    def walk(group, prefix=""):
        for name, sub in getattr(group, "commands", {}).items():
            walk(sub, f"{prefix}{name} ")
        for parameter in getattr(group, "params", []):
            if parameter.name in ("detector", "recognizer") and not parameter.required:
                defaults[f"{prefix}--{parameter.name}"] = parameter.default

    walk(command)
    detector_defaults = {k: v for k, v in defaults.items() if k.endswith("--detector")}
    assert len(detector_defaults) >= 6, (
        defaults
    )  # detect, eval-lfw, eval-identification, embed, verify, index build
    assert set(detector_defaults.values()) == {DEFAULT_DETECTOR}, detector_defaults
    recognizer_defaults = {
        k: v for k, v in defaults.items() if k.endswith("--recognizer") and "index" not in k
    }
    assert set(recognizer_defaults.values()) == {DEFAULT_RECOGNIZER}, recognizer_defaults
    for function in (facebench.detect, embed, verify, analyze):
        assert inspect.signature(function).parameters["detector"].default == DEFAULT_DETECTOR
    assert Gallery().detector == DEFAULT_DETECTOR
    for config in (DataConfig, ValidationConfig):
        assert {f.name: f.default for f in dataclasses.fields(config)}["detector"] == DEFAULT_DETECTOR
