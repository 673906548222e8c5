"""IJB-B/C: template features, 1:1 and 1:N by hand, and a miniature release in the official
layout (LFW faces as loose crops) whose TARs and ranks the test recomputes with plain loops."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from facebench.cli import app
from facebench.datasets.ijb import load_ijb
from facebench.errors import FacebenchError
from facebench.metrics.ijb import identify, template_features, template_pair_scores


def test_template_features_pool_media_then_templates_by_hand():
    features = np.array([[1, 0], [3, 0], [0, 1], [0, -1]], np.float64)
    templates = np.array([7, 7, 7, 9])
    medias = np.array([10, 10, 11, 12])
    faceness = np.array([1.0, 1.0, 2.0, 0.5])
    ids, pooled = template_features(features, templates, medias, faceness)
    # template 7: media 10 averages [1,0] and [3,0] to [2,0]; media 11 is [0,1]·2; sum [2,2]
    np.testing.assert_array_equal(ids, [7, 9])
    np.testing.assert_allclose(pooled, [[2**-0.5, 2**-0.5], [0, -1]], atol=1e-6)
    _, unit = template_features(features, templates, medias, faceness, keep_norm=False)
    np.testing.assert_allclose(unit[0], np.array([1, 2]) / 5**0.5, atol=1e-6)  # [1,0] + [0,1]·2
    _, unweighted = template_features(features, templates, medias, faceness, faceness_weighting=False)
    np.testing.assert_allclose(unweighted[0], np.array([2, 1]) / 5**0.5, atol=1e-6)  # [2,0] + [0,1]
    _, empty = template_features(np.zeros((1, 2)), np.array([3]), np.array([1]), np.ones(1))
    np.testing.assert_array_equal(empty, [[0, 0]])  # no face at all: a zero feature, cosine 0


def test_pair_scores_are_chunked_cosines():
    ids = np.array([2, 5, 8])
    features = np.eye(3, dtype=np.float32)
    features[2] = [0.6, 0.8, 0]
    scores = template_pair_scores(ids, features, np.array([2, 2, 5, 8]), np.array([8, 5, 8, 8]), chunk=1)
    np.testing.assert_allclose(scores, [0.6, 0.0, 0.8, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match="without features"):
        template_pair_scores(ids, features, np.array([3]), np.array([2]))


def test_open_set_identification_by_hand():
    gallery = np.eye(3)
    subjects = np.array([100, 200, 300])
    mated = np.array([[0.95, 0.1, 0.0], [0.8, 0.6, 0.0]])  # subject 100 at rank 1; 200 at rank 2
    strangers = np.array([[0.0, 0.0, s] for s in np.linspace(0.1, 1.0, 10)])  # top scores 0.1 … 1.0
    result = identify(gallery, subjects, np.vstack([mated, strangers]), np.array([100, 200] + [400] * 10))
    assert (result.mated, result.non_mated) == (2, 10)
    assert result.rank == {"1": 0.5, "5": 1.0, "10": 1.0}
    # FPIR 0.1 of 10 strangers: one may score above the threshold, the 2nd highest (0.9): 0.95 > 0.9
    assert result.tpir_at_fpir == {"0.01": None, "0.1": 0.5}


# -- a miniature release in the official layout ----------------------------------------------
PEOPLE = ("George_W_Bush", "Colin_Powell", "Tony_Blair", "Donald_Rumsfeld", "Gerhard_Schroeder")


@pytest.fixture(scope="module")
def mini_ijbc(lfw_root, tmp_path_factory):
    """5 subjects, 2 templates each (3 images over 2 media, and 2 images of one media); G1 holds
    subjects 1–2, G2 subject 3; the probes are every subject's 2nd template: subjects 4 and 5 are
    in neither gallery. Landmarks by YuNet, written as the release writes its own."""
    from facebench.bench.no_face import central_face
    from facebench.detectors import create
    from facebench.image import load_image

    root = tmp_path_factory.mktemp("IJBC")
    (root / "meta").mkdir()
    (root / "loose_crop").mkdir()
    detector = create("yunet")
    tid_mid, points = [], []
    subject_templates: dict[int, list[int]] = {}
    template = 0
    for subject, person in enumerate(PEOPLE, 1):
        images = sorted((lfw_root / person).glob("*.jpg"))[:5]
        for members, medias in ((images[:3], (1, 1, 2)), (images[3:5], (3, 3))):
            template += 1
            subject_templates.setdefault(subject, []).append(template)
            for image, media in zip(members, medias, strict=True):
                name = f"{subject}_{image.name}"
                (root / "loose_crop" / name).symlink_to(image)
                rgb = load_image(image)
                face = central_face(detector.detect_faces(rgb), rgb.shape[1], rgb.shape[0])
                tid_mid.append(f"{name} {template} {subject * 100 + media}")
                coordinates = " ".join(f"{v:.3f}" for v in np.asarray(face.landmarks).reshape(-1))
                points.append(f"{name} {coordinates} {face.score:.4f}")
    (root / "meta" / "ijbc_face_tid_mid.txt").write_text("\n".join(tid_mid) + "\n")
    (root / "meta" / "ijbc_name_5pts_score.txt").write_text("\n".join(points) + "\n")
    pairs = [(a, b, int(sa == sb)) for sa, ta in subject_templates.items() for sb, tb in subject_templates.items()
             for a in ta for b in tb if a < b]  # fmt: skip
    (root / "meta" / "ijbc_template_pair_label.txt").write_text(
        "".join(f"{a} {b} {y}\n" for a, b, y in pairs)
    )
    header = "TEMPLATE_ID,SUBJECT_ID,FILENAME\n"
    for gallery, subjects in (("G1", (1, 2)), ("G2", (3,))):
        rows = "".join(f"{subject_templates[s][0]},{s},x.jpg\n" for s in subjects)
        (root / "meta" / f"ijbc_1N_gallery_{gallery}.csv").write_text(header + rows)
    probe_rows = "".join(f"{subject_templates[s][1]},{s},x.jpg\n" for s in subject_templates)
    (root / "meta" / "ijbc_1N_probe_mixed.csv").write_text(header + probe_rows)
    return root


def test_the_release_layout_is_read(mini_ijbc):
    data = load_ijb("ijbc", mini_ijbc)
    assert len(data.images) == 25 and data.landmarks.shape == (25, 5, 2)
    assert len(data.pairs) == 45 and data.pairs[:, 2].sum() == 5  # 10 templates: 45 pairs, 5 genuine
    assert [g.name for g in data.galleries] == ["G1", "G2"] and list(data.galleries[0].subjects) == [1, 2]
    assert list(data.probes.subjects) == [1, 2, 3, 4, 5]


def test_a_broken_release_is_refused_naming_the_file(mini_ijbc, tmp_path):
    with pytest.raises(FacebenchError, match=r"ijbb_face_tid_mid\.txt not found"):
        load_ijb("ijbb", mini_ijbc)
    broken = tmp_path / "broken"
    (broken / "meta").mkdir(parents=True)
    for path in (mini_ijbc / "meta").iterdir():
        (broken / "meta" / path.name).write_text(path.read_text())
    lines = (broken / "meta" / "ijbc_name_5pts_score.txt").read_text().splitlines()
    (broken / "meta" / "ijbc_name_5pts_score.txt").write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(FacebenchError, match="no landmarks for 1 face crop"):
        load_ijb("ijbc", broken)


def test_the_protocol_end_to_end_matches_plain_loops(mini_ijbc, tmp_path):
    from facebench.image import load_image
    from facebench.recognizers import create
    from facebench.types import Face

    out = tmp_path / "ijb"
    arguments = ["benchmark", "--dataset", "ijbc", "--data-root", str(mini_ijbc)]
    arguments += ["--recognizers", "edgeface_xs_dequant@onnx", "--out", str(out)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    run = json.loads((out / "ijb_results.json").read_text())["runs"][0]
    assert run["pipeline"] == "ijbc+metadata+edgeface_xs_dequant@onnx"
    assert (run["templates"], run["pairs"], run["genuine"], run["impostors"]) == (10, 45, 5, 40)

    # by hand: flip-sum raw features, × faceness, mean per media, sum per template, L2
    data = load_ijb("ijbc", mini_ijbc)
    recognizer = create("edgeface_xs_dequant", engine="onnx", flip=True, normalize=False)
    pooled: dict[int, dict[int, list[np.ndarray]]] = {}
    for index, path in enumerate(data.images):
        points = data.landmarks[index]
        face = Face(box=np.concatenate([points.min(0), points.max(0)]), score=1.0, landmarks=points)
        crop = recognizer.align(load_image(path), [face], "similarity")
        feature = recognizer.embed_aligned(crop)[0] * data.faceness[index]
        pooled.setdefault(int(data.templates[index]), {}).setdefault(int(data.medias[index]), []).append(
            feature
        )
    template = {}
    for t, medias in pooled.items():
        total = sum(np.mean(features, axis=0) for features in medias.values())
        template[t] = total / np.linalg.norm(total)
    scores = np.array([template[a] @ template[b] for a, b, _ in data.pairs])
    labels = data.pairs[:, 2].astype(bool)
    impostors = np.sort(scores[~labels])[::-1]
    # FAR 1e-1 of 40 impostors: 4 may be accepted; TAR = genuine scoring above the 5th highest
    assert run["tar_at_far"]["0.1"] == pytest.approx((scores[labels] > impostors[4]).mean())
    assert run["tar_at_far"]["0.01"] is None and run["tar_at_far"]["1e-06"] is None  # 40 impostors

    for gallery, reported in zip(data.galleries, run["galleries"], strict=True):
        ranks = []
        for probe_t, probe_s in zip(data.probes.templates, data.probes.subjects, strict=True):
            if probe_s not in gallery.subjects:
                continue
            sims = {
                s: template[probe_t] @ template[t]
                for t, s in zip(gallery.templates, gallery.subjects, strict=True)
            }
            ranks.append(1 + sum(score > sims[probe_s] for s, score in sims.items() if s != probe_s))
        assert reported["mated"] == len(ranks) and reported["non_mated"] == 5 - len(ranks)
        assert reported["rank"]["1"] == pytest.approx(np.mean(np.array(ranks) <= 1))
        assert reported["tpir_at_fpir"]["0.01"] is None  # 3 or 4 non-mated probes cannot measure 1e-2
    mean_rank1 = np.mean([g["rank"]["1"] for g in run["galleries"]])
    assert run["identification_mean"]["rank1"] == pytest.approx(mean_rank1)
    assert (
        "TAR@FAR=0.1" in (out / "README.md").read_text() and "flip sum on" in (out / "README.md").read_text()
    )

    again = CliRunner().invoke(app, arguments)  # the stored features: the same numbers
    assert again.exit_code == 0
    assert json.loads((out / "ijb_results.json").read_text())["runs"][0]["tar_at_far"] == run["tar_at_far"]


def test_a_detector_can_replace_the_release_landmarks(mini_ijbc, tmp_path):
    out = tmp_path / "ijb_yunet"
    arguments = ["benchmark", "--dataset", "ijbc", "--data-root", str(mini_ijbc), "--detectors", "yunet"]
    result = CliRunner().invoke(app, [*arguments, "--recognizers", "mobilefacenet_tflite", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "ijb_results.json").read_text())["runs"][0]
    assert run["landmarks"] == "yunet" and run["images_without_face"] == 0
    assert run["tar_at_far"]["0.1"] > 0.5
    bad = CliRunner().invoke(app, [*arguments[:-2], "--detectors", "yunett", "--out", str(out)])
    assert bad.exit_code == 1 and "or 'metadata'" in bad.output
