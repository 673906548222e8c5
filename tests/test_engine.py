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


def _chromium_driver(tmp_path):
    """Debian's chromium driven by its chromedriver through selenium (the README's setup installs all three)."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver")
    assert driver_path, (
        "Debian's chromium-driver is required for this test (the README's setup command installs it)"
    )
    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,2000",
    ):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_report_renders_and_responds_in_real_chromium(clean_run, tmp_path):
    import re

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    for name in ("accuracy_vs_latency.png", "roc.png", "eer.png", "success_rate.png", "memory.png"):
        assert (clean_run / "charts" / name).stat().st_size > 5_000
    assert (clean_run / "aligned_examples" / "yunet.png").stat().st_size > 5_000
    report = clean_run / "report.html"
    page = report.read_text()
    assert not re.search(r"<(script|img|link)[^>]+(src|href)=\"?(https?:|//)", page), (
        "the report loads nothing from elsewhere"
    )
    driver = _chromium_driver(tmp_path)
    try:
        driver.get(report.as_uri())
        WebDriverWait(driver, 90).until(
            lambda d: (
                d.execute_script("return document.body.dataset.charts") == "ready"
                or d.find_element(By.ID, "charts-status").text
            )
        )
        assert driver.find_element(By.ID, "charts-status").text == ""
        assert driver.execute_script("return document.querySelectorAll('.main-svg').length") >= 4
        # the decision section answers the questions, with the paired test behind each
        recommendations = driver.find_element(By.ID, "recommendations").text
        assert "most accurate" in recommendations and "McNemar" in recommendations
        assert "ship at FAR 0.001" in recommendations
        assert "single fold" in driver.find_element(By.ID, "warnings").text  # this run scores one fold

        # sorting: a click on the accuracy header orders the rows by it
        headers = driver.find_elements(By.CSS_SELECTOR, "#pipelines th")
        column = next(i for i, h in enumerate(headers) if h.text.startswith("accuracy"))

        def accuracy_column():
            rows = driver.find_elements(By.CSS_SELECTOR, "#pipelines tbody tr")
            return [
                float(r.find_elements(By.TAG_NAME, "td")[column].get_attribute("data-value")) for r in rows
            ]

        headers[column].click()
        assert accuracy_column() == sorted(accuracy_column())
        headers[column].click()
        assert accuracy_column() == sorted(accuracy_column(), reverse=True)

        # filtering hides the rows that do not match
        driver.find_element(By.ID, "filter").send_keys("+none+")
        visible = [
            r for r in driver.find_elements(By.CSS_SELECTOR, "#pipelines tbody tr") if r.is_displayed()
        ]
        assert [r.find_element(By.TAG_NAME, "td").text for r in visible] == [
            "yunet+none+mobilefacenet_tflite"
        ]

        # the metric selector and the trade-off axes change what is drawn
        def bar_values():
            return driver.execute_script("return Array.from(document.getElementById('bars').data[0].x)")

        before = bar_values()
        Select(driver.find_element(By.ID, "metric")).select_by_value("eer")
        assert bar_values() != before
        assert "EER" in driver.execute_script("return document.getElementById('bars').layout.title.text")
        Select(driver.find_element(By.ID, "y-axis")).select_by_value("eer")
        Select(driver.find_element(By.ID, "x-axis")).select_by_value("size_mb")
        title = driver.execute_script("return document.getElementById('tradeoff').layout.title.text")
        assert "EER" in title and "size" in title

        # error analysis: aligned thumbnails load; another pipeline shows its own pairs
        images = driver.execute_script(
            "return Array.from(document.querySelectorAll('.evidence img')).map(i => [i.naturalWidth, i.alt])"
        )
        assert len(images) >= 2 * 2 * 2 * 4 and all(width > 40 for width, _ in images), images[:4]
        assert all(alt.endswith(".jpg") for _, alt in images)
        shown = [e for e in driver.find_elements(By.CSS_SELECTOR, ".evidence") if e.is_displayed()]
        assert len(shown) == 1
        chooser = Select(driver.find_element(By.ID, "evidence-pipeline"))
        chooser.select_by_index(1)
        now = [e for e in driver.find_elements(By.CSS_SELECTOR, ".evidence") if e.is_displayed()]
        assert len(now) == 1 and now[0].get_attribute("data-pipeline") != shown[0].get_attribute(
            "data-pipeline"
        )

        assert "p=" in driver.find_element(By.ID, "mcnemar").text
        assert "commit" in driver.find_element(By.ID, "environment").text
        console = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
        assert console == [], console
    finally:
        driver.quit()
    assert report.stat().st_size < 2_500_000  # plotly.js (gzip-packed) is ~1.96 MB of it


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


def test_recommendations_answer_with_the_paired_test_and_a_usable_threshold(clean_run):
    from facebench.bench.results import load_results
    from facebench.report import scores_file
    from facebench.report.analysis import read_pair_scores, recommendations, warnings

    result = load_results(clean_run)
    scores = {run.pipeline: read_pair_scores(scores_file(clean_run, run.pipeline)) for run in result.runs}
    answers = {r.question: r for r in recommendations(result, scores, far=1e-2)}
    best = max(result.runs, key=lambda r: r.accuracy_mean)
    assert answers["most accurate"].pipeline == best.pipeline
    assert answers["most accurate"].significant is True  # similarity beats no alignment on these pairs
    ship = answers["ship at FAR 0.01"]
    (point,) = scores[ship.pipeline].operating_points((1e-2,))
    pairs = scores[ship.pipeline]
    accepted = np.nan_to_num(pairs.scores, nan=-np.inf) >= point.threshold
    assert (accepted & ~pairs.is_same).sum() <= 0.01 * pairs.impostors  # one fold: the test pairs themselves
    assert f"{point.threshold:.4f}" in ship.text and "ms per image" in ship.text
    # 300 impostors cannot measure 1e-3, and the report says so instead of inventing a threshold
    (unmeasurable,) = [r for r in recommendations(result, scores) if r.question.startswith("ship")]
    assert unmeasurable.pipeline is None and "not measurable" in unmeasurable.text
    assert any("single fold" in w for w in warnings(result, scores))
