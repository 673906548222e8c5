"""The Ray executor on a real three-node cluster started on this machine (a head and two workers on
127.0.0.1): the same metrics as the local executor, incremental re-runs, a killed actor retried
with every image stored once, and the gallery and CLI paths."""

import json
import os
import signal
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import ray  # the ray extra is part of the test install: its absence fails the run
from ray.cluster_utils import Cluster
from typer.testing import CliRunner

from facebench.bench.engine import run_benchmark
from facebench.bench.ray_executor import RayExecutor
from facebench.cli import app
from facebench.datasets import load_lfw_pairs
from facebench.errors import MissingExtraError

GRID = {"detectors": ("yunet",), "recognizers": ("mobilefacenet_tflite", "edgeface_xxs_dequant@onnx")}


@pytest.fixture(scope="module")
def cluster():
    """A head and two worker nodes, one CPU each, joined by this process as the driver."""
    if ray.is_initialized():
        ray.shutdown()
    nodes = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": 100 * 1024**2, "include_dashboard": False},
    )
    for _ in range(2):
        nodes.add_node(num_cpus=1, object_store_memory=80 * 1024**2)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, include_dashboard=False, log_to_driver=False)
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


@pytest.fixture(scope="module")
def small_lfw(lfw_root):
    pairs = load_lfw_pairs(lfw_root.parent)
    keep = np.zeros(len(pairs), bool)
    for fold in (1, 2):  # 40 genuine and 40 impostor pairs over two folds
        rows = np.flatnonzero(pairs.fold == fold)
        keep[rows[:20]] = keep[rows[300:320]] = True
    return pairs.subset(keep)


@pytest.fixture(scope="module")
def local(small_lfw, tmp_path_factory):
    """The same grid through the local executor: what every Ray run must equal."""
    return _run(small_lfw, tmp_path_factory.mktemp("local"))


def _run(pairs, out, executor=None):
    return run_benchmark(
        pairs, out, dataset="lfw", show_progress=False, measure_cost=False, executor=executor, **GRID
    )


def _store_rows(folder: Path) -> dict[str, int]:
    """Records per stage in a run's store (one per image and model configuration: its primary key)."""
    with closing(sqlite3.connect(folder / "cache.sqlite")) as connection:
        return dict(connection.execute("SELECT stage, COUNT(*) FROM results GROUP BY stage").fetchall())


def test_a_three_node_cluster_gives_the_local_metrics_and_reruns_incrementally(
    cluster, small_lfw, local, tmp_path
):
    assert len([node for node in ray.nodes() if node["Alive"]]) == 3
    executor = RayExecutor(cluster.address, batch_size=8)
    remote = _run(small_lfw, tmp_path / "ray", executor)
    assert [r.pipeline for r in remote.runs] == [r.pipeline for r in local.runs]
    for mine, theirs in zip(remote.runs, local.runs, strict=True):
        np.testing.assert_array_equal(mine.scores, theirs.scores)  # bit-identical
        assert (mine.accuracy_mean, mine.auc, mine.eer, mine.success_rate) == (
            theirs.accuracy_mean,
            theirs.auc,
            theirs.eer,
            theirs.success_rate,
        )
        assert mine.detect_latency.source.startswith("re-measured")  # timed here, never on the actors
    assert remote.environment["executor"]["kind"] == "ray" and remote.environment["executor"]["actors"] == 3
    images = len(small_lfw.images)
    assert _store_rows(tmp_path / "ray") == {"detect": images, "embed": 2 * images}

    asked = []
    original = RayExecutor.run

    def counting(self, job, items):
        asked.append(len(items))
        return original(self, job, items)

    RayExecutor.run = counting
    try:
        again = _run(small_lfw, tmp_path / "ray", executor)
    finally:
        RayExecutor.run = original
    assert sum(asked) == 0  # everything came from the store
    np.testing.assert_array_equal(again.runs[0].scores, local.runs[0].scores)


def _actor_pids() -> list[int]:
    """Processes of Ray Data's map actors on this machine (their title is ``ray::MapWorker(...)``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"ray::MapWorker"):
                pids.append(int(entry.name))
    return pids


def test_a_killed_actor_is_retried_and_every_image_is_stored_once(cluster, small_lfw, local, tmp_path):
    killed: list[int] = []
    original = RayExecutor.run

    delivered: list[str] = []

    def kill_one_actor_midway(self, job, items):
        for count, outcome in enumerate(original(self, job, items)):
            delivered.append(outcome.item.key)
            if count == 4 and not killed:
                deadline = time.monotonic() + 30
                while not (pids := _actor_pids()) and time.monotonic() < deadline:
                    time.sleep(0.2)
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            yield outcome

    RayExecutor.run = kill_one_actor_midway
    try:
        remote = _run(small_lfw, tmp_path / "ray", RayExecutor(cluster.address, batch_size=4))
    finally:
        RayExecutor.run = original
    assert killed, "no actor was killed"
    assert len(delivered) == len(set(delivered)) == len(set(small_lfw.images))  # each image once
    for mine, theirs in zip(remote.runs, local.runs, strict=True):
        np.testing.assert_array_equal(mine.scores, theirs.scores)
    images = len(small_lfw.images)
    assert _store_rows(tmp_path / "ray") == {"detect": images, "embed": 2 * images}


def test_gallery_and_cli_run_on_the_cluster(cluster, small_lfw, lfw_root, tmp_path):
    people = tmp_path / "people"
    for person in ("George_W_Bush", "Colin_Powell", "Tony_Blair"):
        (people / person).mkdir(parents=True)
        for image in sorted((lfw_root / person).glob("*.jpg"))[1:5]:
            (people / person / image.name).symlink_to(image)
    runner = CliRunner()
    built = runner.invoke(
        app,
        [
            *("index", "build", str(people), "--out", str(tmp_path / "g"), "-d", "yunet"),
            *("--executor", "ray", "--ray-address", cluster.address, "--ray-batch-size", "4"),
        ],
    )
    assert built.exit_code == 0, built.output
    probe = sorted((lfw_root / "Colin_Powell").glob("*.jpg"))[0]
    found = runner.invoke(app, ["index", "search", str(tmp_path / "g"), str(probe), "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)[0]["matches"][0]["identity"] == "Colin_Powell"

    embedded = {}
    for kind in ("local", "ray"):
        arguments = ["embed", str(people), "--out", str(tmp_path / f"{kind}.npy"), "-d", "yunet"]
        arguments += ["-r", "mobilefacenet_tflite", "--executor", kind]
        if kind == "ray":
            arguments += ["--ray-address", cluster.address, "--ray-batch-size", "4"]
        result = runner.invoke(app, arguments)
        assert result.exit_code == 0, result.output
        embedded[kind] = np.load(tmp_path / f"{kind}.npy")
    assert embedded["ray"].shape == (12, 128)
    np.testing.assert_array_equal(embedded["ray"], embedded["local"])  # the same rows, bit for bit
    assert (tmp_path / "ray.csv").read_text() == (tmp_path / "local.csv").read_text()

    pairs_file = tmp_path / "pairs.csv"
    chosen = [*np.flatnonzero(small_lfw.is_same)[:8], *np.flatnonzero(~small_lfw.is_same)[:8]]
    lines = ["path1,path2,label,fold"] + [
        f"{small_lfw.first[i]},{small_lfw.second[i]},{int(small_lfw.is_same[i])},{small_lfw.fold[i]}"
        for i in chosen
    ]
    pairs_file.write_text("\n".join(lines) + "\n")
    arguments = ["benchmark", "--dataset", f"csv:{pairs_file}", "--detectors", "yunet"]
    arguments += ["--recognizers", "mobilefacenet_tflite"]
    result = runner.invoke(
        app, [*arguments, "--out", str(tmp_path / "b"), "--executor", "ray", "--ray-address", cluster.address]
    )
    assert result.exit_code == 0, result.output
    recorded = json.loads((tmp_path / "b" / "results.json").read_text())["environment"]["executor"]
    assert recorded["kind"] == "ray" and recorded["address"] == cluster.address


def test_a_missing_ray_extra_names_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(MissingExtraError, match=r'pip install "facebench\[ray\]"'):
        RayExecutor()._ray()
    result = CliRunner().invoke(app, ["benchmark", "--executor", "ray", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and 'pip install "facebench[ray]"' in result.output
