"""Hostile and careless input: every bad file is named with its reason, nothing else is lost.

The corpus (tests/hostile_corpus.py) goes through `load_image`, `facebench detect`, `facebench
embed` and `facebench benchmark --dataset csv:`; the CLI runs as a separate process with its
capabilities dropped when the tests run as root, so a mode-000 file really is unreadable.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import SHARED
from facebench import ImageError, load_image
from facebench.atomic import atomic_write_text
from facebench.bench.store import ResultStore, StoreCorruptError
from facebench.cli import app
from facebench.image import display_name
from hostile_corpus import build_corpus

FACEBENCH = str(Path(sys.executable).with_name("facebench"))


def _env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: the real model store, whatever earlier tests set."""
    return {**os.environ, "FACEBENCH_HOME": str(SHARED), **extra}


def _run_cli(arguments: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``facebench ARGUMENTS`` in its own process, unprivileged, with the real model store."""
    return subprocess.run(
        _unprivileged([FACEBENCH, *arguments]),
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        env=_env(**env),
        check=False,
    )


def _unprivileged(command: list[str]) -> list[str]:
    """``command`` without the capabilities that let root read a mode-000 file."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", *command]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, lfw_root):
    folder = tmp_path_factory.mktemp("hostile")
    face = lfw_root / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg"
    bad, good = build_corpus(folder, face)
    assert len(bad) >= 25
    return bad, good


def _lines_naming(text: str, path: Path) -> list[str]:
    name = display_name(path)
    return [line for line in text.splitlines() if name in line]


def _assert_every_case_named(output: str, bad, good_named_in: str | None = None) -> None:
    for case in bad:
        lines = _lines_naming(output, case.path)
        assert lines, f"{display_name(case.path)} is not named in the output:\n{output}"
        assert any(case.reason.lower() in line.lower() for line in lines), (case.reason, lines)


def test_load_image_refuses_every_hostile_file_by_name(corpus):
    bad, good = corpus
    for case in bad:
        if case.path.name == "unreadable.jpg" and os.geteuid() == 0:
            continue  # root reads mode-000 files; the CLI tests below drop the capability
        with pytest.raises(ImageError) as caught:
            load_image(case.path)
        assert case.reason.lower() in caught.value.reason.lower(), (case.path, caught.value.reason)
        assert display_name(case.path) in str(caught.value)
    for case in good:
        rgb = load_image(case.path)
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3


def test_unknown_formats_never_reach_other_decoders(tmp_path, monkeypatch):
    """An EPS named .jpg is refused by content; Pillow's EPS plugin (Ghostscript) is never asked."""
    from PIL import EpsImagePlugin

    called = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: called.append(1))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: called.append(2))
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    with pytest.raises(ImageError, match="EPS files are not accepted"):
        load_image(path)
    assert called == []


def test_detect_cli_names_every_hostile_file_and_processes_the_rest(corpus, tmp_path):
    bad, good = corpus
    paths = [str(case.path) for case in bad + good]
    result = _run_cli(["detect", "-d", "yunet", "--json", *paths], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    _assert_every_case_named(result.stderr, bad)
    assert f"{len(bad)} of {len(paths)} image(s) could not be read" in result.stderr
    processed = json.loads(result.stdout)
    assert [r["image"] for r in processed] == [display_name(case.path) for case in good]
    faces = {r["image"]: len(r["faces"]) for r in processed}
    assert faces[display_name(good[0].path)] >= 1 and faces[display_name(good[3].path)] >= 1


def test_embed_cli_names_every_hostile_file_and_keeps_one_row_each(corpus, tmp_path):
    bad, good = corpus
    paths = [str(case.path) for case in bad + good]
    out = tmp_path / "emb.npy"
    result = _run_cli(["embed", "-d", "yunet", "-r", "edgeface_xs_q", "--out", str(out), *paths], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    _assert_every_case_named(result.stderr, bad)
    embeddings = np.load(out)
    assert embeddings.shape == (len(paths), 512)
    assert np.isnan(embeddings[: len(bad)]).all()
    assert np.isfinite(embeddings[len(bad)]).all()  # the face after all the bad files
    with (tmp_path / "emb.csv").open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        index = list(csv.reader(handle))  # names with newlines in them are quoted
    assert len(index) == len(paths) + 1 and index[len(bad) + 1][2] == "ok"  # a row per file, in order
    assert [row[1] for row in index[1:]] == paths


def test_benchmark_csv_with_hostile_files_finishes_and_names_each(corpus, tmp_path, lfw_root):
    """A bad image sorts first (cost probe sample), and several sit among the example images."""
    bad, good = corpus
    face, other = good[0].path, lfw_root / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    same = sorted((lfw_root / "Aaron_Peirsol").glob("*.jpg"))
    rows = [(case.path, face, 0, index % 2) for index, case in enumerate(bad) if case.in_csv]
    rows += [(same[i], same[i + 1], 1, i % 2) for i in range(3)] + [
        (face, other, 0, 0),
        (face, same[0], 0, 1),
    ]
    listing = tmp_path / "pairs.csv"
    with listing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path1", "path2", "label", "fold"])
        writer.writerows(rows)
    out = tmp_path / "run"
    arguments = ["benchmark", "--dataset", f"csv:{listing}", "--detectors", "yunet", "--recognizers"]
    result = _run_cli([*arguments, "edgeface_xs_q", "--out", str(out)], tmp_path, FACEBENCH_THREADS="1")
    assert result.returncode == 0, result.stderr[-3000:]
    in_csv = [case for case in bad if case.in_csv]
    _assert_every_case_named(result.stderr, in_csv)
    payload = json.loads((out / "results.json").read_text())
    named = {failure["image"]: failure["reason"] for failure in payload["unreadable"]}
    for case in in_csv:
        assert case.reason.lower() in named[display_name(case.path)].lower()
    run = payload["runs"][0]
    assert run["failures"]["unreadable"] == len(in_csv) and run["pairs"] == len(rows)
    assert run["cost"]["detector"]["size_mb"] > 0  # the cost probes ran on a readable image
    assert (out / "aligned_examples" / "yunet.png").is_file() and (out / "report.html").is_file()
    with (out / "errors.csv").open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(in_csv)


# -- the result store ---------------------------------------------------------------------------
_CONCURRENT = r"""
import sys
from pathlib import Path
from facebench.bench.engine import run_benchmark
from facebench.datasets import load_pairs_csv
pairs = load_pairs_csv(sys.argv[1])
from facebench.report import write_all
result = run_benchmark(pairs, Path(sys.argv[2]), dataset="csv", detectors=("yunet",),
                       recognizers=("edgeface_xxs_q",), show_progress=False, measure_cost=False)
write_all(result, Path(sys.argv[2]), pairs=pairs, charts=False)
print(result.runs[0].accuracy_mean, result.runs[0].auc)
"""


def test_two_benchmarks_into_one_folder_both_finish_with_the_same_numbers(tmp_path, lfw_root):
    people = sorted(p for p in lfw_root.iterdir() if p.is_dir() and len(list(p.glob("*.jpg"))) >= 2)[:150]
    rows = [(sorted(p.glob("*.jpg"))[0], sorted(p.glob("*.jpg"))[1], 1, i % 2) for i, p in enumerate(people)]
    rows += [
        (sorted(a.glob("*.jpg"))[0], sorted(b.glob("*.jpg"))[-1], 0, i % 2)
        for i, (a, b) in enumerate(itertools.pairwise(people))
    ]
    listing = tmp_path / "pairs.csv"
    with listing.open("w", newline="") as handle:
        csv.writer(handle).writerows([("path1", "path2", "label", "fold"), *rows])
    out = tmp_path / "shared_out"
    env = _env(FACEBENCH_THREADS="1")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, str(listing), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-2000:]
    assert outputs[0][0] == outputs[1][0]
    # the store both wrote is intact and complete: a third run computes nothing and agrees
    with ResultStore(out) as store:
        count = store.connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert count == 2 * len({str(p) for row in rows for p in row[:2]})
    again = subprocess.run(
        [sys.executable, "-c", _CONCURRENT, str(listing), str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert again.stdout == outputs[0][0]
    json.loads((out / "results.json").read_text())  # complete JSON, whichever run wrote it last


def _store_with_rows(folder: Path) -> Path:
    with ResultStore(folder, commit_every=1) as store:
        config = store.register({"stage": "detect", "model": "x"})
        for index in range(50):
            store.put("detect", config, f"image{index}", (np.arange(18, dtype=np.float32) + index).tobytes())
    return folder / "cache.sqlite"


def test_a_store_value_changed_in_place_is_detected(tmp_path):
    path = _store_with_rows(tmp_path)
    connection = sqlite3.connect(path)
    connection.execute(
        "UPDATE results SET value = ? WHERE image = 'image7'", (np.zeros(18, np.float32).tobytes(),)
    )
    connection.commit()
    connection.close()
    with (
        ResultStore(tmp_path) as store,
        pytest.raises(StoreCorruptError, match=r"image7 was changed") as caught,
    ):
        config = store.register({"stage": "detect", "model": "x"})
        store.get_many("detect", config, [f"image{i}" for i in range(50)])
    assert str(path) in str(caught.value) and "Delete it" in str(caught.value)


@pytest.mark.parametrize("damage", ["truncate", "garble", "not_sqlite"])
def test_a_damaged_store_is_named_not_a_traceback(tmp_path, damage):
    path = _store_with_rows(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2 + 100]
    elif damage == "garble":
        for offset in range(4096, len(data), 97):
            data[offset] ^= 0x5A
    else:
        data = bytearray(b"this is a text file, not a database\n" * 200)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError) as caught, ResultStore(tmp_path) as store:
        config = store.register({"stage": "detect", "model": "x"})
        store.get_many("detect", config, [f"image{i}" for i in range(50)])
    assert str(path) in str(caught.value)


def test_benchmark_on_a_corrupt_store_says_which_file_to_delete(tmp_path, lfw_root):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "cache.sqlite").write_bytes(b"garbage" * 1000)
    result = CliRunner().invoke(
        app,
        [
            "benchmark",
            "--folds",
            "1",
            "--detectors",
            "yunet",
            "--recognizers",
            "edgeface_xxs_q",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1 and "cache.sqlite is corrupt" in result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )


def test_output_files_are_replaced_atomically(tmp_path):
    target = tmp_path / "results.json"
    atomic_write_text(target, '{"runs": []}')
    from facebench.atomic import atomic_open

    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write('{"runs": [{"half')
        raise RuntimeError("killed mid-write")
    assert target.read_text() == '{"runs": []}'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


# -- CLI input, checked before any work ---------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--detectors", "yunet,yunett"], "got 'yunett'"),
        (["--recognizers", "edgeface_xs_q,nope"], "got 'nope'"),
        (["--recognizers", "ckpt:/nonexistent/best.pt"], "no checkpoint file"),
        (["--folds", "0"], "folds 1..10"),
        (["--folds", "11"], "folds 1..10"),
        (["--folds", "x"], "comma-separated fold numbers"),
        (["--align", "crooked"], "got 'crooked'"),
        (["--recognizers", "edgeface_xs_q@onnx"], "runs on torch, not 'onnx'"),
        (["--degrade", "sharpen:3"], "unknown step 'sharpen'"),
        (["--degrade", "lowres:1"], "must be greater than 1"),
        (["--degrade", "lowres:4:nearest"], "not 'nearest'"),
        (["--degrade", "lowres:4", "--restore", "fsrcnn_x5"], "got 'fsrcnn_x5'"),
        (["--restore", "bicubic"], "--restore brings back crops a lowres step shrank"),
        (["--threads", "0"], "at least 1"),
    ],
)
def test_benchmark_refuses_bad_input_before_any_work(tmp_path, arguments, message, monkeypatch):
    import facebench.bench.engine as engine

    monkeypatch.setattr(engine, "run_jobs", lambda *a, **k: pytest.fail("work started"))
    result = CliRunner().invoke(app, ["benchmark", *arguments, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_unwritable_out_and_save_are_refused_up_front(tmp_path, lfw_root):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["benchmark", "--folds", "1", "--out", str(blocker / "sub")])
    assert result.exit_code == 1 and "--out" in result.output and "not writable" in result.output
    face = str(lfw_root / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg")
    result = CliRunner().invoke(app, ["detect", face, "--save", str(tmp_path / "drawn.xyz")])
    assert result.exit_code == 1 and "cannot write .xyz" in result.output
    result = CliRunner().invoke(app, ["detect", face, "--save", str(blocker / "drawn.jpg")])
    assert result.exit_code == 1 and "not writable" in result.output
    result = CliRunner().invoke(app, ["embed", face, "--out", str(tmp_path / "emb.txt")])
    assert result.exit_code == 1 and "*.npy" in result.output


def test_pair_csv_problems_name_the_file_and_line(tmp_path, lfw_root):
    from facebench.datasets import load_pairs_csv
    from facebench.errors import FacebenchError

    face = lfw_root / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg"
    listing = tmp_path / "pairs.csv"
    listing.write_bytes(f"\ufeffpath1,path2,label,fold\n{face},{face},1,0\n".encode())
    assert len(load_pairs_csv(listing)) == 1  # a byte-order mark is fine
    listing.write_text(f"path1,path2,label,fold\n{face},{face},1,0\n{face},{face}\n")
    with pytest.raises(FacebenchError, match=r"pairs\.csv, line 3: no value for label, fold"):
        load_pairs_csv(listing)
    listing.write_bytes(f"path1,path2,label,fold\ncaf\xe9.jpg,{face},1,0\n".encode("latin-1"))
    with pytest.raises(FacebenchError, match=r"pairs\.csv is not UTF-8 text \(byte 0xe9"):
        load_pairs_csv(listing)
    listing.write_text(f"path1,path2,label,fold\n{face},{tmp_path / 'missing.jpg'},0,0\n")
    assert len(load_pairs_csv(listing)) == 1  # a missing image is the benchmark's to count, not fatal here


def test_a_checkpoint_refused_by_weights_only_is_one_line(tmp_path):
    import torch

    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    path = tmp_path / "best.pt"
    torch.save({"state_dict": {}, "payload": Payload()}, path)
    from facebench.zoo.hashing import sha256_file

    path.with_name("best.pt.sha256").write_text(f"{sha256_file(path)}  best.pt\n")
    result = CliRunner().invoke(
        app, ["embed", str(path), "-r", f"ckpt:{path}", "--out", str(tmp_path / "e.npy")]
    )
    assert result.exit_code == 1
    assert "does not execute code from model files" in result.output
    assert "weights_only=False" not in result.output and "Traceback" not in result.output


# -- training configs ---------------------------------------------------------------------------
def test_a_bad_training_config_is_refused_whole_before_any_work(tmp_path):
    config = tmp_path / "bad.yaml"
    previous = tmp_path / "run"
    previous.mkdir()
    (previous / "config.yaml").write_text("a finished run's record\n")
    config.write_text(
        f"output: {previous}\n"
        "data: {root: /nonexistent, colour: red}\n"
        "optim: {lr: abc, batch_size: -8, steps: ten}\n"
        "head: {loss: cross}\n"
    )
    result = CliRunner().invoke(app, ["train", "recognition", "-c", str(config)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for expected in (
        "5 invalid setting(s)",
        "data.colour: unknown key; known: source, root",
        "optim.lr: Input should be a valid number",
        "optim.batch_size: Input should be greater than 0 (got -8)",
        "optim.steps: Input should be a valid integer",
        "head.loss: Input should be 'ce' or 'focal' (got 'cross')",
    ):
        assert expected in result.output, (expected, result.output)
    assert (previous / "config.yaml").read_text() == "a finished run's record\n"


def test_every_shipped_config_still_validates_and_head_types_match_the_presets():
    import typing

    from facebench.train.config import HeadType, load_config
    from facebench.train.detection import DetectionConfig
    from facebench.train.heads import MARGIN_PRESETS
    from facebench.train.recognition import RecognitionConfig

    assert set(typing.get_args(HeadType)) == {*MARGIN_PRESETS, "adaface"}
    for path in sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml")):
        cls = DetectionConfig if "wider" in path.name or "retinaface" in path.name else RecognitionConfig
        load_config(cls, path)


def test_a_run_with_other_settings_keeps_the_earlier_record(tmp_path, monkeypatch):
    from facebench.train import common
    from facebench.train.recognition import RecognitionConfig

    monkeypatch.setattr(
        "facebench.train.distributed.setup", lambda device: type("C", (), {"is_main": True})()
    )
    first = RecognitionConfig(output=str(tmp_path), seed=1)
    common.start_run(first)
    record = (tmp_path / "config.yaml").read_text()
    common.start_run(first)  # a resume with the same settings rewrites nothing
    assert not list(tmp_path.glob("config.*.yaml"))
    common.start_run(RecognitionConfig(output=str(tmp_path), seed=2))
    assert (tmp_path / "config.1.yaml").read_text() == record
    assert "seed: 2" in (tmp_path / "config.yaml").read_text()
