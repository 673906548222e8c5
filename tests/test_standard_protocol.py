"""The published protocol: InsightFace .bin sets read without running their pickle, InsightFace's
10-fold threshold sweep by hand, and a .bin built from LFW scored like the end-to-end pipeline."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from facebench.cli import app
from facebench.datasets.insightface_bin import (
    UnsafePickleError,
    read_verification_bin,
    write_verification_bin,
)
from facebench.errors import FacebenchError
from facebench.metrics.verification import insightface_kfold_accuracy


class _RunsCode:
    """A payload: unpickling it calls ``os.system`` (what ``pickle.load`` of a crafted .bin does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_bin_that_carries_code_is_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = tmp_path / "lfw.bin"
    payload.write_bytes(pickle.dumps(([b"x", b"y"], [True], _RunsCode(marker)), protocol=4))
    pickle.loads(pickle.dumps(_RunsCode(tmp_path / "control")))  # what plain pickle.load would do
    assert (tmp_path / "control").exists()
    with pytest.raises(
        UnsafePickleError,
        match=r"refused to read it: the pickle names a Python object \((posix|os)\.system\)",
    ):
        read_verification_bin(payload)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content",
    [
        ([np.bool_(True)], [True]),  # even a harmless global is one: the format needs none
        (eval, "1"),
        ([b"a", b"b"], [np.array([1])]),
    ],
)
def test_any_global_is_refused(tmp_path, content):
    path = tmp_path / "x.bin"
    path.write_bytes(pickle.dumps(content, protocol=4))
    with pytest.raises(UnsafePickleError):
        read_verification_bin(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a pickle at all", "unreadable pickle"),
        (pickle.dumps(([b"a", b"b", b"c"], [True])), "3 images for 1 pairs"),
        (pickle.dumps(([b"a", "b"], [True])), "list of encoded images"),
        (pickle.dumps(([b"a", b"b"], ["yes"])), "list of bools"),
        (pickle.dumps({"images": []}), "expected a pickled"),
    ],
)
def test_a_malformed_bin_gets_an_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "odd.bin"
    path.write_bytes(content)
    with pytest.raises(FacebenchError, match=message) as raised:
        read_verification_bin(path)
    assert str(path) in str(raised.value)


def test_a_written_bin_reads_back_with_insightfaces_folds(tmp_path):
    ramp = np.broadcast_to(np.linspace(0, 255, 112).astype(np.uint8)[None, :, None], (112, 112, 3))
    faces = [(np.ascontiguousarray(ramp), np.ascontiguousarray(255 - ramp))] * 13
    labels = [bool(i % 2) for i in range(13)]
    path = write_verification_bin(tmp_path / "t.bin", faces, labels)
    assert pickle.loads(path.read_bytes())[1] == labels  # InsightFace's own reader sees the same file
    dataset = read_verification_bin(path)
    assert len(dataset) == 13 and len(dataset.images) == 26 and dataset.name == "t"
    np.testing.assert_array_equal(dataset.is_same, labels)
    # KFold(10, shuffle=False) on 13 pairs: the first 3 folds hold 2 pairs, the rest 1
    np.testing.assert_array_equal(np.bincount(dataset.fold), [2, 2, 2, 1, 1, 1, 1, 1, 1, 1])
    assert dataset.decode(0).shape == (112, 112, 3)
    assert np.abs(dataset.decode(1).astype(int) - faces[0][1]).max() <= 3  # JPEG 95 of a smooth ramp


def test_insightface_sweep_by_hand():
    # unit vectors at angles θ: squared distance 2 − 2cos θ
    def pair(angle):
        return np.array([1.0, 0.0]), np.array([np.cos(angle), np.sin(angle)])

    angles = [0.2, 0.4, 1.2, 1.5, 0.3, 1.0, 1.6, 0.9]
    is_same = np.array([1, 1, 0, 0, 1, 0, 0, 1], bool)
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    first, second = (np.stack(v) for v in zip(*(pair(a) for a in angles), strict=True))
    result = insightface_kfold_accuracy(first, second, is_same, folds)
    distance = 2 - 2 * np.cos(angles)  # 0.040 0.158 1.275 1.859 | 0.089 0.919 2.058 0.758
    # fold 0 is scored with fold 1's threshold: the first grid value t with all 4 right: d < t for
    # the same pairs (0.089, 0.758) and not for the others (0.919, 2.058): t = 0.76
    # fold 1 uses fold 0's: the smallest t above 0.158 that keeps 1.275 out: t = 0.16;
    # then fold 1's 0.758 pair (same) is called different: 3 of 4
    np.testing.assert_allclose(result.fold_threshold, [0.76, 0.16])
    np.testing.assert_allclose(result.fold_accuracy, [1.0, 0.75])
    assert distance[7] > 0.16 and distance[0] < 0.76


def test_a_bin_built_from_lfw_scores_like_the_end_to_end_pipeline(lfw_root, tmp_path):
    """The same YuNet-aligned faces, JPEG-encoded into a .bin: the standard protocol's accuracy is
    the end-to-end one with flip (other threshold grid, JPEG 95), and MobileFaceNet gets its template."""
    from facebench.align.transform import align_face
    from facebench.bench.engine import run_benchmark
    from facebench.bench.executor import central_face
    from facebench.bench.standard import _to_template
    from facebench.datasets import load_lfw_pairs
    from facebench.detectors import create as create_detector
    from facebench.image import load_image

    pairs = load_lfw_pairs(lfw_root.parent)
    pairs = pairs.subset(pairs.fold == 0)
    pairs = pairs.subset(np.arange(len(pairs)) % 3 == 0)  # 200 pairs, both labels
    detector = create_detector("yunet", threads=2)
    aligned = {}
    for path in pairs.images:
        rgb = load_image(path)
        face = central_face(detector.detect_faces(rgb), rgb.shape[1], rgb.shape[0])  # the engine's choice
        assert face is not None, path
        aligned[path] = align_face(rgb, np.asarray(face.box), face.landmarks, "arcface_112")
    bin_path = write_verification_bin(
        tmp_path / "lfw200.bin",
        [(aligned[a], aligned[b]) for a, b in zip(pairs.first, pairs.second, strict=True)],
        pairs.is_same.tolist(),
    )
    recognizer = "edgeface_xs_dequant@onnx"
    command = [
        "benchmark",
        "--dataset",
        f"bin:{bin_path}",
        "--recognizers",
        recognizer,
        "--out",
        str(tmp_path / "std"),
    ]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    from facebench.bench.results import load_results

    standard = load_results(tmp_path / "std").runs[0]
    assert standard.pipeline == "lfw200.bin+standard+edgeface_xs_dequant@onnx" and standard.flip
    assert standard.pairs == 200 and len(standard.fold_accuracy) == 10
    from facebench.report import scores_file

    first_row = scores_file(tmp_path / "std", standard.pipeline).read_text().splitlines()[1].split(",")
    assert first_row[2:4] == ["lfw200.bin#0", "lfw200.bin#1"] and first_row[7] in ("same", "different")
    from facebench.datasets.lfw import VerificationPairs

    # the end-to-end pipeline scored on the same 10 contiguous folds the .bin gets
    pairs = VerificationPairs(pairs.first, pairs.second, pairs.is_same, read_verification_bin(bin_path).fold)
    end_to_end = run_benchmark(
        pairs, tmp_path / "e2e", dataset="lfw", detectors=("yunet",), recognizers=(recognizer,),
        flip=True, measure_cost=False, show_progress=False,
    ).runs[0]  # fmt: skip
    from facebench.bench.standard import run_standard_protocol

    stored = run_standard_protocol(
        read_verification_bin(bin_path), tmp_path / "std", recognizers=(recognizer,)
    )
    assert stored.runs[0].accuracy_mean == standard.accuracy_mean
    # the same faces score the same (JPEG 95 moves a cosine by a few thousandths) ...
    assert np.abs(stored.runs[0].scores - end_to_end.scores).max() < 0.03
    assert abs(standard.auc - end_to_end.auc) <= 0.003
    # ... and accuracy differs only by the threshold grid (InsightFace's 0.01 steps of d²) on
    # 20-pair folds: a few pairs of 200
    assert standard.accuracy_mean > 0.95
    assert abs(standard.accuracy_mean - end_to_end.accuracy_mean) <= 0.025

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0
    rerun = load_results(tmp_path / "std").runs[0]
    assert rerun.accuracy_mean == standard.accuracy_mean and rerun.embed_latency.source == "none"  # stored

    face = aligned[pairs.images[0]]
    np.testing.assert_array_equal(_to_template(face, "sphereface_112x96")[:, 1:-1], face[:, 9:103])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--protocol", "standard"], "give --dataset bin:<file>"),
        (["--dataset", "bin:/nonexistent.bin"], "no such file"),
        (["--dataset", "bin:/nonexistent.bin", "--protocol", "end-to-end"], "runs with --protocol standard"),
        (["--dataset", "bin:/x.bin", "--detectors", "yunet"], "no detection or alignment stage"),
        (["--protocol", "sideways"], "end-to-end or standard"),
    ],
)
def test_protocol_mistakes_are_refused_in_one_line(tmp_path, arguments, message):
    result = CliRunner().invoke(app, ["benchmark", *arguments, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
