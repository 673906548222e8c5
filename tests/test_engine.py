"""The benchmark engine on one LFW fold: outputs, caching, and resuming a killed run."""

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

REQUIRED = {
    "dataset",
    "detector",
    "align",
    "recognizer",
    "accuracy_mean",
    "accuracy_std",
    "auc",
    "eer",
    "tar_at_far",
    "success_rate",
    "detect_ms_p50",
    "embed_ms_p50",
    "accuracy_ci95",
}
ARGS = ["benchmark", "--detectors", "yunet", "--recognizers", "mobilefacenet_tflite", "--folds", "2"]


def _run(out, *extra, wait=True):
    command = [sys.executable, "-m", "facebench.cli", *ARGS, "--out", str(out), *extra]
    if not wait:  # nobody reads its output: never let a full pipe block it
        return subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
        )
    finished = subprocess.run(command, capture_output=True, timeout=600, env=dict(os.environ), check=False)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    return finished


def _metrics(out):
    runs = json.loads((out / "results.json").read_text())["runs"]
    keep = (
        "pipeline",
        "accuracy_mean",
        "accuracy_std",
        "accuracy_ci95",
        "auc",
        "eer",
        "tar_at_far",
        "success_rate",
    )
    return [{k: run[k] for k in keep} for run in runs]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    _run(out, "--align", "similarity,none")
    return out


def test_outputs_hold_every_required_field(clean_run):
    payload = json.loads((clean_run / "results.json").read_text())
    assert len(payload["runs"]) == 2 and payload["environment"]["versions"]["onnxruntime"]
    for run in payload["runs"]:
        assert set(run) >= REQUIRED, REQUIRED - set(run)
        assert 0.9 < run["accuracy_mean"] <= 1.0 and run["pairs"] == 600
        low, high = run["accuracy_ci95"]
        assert low < run["accuracy_mean"] < high
    assert payload["comparisons"][0]["p_value"] < 0.05  # similarity vs none on the same pairs
    rows = list(csv.DictReader((clean_run / "results.csv").open()))
    assert len(rows) == 2 and "tar_at_far_0.001" in rows[0]
    scores = list(csv.DictReader((clean_run / "scores" / "yunet+similarity+mobilefacenet_tflite.csv").open()))
    assert len(scores) == 600 and set(scores[0]) == {
        "pair",
        "fold",
        "path1",
        "path2",
        "label",
        "score",
        "threshold",
        "decision",
        "correct",
    }
    assert "McNemar" in (clean_run / "README.md").read_text()


#: run the CLI with the engine's detection and embedding entry points, and weight loading, made to fail
_NOTHING_COMPUTED = """
import sys
from facebench.detectors.base import Detector
from facebench.recognizers.base import Recognizer
def refuse(self, *args, **kwargs):
    raise AssertionError(f"{type(self).__name__} ran or read its weights on a warm re-run")
Detector.detect_decoded = Detector.load = refuse
Recognizer.embed_aligned = Recognizer.load = refuse
from facebench.cli import main
sys.argv = ["facebench", *sys.argv[1:]]
main()
"""


def test_warm_rerun_reads_the_cache_and_gives_the_same_numbers(clean_run):
    """A re-run computes no detection and no embedding, and reads no weights: planning, store
    lookups, scoring and the report need only each model's description (speed: benchmarks/)."""
    before = _metrics(clean_run)
    command = [
        sys.executable,
        "-c",
        _NOTHING_COMPUTED,
        *ARGS,
        "--out",
        str(clean_run),
        "--align",
        "similarity,none",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert _metrics(clean_run) == before


def test_a_killed_run_resumes_to_the_same_numbers(clean_run, tmp_path):
    out = tmp_path / "killed"
    process = _run(out, "--align", "similarity,none", wait=False)
    deadline = time.time() + 300
    committed = 0
    while time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
        if (out / "cache.sqlite").exists():
            try:
                with sqlite3.connect(out / "cache.sqlite", timeout=1) as connection:
                    committed = connection.execute(
                        "SELECT COUNT(*) FROM results WHERE stage='embed'"
                    ).fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if committed >= 200:
                break
    assert process.poll() is None, "the run finished before it could be killed"
    process.kill()
    process.wait()
    assert not (out / "results.json").exists()
    _run(out, "--align", "similarity,none")
    assert _metrics(out) == _metrics(clean_run)


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=8000",
]


def test_report_and_charts_render_in_headless_chromium(clean_run, tmp_path):
    import re
    import shutil

    for name in ("accuracy_vs_latency.png", "roc.png", "eer.png", "success_rate.png", "memory.png"):
        assert (clean_run / "charts" / name).stat().st_size > 5_000
    assert (clean_run / "aligned_examples" / "yunet.png").stat().st_size > 5_000
    report = clean_run / "report.html"
    page = report.read_text()
    assert not re.search(r"<script[^>]+src=", page), "the report must not load scripts from elsewhere"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is required for this test (the README's setup command installs it)"
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert result.stdout.count("main-svg") >= 2, "plotly did not draw its figures"
    assert "yunet+similarity+mobilefacenet_tflite" in result.stdout


def test_template_names_select_similarity_alignment_onto_the_recognizers_own_template(tmp_path):
    from facebench.bench.engine import run_benchmark
    from facebench.datasets import load_lfw_pairs

    pairs = load_lfw_pairs()
    keep = np.zeros(len(pairs), bool)
    keep[np.r_[0:20, 300:320]] = True  # fold 1's first 20 matched and 20 mismatched pairs
    subset = pairs.subset(keep)
    result = run_benchmark(
        subset,
        tmp_path,
        dataset="lfw",
        detectors=("yunet",),
        recognizers=("mobilefacenet_tflite",),
        align=("arcface_112", "sphereface_112x96"),
        measure_cost=False,
        show_progress=False,
    )
    assert [run.pipeline for run in result.runs] == ["yunet+sphereface_112x96+mobilefacenet_tflite"]
    assert "trained on the sphereface_112x96 template" in result.skipped[0].reason


def test_ctrl_c_says_what_was_kept_and_how_to_resume(tmp_path):
    import signal

    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "facebench.cli", *ARGS, "--out", str(out)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "cache.sqlite").exists():
        time.sleep(0.2)
    time.sleep(3)  # into the run
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    text = stderr.decode()
    if process.returncode == 0:  # finished before the signal: nothing to check on this machine
        pytest.fail("the run finished in 3 s; interrupt earlier")
    assert process.returncode == 130, text[-2000:]
    assert f"the work finished so far is kept ({out}/cache.sqlite)" in text and "again to resume" in text
    assert "Traceback" not in text
    resumed = _run(out)
    assert b"Traceback" not in resumed.stderr
