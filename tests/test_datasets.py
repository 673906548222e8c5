import csv
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from facebench.cli import app
from facebench.datasets import load_cfp_pairs, load_lfw_pairs, load_pair_dataset, load_pairs_csv
from facebench.errors import FacebenchError


def test_lfw_view2_has_the_official_shape(shared_home):
    pairs = load_lfw_pairs()
    assert len(pairs) == 6000 and len(pairs.images) == 7701
    assert np.bincount(pairs.fold).tolist() == [600] * 10
    for fold in range(10):
        in_fold = pairs.is_same[pairs.fold == fold]
        assert in_fold[:300].all() and not in_fold[300:].any()  # 300 matched, then 300 mismatched


def test_lfw_view1_lists_without_header(shared_home):
    pairs = load_lfw_pairs(pairs_file="pairsDevTest.txt")
    assert len(pairs) == 1000 and pairs.is_same.sum() == 500 and set(pairs.fold.tolist()) == {0}
    assert len(load_pair_dataset("lfw_view1")) == 1000


@pytest.fixture
def cfp_tree(tmp_path):
    """A tiny CFP release: 3 identities with 2 frontal and 1 profile image, 2 folds."""
    root = tmp_path / "cfp"
    f_lines, p_lines = [], []
    for identity in range(1, 4):
        for kind, count, lines in (("frontal", 2, f_lines), ("profile", 1, p_lines)):
            for number in range(1, count + 1):
                image = root / "Data" / "Images" / f"{identity:03d}" / kind / f"{number:02d}.jpg"
                image.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (8, 8), (identity * 40, number * 60, 0)).save(image)
                lines.append(f"{len(lines) + 1} ../Data/Images/{identity:03d}/{kind}/{number:02d}.jpg")
    protocol = root / "Protocol"
    protocol.mkdir()
    (protocol / "Pair_list_F.txt").write_text("\n".join(f_lines) + "\n")
    (protocol / "Pair_list_P.txt").write_text("\n".join(p_lines) + "\n")
    for kind, same, diff in (("FF", ["1,2", "3,4"], ["1,3", "2,5"]), ("FP", ["1,1", "3,2"], ["1,2", "5,1"])):
        for fold in ("01", "02"):
            folder = protocol / "Split" / kind / fold
            folder.mkdir(parents=True)
            (folder / "same.txt").write_text("\n".join(same) + "\n")
            (folder / "diff.txt").write_text("\n".join(diff) + "\n")
    return root


def test_cfp_official_layout(cfp_tree):
    ff = load_cfp_pairs(cfp_tree, "FF")
    assert (
        len(ff) == 8
        and ff.is_same.tolist() == [True, True, False, False] * 2
        and ff.fold.tolist() == [0] * 4 + [1] * 4
    )
    assert ff.first[0].name == "01.jpg" and ff.second[0].parts[-2] == "frontal"
    fp = load_cfp_pairs(cfp_tree, "FP")
    assert all(p.parts[-2] == "profile" for p in fp.second) and all(
        p.parts[-2] == "frontal" for p in fp.first
    )
    assert len(load_pair_dataset("cfp_fp", cfp_tree)) == 8
    (cfp_tree / "Protocol" / "Split" / "FF" / "01" / "same.txt").write_text("1,99\n")
    with pytest.raises(FacebenchError, match="bad pair"):
        load_cfp_pairs(cfp_tree, "FF")


def test_pairs_csv_runs_through_the_benchmark(lfw_root, tmp_path):
    bush = sorted((lfw_root / "George_W_Bush").glob("*.jpg"))[:6]
    others = [sorted(p.glob("*.jpg"))[0] for p in sorted(lfw_root.iterdir())[:6]]
    rows = [(bush[i], bush[i + 1], 1, i % 2) for i in range(4)] + [
        (bush[i], others[i], 0, i % 2) for i in range(4)
    ]
    listing = tmp_path / "pairs.csv"
    with listing.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path1", "path2", "label", "fold"])
        writer.writerows(rows)
    pairs = load_pairs_csv(listing)
    assert len(pairs) == 8 and pairs.is_same.sum() == 4
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "benchmark",
            "--dataset",
            f"csv:{listing}",
            "--detectors",
            "yunet",
            "--recognizers",
            "mobilefacenet_tflite",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    run = json.loads((out / "results.json").read_text())["runs"][0]
    assert run["dataset"] == f"csv:{listing}" and run["pairs"] == 8 and run["accuracy_mean"] >= 0.75


def test_pairs_csv_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(FacebenchError, match=r"expected columns path1, path2, label \(and optionally fold\)"):
        load_pairs_csv(bad)
    bad.write_text("path1,path2,label,fold\nx.jpg,y.jpg,2,0\n")
    with pytest.raises(FacebenchError, match="label must be 0 or 1"):
        load_pairs_csv(bad)
    with pytest.raises(FacebenchError, match="Expected --dataset"):
        load_pair_dataset("megaface")


def test_pairs_csv_without_folds_gets_stratified_ones_and_honours_a_root(tmp_path):
    from facebench.datasets.pairs_csv import stratified_folds

    # 4 same then 6 different pairs, 2 folds: same pairs 0-1 | 2-3, different 4-6 | 7-9
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    np.testing.assert_array_equal(stratified_folds(labels, 2), [0, 0, 1, 1, 0, 0, 0, 1, 1, 1])
    assert stratified_folds(labels).max() == 3  # 10 asked, but only 4 same pairs: 4 folds
    assert (stratified_folds(np.ones(5, bool)) == 0).all()  # one label only: one fold
    listing = tmp_path / "lists" / "pairs.csv"
    listing.parent.mkdir()
    rows = "".join(f"p{i}a.jpg,p{i}b.jpg,{int(i < 12)}\n" for i in range(30))
    listing.write_text("path1,path2,label\n" + rows)
    pairs = load_pairs_csv(listing)
    assert len(np.unique(pairs.fold)) == 10 and pairs.first[0] == tmp_path / "lists" / "p0a.jpg"
    for fold in range(10):  # every fold holds both labels
        assert set(pairs.is_same[pairs.fold == fold]) == {True, False}
    rooted = load_pair_dataset(f"csv:{listing}", tmp_path / "images")
    assert rooted.first[0] == tmp_path / "images" / "p0a.jpg"


def test_identification_on_lfw_identity_folders(lfw_root, tmp_path):
    from facebench.datasets.identities import load_identity_folders

    root = tmp_path / "people"
    for name in ("George_W_Bush", "Colin_Powell", "Tony_Blair", "Aaron_Eckhart"):
        (root / name).mkdir(parents=True)
        for image in sorted((lfw_root / name).glob("*.jpg"))[:4]:
            (root / name / image.name).symlink_to(image)
    data = load_identity_folders(root)
    assert len(data.gallery) == 4 and len(data.probes) == 9  # Aaron_Eckhart has one image: a distractor
    out = tmp_path / "ident"
    result = CliRunner().invoke(
        app,
        [
            "eval-identification",
            "--data-root",
            str(root),
            "-d",
            "yunet",
            "-r",
            "mobilefacenet_tflite",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "identification.json").read_text())
    assert record["probes"] == 9 and record["rank1"] >= 8 / 9 and record["cmc"][-1] == 1.0
