"""Engine v2: the store reuses a row only for the same bytes, weights, options and code; latencies
only in the environment that measured them; failures are data with a cause; results are typed."""

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from facebench.bench.engine import run_benchmark
from facebench.bench.executor import LocalExecutor
from facebench.bench.plan import ModelPool
from facebench.bench.records import DetectionRecord, EmbeddingRecord, RecordError, Status
from facebench.bench.results import BenchmarkResult, load_results
from facebench.datasets import load_lfw_pairs, load_pairs_csv
from facebench.image import load_image
from facebench.report import write_all
from facebench.types import Face


class CountingExecutor(LocalExecutor):
    """The local executor, recording the images of each call (the first: the store's misses;
    a second one re-times a sample when latencies were not measured in this environment)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.calls: list[list[Path]] = []

    @property
    def computed(self) -> list[Path]:
        return self.calls[0] if self.calls else []

    def run_jobs(self, jobs, items):
        self.calls.append([item.path for job_items in items for item in job_items])
        yield from super().run_jobs(jobs, items)


@pytest.fixture
def small_pairs(tmp_path, lfw_root):
    """12 LFW pairs over copies of their images (so a test may rewrite one), as a pairs CSV."""
    pairs = load_lfw_pairs()
    keep = np.zeros(len(pairs), bool)
    keep[np.r_[0:6, 300:306]] = True
    subset = pairs.subset(keep)
    folder = tmp_path / "images"
    folder.mkdir()
    copies = {}
    for path in subset.images:
        copies[path] = folder / f"{path.parent.name}__{path.name}"
        shutil.copy2(path, copies[path])
    listing = tmp_path / "pairs.csv"
    rows = ["path1,path2,label,fold"]
    for a, b, same, fold in zip(subset.first, subset.second, subset.is_same, subset.fold, strict=True):
        rows.append(f"{copies[a]},{copies[b]},{int(same)},{int(fold) % 2}")
    listing.write_text("\n".join(rows) + "\n")
    return load_pairs_csv(listing)


def _run(pairs, out, executor=None, **options):
    options = {"detectors": ("yunet",), "recognizers": ("mobilefacenet_tflite",), **options}
    return run_benchmark(
        pairs, out, dataset="csv", show_progress=False, measure_cost=False, executor=executor, **options
    )


def test_records_round_trip_every_status_and_refuse_other_layouts():
    face = Face(
        box=np.array([1, 2, 30, 40], np.float32),
        score=0.9,
        landmarks=np.arange(10, dtype=np.float32).reshape(5, 2),
    )
    for record in (
        DetectionRecord(Status.OK, face, 250, 250),
        DetectionRecord(Status.NO_FACE, None, 250, 250),
        DetectionRecord(Status.OK, Face(box=face.box, score=0.5), 10, 20),
    ):
        again = DetectionRecord.decode(record.encode())
        assert again.status == record.status and (again.width, again.height) == (record.width, record.height)
        if record.face is not None:
            np.testing.assert_array_equal(again.face.box, record.face.box)
            assert (again.face.landmarks is None) == (record.face.landmarks is None)
    vector = np.random.default_rng(0).standard_normal(512).astype(np.float32)
    np.testing.assert_array_equal(
        EmbeddingRecord.decode(EmbeddingRecord(Status.OK, vector).encode()).vector, vector
    )
    assert EmbeddingRecord.decode(EmbeddingRecord(Status.ALIGN_FAILED).encode()).status == Status.ALIGN_FAILED
    with pytest.raises(RecordError):
        DetectionRecord.decode(np.zeros(18, np.float32).tobytes())  # a positional row of the old store


def test_a_same_size_replacement_with_its_mtime_restored_is_recomputed(small_pairs, tmp_path):
    out = tmp_path / "run"
    first = CountingExecutor()
    _run(small_pairs, out, first)
    assert len(first.computed) == len(small_pairs.images)
    victim = small_pairs.images[0]
    stat = victim.stat()
    other = next(p for p in small_pairs.images[1:] if p.stat().st_size >= stat.st_size)
    victim.write_bytes(other.read_bytes()[: stat.st_size])  # same size, other bytes
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = CountingExecutor()
    _run(small_pairs, out, again)
    assert again.calls == [[victim]]  # and no re-timing: the latencies were measured here


def test_a_changed_weight_file_or_option_never_reuses_a_row(small_pairs, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _run(small_pairs, out, CountingExecutor())
    warm = CountingExecutor()
    _run(small_pairs, out, warm)
    assert warm.calls == [[]]  # the same bytes, weights, options and code: all reused
    from facebench.detectors import yunet
    from facebench.zoo import registry

    real = registry.get_card("yunet")
    # a weight file with the same name and other bytes has another sha256 (the store checks it
    # on load; here the card says so), so no stored row of the old file is used
    other = replace(real, files=(replace(real.files[0], sha256="0" * 64),))
    monkeypatch.setitem(registry._CARDS, "yunet", other)
    monkeypatch.setattr(yunet.YuNet, "_load", _yunet_without_store_check(real))
    reweighted = CountingExecutor()
    _run(small_pairs, out, reweighted)
    assert len(reweighted.computed) == len(small_pairs.images)
    monkeypatch.setitem(registry._CARDS, "yunet", real)
    bumped = CountingExecutor()
    monkeypatch.setattr(yunet.YuNet, "code_version", 99)
    _run(small_pairs, out, bumped)
    assert len(bumped.computed) == len(small_pairs.images)


def _yunet_without_store_check(card):
    """YuNet's loader reading the genuine file whatever the (patched) card says."""
    from facebench.ops.runtime import any_size_onnx_session
    from facebench.zoo import default_store

    def load(self):
        store = default_store()
        self.session = any_size_onnx_session(store.resolve(card), self.threads, cache_dir=store.cache_dir)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    return load


def test_another_option_is_another_row(small_pairs, tmp_path):
    out = tmp_path / "run"
    _run(small_pairs, out, CountingExecutor())
    flipped = CountingExecutor()
    _run(small_pairs, out, flipped, flip=True)  # the recognizer's option: embeddings again
    assert len(flipped.computed) == len(small_pairs.images)


def test_a_latency_of_threads_1_is_not_reported_for_threads_2(small_pairs, tmp_path):
    out = tmp_path / "run"
    one = _run(small_pairs, out, CountingExecutor(), threads=1).runs[0]
    assert one.detect_latency.source == "measured" and one.detect_latency.samples == len(small_pairs.images)
    rerun = CountingExecutor()
    two = _run(small_pairs, out, rerun, threads=2).runs[0]
    assert two.accuracy_mean == one.accuracy_mean  # outputs reused ...
    assert two.detect_latency.environment != one.detect_latency.environment
    # ... latencies not: re-timed here on a sample, and said so
    assert two.detect_latency.source.startswith("re-measured on")
    assert two.embed_latency.source.startswith("re-measured on")
    again = _run(small_pairs, out, CountingExecutor(), threads=2).runs[0]
    assert again.detect_latency.source == "measured"  # now measured in this environment


def test_the_latency_fingerprint_covers_threads_and_onnxruntime_spinning(monkeypatch):
    from facebench.bench.environment import environment, environment_fingerprint

    monkeypatch.delenv("FACEBENCH_ORT_SPIN", raising=False)
    base = environment_fingerprint(2)
    assert environment_fingerprint(1) != base
    assert environment(2)["onnxruntime_spinning"] is False
    monkeypatch.setenv("FACEBENCH_ORT_SPIN", "1")
    assert environment_fingerprint(2) != base
    assert environment(2)["onnxruntime_spinning"] is True


@pytest.mark.parametrize(("variable", "allowed"), [(None, "0"), ("0", "0"), ("1", "1")])
def test_onnx_sessions_sleep_instead_of_spinning_unless_asked(monkeypatch, variable, allowed):
    from facebench.detectors import create

    if variable is None:
        monkeypatch.delenv("FACEBENCH_ORT_SPIN", raising=False)
    else:
        monkeypatch.setenv("FACEBENCH_ORT_SPIN", variable)
    options = create("yunet").session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == allowed


def test_an_exception_in_a_recognizer_is_reported_not_cached_and_retried(small_pairs, tmp_path):
    out = tmp_path / "run"
    pool = ModelPool()
    executor = CountingExecutor(pool=pool)
    victim = small_pairs.images[3]
    # build the models the run will use, then make the recognizer fail on the victim's face only
    first = _run(small_pairs, out / "probe", executor)
    assert first.runs[0].failures.total == 0
    recognizer = next(model for spec, model in pool._models.items() if spec.kind == "recognizer")
    detector = next(model for spec, model in pool._models.items() if spec.kind == "detector")
    faces = detector.detect(victim)
    target = recognizer.align(load_image(victim), faces[:1])[0]
    genuine = recognizer.embed_aligned

    def failing(crops):
        if any(np.array_equal(crop, target) for crop in np.asarray(crops).reshape(-1, *target.shape)):
            raise RuntimeError("injected failure")
        return genuine(crops)

    recognizer.embed_aligned = failing
    broken = _run(small_pairs, out / "run", executor)
    run = broken.runs[0]
    assert run.failures.error == 1 and run.failures.total == 1
    (failure,) = broken.failures
    assert failure.cause == "error" and "injected failure" in failure.reason and victim.name in failure.image
    recognizer.embed_aligned = genuine
    fixed = CountingExecutor(pool=pool)
    healed = _run(small_pairs, out / "run", fixed)
    assert fixed.computed == [victim]  # the failure was not cached: that image, and only it
    assert healed.runs[0].failures.total == 0
    assert healed.runs[0].accuracy_mean == first.runs[0].accuracy_mean


def test_an_unreadable_image_is_counted_by_cause(small_pairs, tmp_path):
    small_pairs.images[1].write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    result = _run(small_pairs, tmp_path / "run", CountingExecutor())
    run = result.runs[0]
    assert run.failures.unreadable == 1 and run.failures.total == 1
    assert [f.cause for f in result.failures] == ["unreadable"]


def test_results_round_trip_and_merge_recomputes_the_comparisons(small_pairs, tmp_path):
    out = tmp_path / "run"
    result = _run(small_pairs, out, CountingExecutor(), align=("similarity", "none"))
    again = BenchmarkResult.from_json(result.to_json())
    assert again == result and again.to_json() == result.to_json()
    write_all(result, out, pairs=small_pairs, charts=False)
    loaded = load_results(out)
    assert loaded == result and loaded.runs[0].correct.tolist() == result.runs[0].correct.tolist()
    first, second = (
        BenchmarkResult(r.runs[i : i + 1], (), r.environment) for r, i in ((result, 0), (result, 1))
    )
    merged = first.merge(second)
    assert [r.pipeline for r in merged.runs] == [r.pipeline for r in result.runs]
    assert merged.comparisons == result.comparisons
    assert first.merge(first).runs == first.runs  # the same experiment replaces, never duplicates
    frame = result.to_dataframe()
    assert list(frame["pipeline"]) == [r.pipeline for r in result.runs] and "embed_ms_p50" in frame


def test_batched_retinaface_matches_one_image_at_a_time(lfw_root):
    from facebench.detectors import create
    from facebench.image import decode_image

    pairs = load_lfw_pairs()
    images = [decode_image(path) for path in pairs.images[:8]]  # LFW: all 250×250
    detector = create("retinaface_mnet025", batch_size=8)
    assert detector.config["batch_size"] == 8 and create("retinaface_mnet025").batch_size == 1
    batched = detector.detect_decoded(images)
    for decoded, faces in zip(images, batched, strict=True):
        alone = detector.detect_faces(decoded.rgb)
        assert len(alone) == len(faces)
        np.testing.assert_allclose(faces.boxes, alone.boxes, atol=1e-2)
        np.testing.assert_allclose(faces.landmarks, alone.landmarks, atol=1e-2)


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_yunet_is_bit_identical_to_one_image_at_a_time(lfw_root, threads):
    """The card's batch of 8 is the default only because it changes nothing, bit for bit."""
    from facebench.detectors import create
    from facebench.image import decode_image

    pairs = load_lfw_pairs()
    images = [decode_image(path) for path in pairs.images[:19]]  # batches of 8, 8 and 3
    detector = create("yunet", threads=threads)
    assert detector.batch_size == 8 == detector.card.detector_defaults.batch_size
    assert create("yunet", batch_size=1).config != detector.config  # stored apart all the same
    batched = detector.detect_decoded(images)
    assert sum(len(faces) for faces in batched) >= 19
    for decoded, faces in zip(images, batched, strict=True):
        alone = detector.detect_faces(decoded.rgb)
        np.testing.assert_array_equal(faces.boxes, alone.boxes)
        np.testing.assert_array_equal(faces.scores, alone.scores)
        np.testing.assert_array_equal(faces.landmarks, alone.landmarks)


def test_retinaface_onnx_engine_agrees_with_torch(lfw_root):
    from facebench.detectors import create

    pairs = load_lfw_pairs()
    onnx, torch = create("retinaface_mnet025"), create("retinaface_mnet025", engine="torch")
    assert onnx.config["engine"] == "onnx" and onnx.config != torch.config
    for path in pairs.images[:10]:
        a, b = onnx.detect_faces(path), torch.detect_faces(path)
        assert len(a) == len(b)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-2)


def test_eval_lfw_twice_into_one_folder_keeps_both_runs_and_their_comparison(tmp_path, lfw_root):
    from typer.testing import CliRunner

    from facebench.cli import app

    # a two-fold miniature of View 2 in the official format, over the real images
    lines = (lfw_root.parent / "pairs.txt").read_text().splitlines()[1:]
    mini = tmp_path / "lfw"
    mini.mkdir()
    (mini / "lfw-deepfunneled").symlink_to(lfw_root)
    chosen = lines[0:15] + lines[300:315] + lines[600:615] + lines[900:915]
    (mini / "pairs.txt").write_text("2\t15\n" + "\n".join(chosen) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"runs": [], "environment": {}}')  # the old format: set aside
    runner = CliRunner()
    for recognizer in ("mobilefacenet_tflite", "edgeface_xxs_q"):
        result = runner.invoke(
            app, ["eval-lfw", "-d", "yunet", "-r", recognizer, "--data-root", str(mini), "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
    payload = json.loads((out / "results.json").read_text())
    assert [r["recognizer"] for r in payload["runs"]] == ["mobilefacenet_tflite", "edgeface_xxs_q"]
    (comparison,) = payload["comparisons"]
    assert {comparison["first"], comparison["second"]} == {r["pipeline"] for r in payload["runs"]}
    assert "McNemar" in result.output
    assert json.loads((out / "results.old.json").read_text()) == {"runs": [], "environment": {}}


def test_two_detectors_decode_each_image_once(small_pairs, tmp_path, monkeypatch):
    import facebench.bench.executor as executor_module

    reads = []
    genuine = executor_module._read

    def counting(item, fit):
        reads.append(item.path)
        return genuine(item, fit)

    monkeypatch.setattr(executor_module, "_read", counting)
    result = _run(
        small_pairs, tmp_path / "run", CountingExecutor(), detectors=("yunet", "retinaface_mnet025")
    )
    assert len(result.runs) == 2
    assert sorted(reads) == sorted(small_pairs.images)  # one read and decode per image for both
    alone = _run(small_pairs, tmp_path / "alone", CountingExecutor(), detectors=("retinaface_mnet025",))
    assert alone.runs[0].correct.tolist() == result.run(alone.runs[0].pipeline).correct.tolist()


def test_a_detector_engine_is_chosen_by_name_and_recorded():
    from facebench.bench.plan import plan_grid

    plan = plan_grid(
        ("retinaface_mnet025@torch",), ("mobilefacenet_tflite",), ("similarity",), pool=ModelPool()
    )
    (planned,) = plan.pipelines
    assert planned.pipeline.name == "retinaface_mnet025@torch+similarity+mobilefacenet_tflite"
    assert dict(plan.jobs[0].detector.options)["engine"] == "torch"


def test_the_engine_computes_what_a_direct_call_computes(small_pairs, tmp_path):
    """Bit for bit: decoding, central face, alignment and embedding add nothing of their own."""
    from facebench.bench.executor import central_face
    from facebench.bench.stages import embed_images
    from facebench.detectors import create as create_detector
    from facebench.recognizers import create as create_recognizer

    detector, recognizer = create_detector("yunet"), create_recognizer("edgeface_xxs_q")
    vectors, _ = embed_images(
        detector, recognizer, "similarity", small_pairs.images, tmp_path, show_progress=False
    )
    assert len(vectors) == len(small_pairs.images)
    for path in small_pairs.images:
        rgb = load_image(path)
        face = central_face(detector.detect_faces(rgb), rgb.shape[1], rgb.shape[0])
        np.testing.assert_array_equal(vectors[str(path)], recognizer.embed_faces(rgb, [face])[0])


def test_a_described_model_has_the_loaded_ones_config_and_reads_no_weights(tmp_path, lfw_root):
    """Planning and store lookups use descriptions: same config, no weight file touched."""
    from facebench.detectors.registry import DETECTORS
    from facebench.recognizers.registry import RECOGNIZERS
    from facebench.zoo import ModelStore

    empty = ModelStore(home=tmp_path / "nowhere", cache_dir=tmp_path / "cache", allow_download=False)
    for registry, name, options in (
        (DETECTORS, "yunet", {}),
        (DETECTORS, "retinaface_mnet025", {"engine": "torch"}),
        (RECOGNIZERS, "edgeface_xs_dequant", {"engine": "onnx"}),
        (RECOGNIZERS, "mobilefacenet_tflite", {}),
        (DETECTORS, "yunet", {"refine": "facemesh"}),  # the refiner too reads nothing
        (DETECTORS, "dlib_hog", {}),  # refined by dlib5 by default
    ):
        described = registry.describe(name, store=empty, **options)  # no file there: nothing read
        assert described.config == registry.create(name, **options).config
    refined = DETECTORS.describe("yunet", refine="facemesh")
    assert not refined.refiner._loaded and refined.load().refiner._loaded  # loaded with its detector
    image = load_lfw_pairs().images[0]
    lazy = DETECTORS.describe("yunet")
    assert (
        lazy.detect_faces(image).boxes.tolist()
        == DETECTORS.create("yunet").detect_faces(image).boxes.tolist()
    )


def test_a_store_locked_by_another_run_is_waited_for_not_called_corrupt(tmp_path, monkeypatch):
    """Two runs creating one store race for the lock of the switch to WAL, and SQLite answers the
    loser at once with "database is locked" (seen in test_robustness's two concurrent benchmarks):
    the store retries, and says "locked", never "corrupt", if the lock outlasts its timeout."""
    import sqlite3

    from facebench.bench import store as store_module
    from facebench.bench.store import ResultStore, StoreCorruptError
    from facebench.errors import FacebenchError

    genuine = ResultStore._open
    attempts = []

    def racing(self):
        attempts.append(1)
        if len(attempts) <= 2:
            raise sqlite3.OperationalError("database is locked")
        genuine(self)

    monkeypatch.setattr(ResultStore, "_open", racing)
    with ResultStore(tmp_path / "a") as store:
        store.put("detect", "c", "k", b"v")
        store.commit()
    assert len(attempts) == 3

    monkeypatch.setattr(
        ResultStore,
        "_open",
        lambda self: (_ for _ in ()).throw(sqlite3.OperationalError("database is locked")),
    )
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.3)
    with pytest.raises(FacebenchError, match="stayed locked by another run") as raised:
        ResultStore(tmp_path / "b")
    assert not isinstance(raised.value, StoreCorruptError)


def test_detection_runs_ahead_while_a_recognizer_loads_and_a_failed_load_still_raises(
    small_pairs, tmp_path, monkeypatch
):
    """The recognizer's weights are read in a background thread: chunks are detected meanwhile,
    and the numbers are those of a run that loaded everything first."""
    import threading

    from facebench.detectors import yunet
    from facebench.recognizers import recognizer_class

    reference = _run(small_pairs, tmp_path / "reference", LocalExecutor(chunk_size=4)).runs[0]
    recognizer = recognizer_class("mobilefacenet_tflite")
    detect = yunet.YuNet._detect_rgb_batch
    detected = threading.Semaphore(0)
    calls_before_load: list[int] = []
    calls = [0]

    def counting(self, images):
        calls[0] += 1
        detected.release()
        return detect(self, images)

    load = recognizer._load

    def slow_load(self):
        for _ in range(3):  # three chunks detected before this load goes on
            assert detected.acquire(timeout=60), "no chunk was detected while the recognizer loaded"
        calls_before_load.append(calls[0])
        load(self)

    monkeypatch.setattr(yunet.YuNet, "_detect_rgb_batch", counting)
    monkeypatch.setattr(recognizer, "_load", slow_load)
    ahead = _run(small_pairs, tmp_path / "ahead", LocalExecutor(chunk_size=4)).runs[0]
    assert calls_before_load and calls_before_load[0] >= 3
    assert ahead.accuracy_mean == reference.accuracy_mean and ahead.auc == reference.auc

    def broken(self):
        raise RuntimeError("these weights are broken")

    monkeypatch.setattr(recognizer, "_load", broken)
    with pytest.raises(RuntimeError, match="these weights are broken"):
        _run(small_pairs, tmp_path / "broken", LocalExecutor(chunk_size=4))
