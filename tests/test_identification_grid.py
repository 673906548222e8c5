"""`benchmark --identification`: closed-set rank-1/rank-5/CMC in every pipeline's result, from the
same cached embeddings, checked against ranks counted by hand from direct model calls."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from facebench.cli import app
from facebench.datasets import load_identification_set
from facebench.errors import FacebenchError
from facebench.recognizers.base import similarity, similarity_matrix

PEOPLE = {"George_W_Bush": 5, "Colin_Powell": 4, "Tony_Blair": 4, "Aaron_Eckhart": 1, "Abdullah_Gul": 3}


@pytest.fixture(scope="module")
def mini_lfw(lfw_root, tmp_path_factory):
    """An LFW-layout root: 5 people (one with a single image), a 1-fold pairs.txt of 3 + 3 pairs."""
    root = tmp_path_factory.mktemp("lfw")
    for name, count in PEOPLE.items():
        (root / "lfw-deepfunneled" / name).mkdir(parents=True)
        for image in sorted((lfw_root / name).glob("*.jpg"))[:count]:
            (root / "lfw-deepfunneled" / name / image.name).symlink_to(image)
    (root / "pairs.txt").write_text(
        "1\t3\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\t3\nTony_Blair\t2\t4\n"
        "George_W_Bush\t3\tAaron_Eckhart\t1\nColin_Powell\t2\tTony_Blair\t1\nAbdullah_Gul\t1\tTony_Blair\t3\n"
    )
    return root


def test_similarity_matrix_scores_every_pair_as_similarity_does():
    rng = np.random.default_rng(0)
    probes, gallery = rng.normal(size=(4, 8)), rng.normal(size=(3, 8))
    for metric, normalized in (("cosine", False), ("euclidean", False)):
        matrix = similarity_matrix(probes, gallery, metric, normalized)
        for i in range(4):
            row = similarity(np.repeat(probes[i : i + 1], 3, 0), gallery, metric, normalized)
            np.testing.assert_allclose(matrix[i], row, rtol=1e-5, atol=1e-5)
    probes[1] = np.nan
    assert np.isnan(similarity_matrix(probes, gallery, "cosine", False)[1]).all()


def test_lfw_identification_split(mini_lfw):
    data = load_identification_set("lfw", mini_lfw)
    # people with 2+ images: the first image of each in the gallery, the rest probes
    assert [p.parent.name for p in data.gallery] == [
        "Abdullah_Gul",
        "Colin_Powell",
        "George_W_Bush",
        "Tony_Blair",
    ]
    assert len(data.probes) == 2 + 3 + 4 + 3 and "Aaron_Eckhart" not in data.probe_identity
    assert "2 or more images" in data.split


def test_cfp_identification_split(tmp_path):
    for person, frontal, profile in (("001", 3, 2), ("002", 2, 1)):
        for kind, count in (("frontal", frontal), ("profile", profile)):
            (tmp_path / "Data" / "Images" / person / kind).mkdir(parents=True)
            for number in range(1, count + 1):
                (tmp_path / "Data" / "Images" / person / kind / f"{number:02d}.jpg").write_bytes(b"x")
    data = load_identification_set("cfp_fp", tmp_path)
    assert [p.name for p in data.gallery] == ["01.jpg", "01.jpg"] and data.gallery_identity == ["001", "002"]
    assert data.probe_identity == ["001", "001", "002"] and all(
        p.parent.name == "profile" for p in data.probes
    )
    with pytest.raises(FacebenchError, match="needs a dataset with identities"):
        load_identification_set("csv:pairs.csv")


def test_identification_joins_the_grid_with_ranks_counted_by_hand(mini_lfw, tmp_path):
    from facebench.bench.executor import central_face
    from facebench.bench.results import load_results
    from facebench.detectors import create as create_detector
    from facebench.image import load_image
    from facebench.recognizers import create as create_recognizer

    out = tmp_path / "grid"
    arguments = ["benchmark", "--dataset", "lfw", "--data-root", str(mini_lfw), "--detectors", "yunet"]
    arguments += ["--recognizers", "mobilefacenet_tflite", "--identification", "--out", str(out)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    run = load_results(out).runs[0]
    ident = run.identification
    assert ident is not None and ident.gallery == 4 and ident.probes == 12 and len(ident.cmc) == 20
    assert run.pairs == 6  # verification is still scored on the pair list alone

    data = load_identification_set("lfw", mini_lfw)
    detector, recognizer = create_detector("yunet"), create_recognizer("mobilefacenet_tflite")

    def embed(path):
        rgb = load_image(path)
        face = central_face(detector.detect_faces(rgb), rgb.shape[1], rgb.shape[0])
        return recognizer.embed_faces(rgb, [face], "similarity")[0]

    gallery = np.stack([embed(p) for p in data.gallery])
    ranks = []
    for path, identity in zip(data.probes, data.probe_identity, strict=True):
        scores = gallery @ embed(path)
        true = scores[data.gallery_identity.index(identity)]
        ranks.append(
            1 + sum(s > true for s, g in zip(scores, data.gallery_identity, strict=True) if g != identity)
        )
    ranks = np.array(ranks)
    assert ident.rank1 == pytest.approx((ranks <= 1).mean(), abs=1e-6)
    assert ident.rank5 == pytest.approx((ranks <= 5).mean(), abs=1e-6) == 1.0  # 4 people: always in the top 5
    record = json.loads((out / "results.json").read_text())["runs"][0]
    assert record["rank1"] == ident.rank1 and record["identification"]["split"] == data.split
    readme = (out / "README.md").read_text()
    assert "rank-1 (%)" in readme and "rank-5 (%)" in readme


def test_tables_leave_out_rank_columns_without_identification(mini_lfw, tmp_path):
    out = tmp_path / "plain"
    arguments = ["benchmark", "--dataset", "lfw", "--data-root", str(mini_lfw), "--detectors", "yunet"]
    result = CliRunner().invoke(app, [*arguments, "--recognizers", "mobilefacenet_tflite", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        "rank-1" not in (out / "README.md").read_text() and "rank-1" not in (out / "report.html").read_text()
    )


def test_identification_on_a_pair_list_without_identities_is_refused(mini_lfw, tmp_path):
    images = sorted((mini_lfw / "lfw-deepfunneled" / "Colin_Powell").glob("*.jpg"))
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"path1,path2,label,fold\n{images[0]},{images[1]},1,0\n")
    result = CliRunner().invoke(
        app, ["benchmark", "--dataset", f"csv:{pairs}", "--identification", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1 and "needs a dataset with identities" in result.output


def test_scores_files_carry_paths_thresholds_and_decisions(mini_lfw, tmp_path):
    import csv

    from facebench.bench.results import load_results
    from facebench.report import scores_file

    out = tmp_path / "scores"
    arguments = ["benchmark", "--dataset", "lfw", "--data-root", str(mini_lfw), "--detectors", "yunet"]
    result = CliRunner().invoke(app, [*arguments, "--recognizers", "mobilefacenet_tflite", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = load_results(out).runs[0]
    with scores_file(out, run.pipeline).open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "pair",
        "fold",
        "path1",
        "path2",
        "label",
        "score",
        "threshold",
        "decision",
        "correct",
    ]
    assert rows[0]["path1"].endswith("George_W_Bush_0001.jpg") and rows[0]["path2"].endswith(
        "George_W_Bush_0002.jpg"
    )
    assert {r["threshold"] for r in rows} == {f"{run.fold_thresholds[0]:.6f}"}  # one fold: one threshold
    for row in rows:
        assert row["decision"] == ("same" if float(row["score"]) >= float(row["threshold"]) else "different")
        assert row["correct"] == str(int((row["decision"] == "same") == (row["label"] == "1")))
    assert np.mean([r["correct"] == "1" for r in rows]) == pytest.approx(run.accuracy_mean)
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert "no_face_policy" in header and not any("{" in column for column in header)


def test_report_merges_runs_from_several_folders(mini_lfw, tmp_path):
    from facebench.bench.results import load_results

    base = [
        "benchmark",
        "--dataset",
        "lfw",
        "--data-root",
        str(mini_lfw),
        "--recognizers",
        "mobilefacenet_tflite",
    ]
    for detector in ("yunet", "retinaface_mnet025"):
        done = CliRunner().invoke(app, [*base, "--detectors", detector, "--out", str(tmp_path / detector)])
        assert done.exit_code == 0, done.output
    folders = [str(tmp_path / "yunet"), str(tmp_path / "retinaface_mnet025"), str(tmp_path / "yunet")]
    merged = CliRunner().invoke(app, ["report", *folders, "--out", str(tmp_path / "merged")])
    assert merged.exit_code == 0, merged.output
    result = load_results(tmp_path / "merged")
    assert sorted(r.detector for r in result.runs) == [
        "retinaface_mnet025",
        "yunet",
    ]  # the repeat is kept once
    assert len(result.comparisons) == 1 and (tmp_path / "merged" / "report.html").is_file()
    assert len(list((tmp_path / "merged" / "scores").glob("*.csv"))) == 2
    bad = CliRunner().invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "m2")])
    assert bad.exit_code == 1 and "no results.json" in bad.output
