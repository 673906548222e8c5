"""Recognition training end to end on real LFW faces: data sources, exact resume, validation with
early stopping, a 2-process torchrun run, and the trained model used as a recognizer."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from facebench.errors import FacebenchError
from facebench.train.common import read_log
from facebench.train.config import config_from_dict, load_config
from facebench.train.data import FaceTrainSet, RecordIO, ResumableSampler, write_recordio
from facebench.train.recognition import RecognitionConfig, train_recognition

REPO = Path(__file__).resolve().parents[1]
IDENTITIES = 8


def _config(out: Path, lfw_root: Path, **changes) -> RecognitionConfig:
    data = {
        "output": str(out),
        "device": "cpu",
        "log_every": 1,
        "checkpoint_every": 3,
        "tensorboard": False,
        "data": {
            "source": "raw",
            "root": str(lfw_root),
            "detector": "yunet",
            "min_images": 10,
            "max_identities": IDENTITIES,
            "lowres_probability": 0.5,
            "workers": 1,
        },
        "model": {"backbone": "edgeface_xxs"},
        "head": {"type": "arcface", "s": 32.0, "m2": 0.3, "sample_rate": 0.5},
        "optim": {"optimizer": "adamw", "lr": 0.002, "weight_decay": 0.05, "batch_size": 16, "steps": 6},
    }
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return config_from_dict(RecognitionConfig, data)


def _losses(out: Path) -> dict[int, float]:
    return {record["step"]: record["last_loss"] for record in read_log(out, "train")}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, lfw_root):
    out = tmp_path_factory.mktemp("uninterrupted")
    summary = train_recognition(_config(out, lfw_root))
    return out, summary


def test_a_stopped_and_resumed_run_gives_the_same_losses_and_weights(uninterrupted, tmp_path, lfw_root):
    reference, summary = uninterrupted
    assert summary["finished"] and summary["step"] == 6
    config = _config(tmp_path, lfw_root)
    first = train_recognition(config, stop_at=3)
    assert first["step"] == 3 and not first["finished"]
    assert not (tmp_path / "last.pt").exists()
    train_recognition(config)
    assert _losses(tmp_path) == _losses(reference)
    assert sorted(_losses(tmp_path)) == [1, 2, 3, 4, 5, 6]
    ours = torch.load(tmp_path / "last.pt", weights_only=True)["state_dict"]
    theirs = torch.load(reference / "last.pt", weights_only=True)["state_dict"]
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key


def test_checkpoints_hold_the_whole_training_state(uninterrupted):
    out, _ = uninterrupted
    latest = (out / "checkpoints" / "latest").read_text().strip()
    assert latest == "step-00000006"
    assert sorted(p.name for p in (out / "checkpoints").glob("step-*")) == ["step-00000003", "step-00000006"]
    state = torch.load(out / "checkpoints" / latest / "rank0.pt", weights_only=True)
    assert {"backbone", "head", "optimisation", "step", "best", "stale"} <= set(state)
    assert {"optimizer", "scheduler", "scaler", "rng"} <= set(state["optimisation"])
    data = next(r for r in read_log(out) if r["kind"] == "data")
    assert data["identities"] == IDENTITIES and data["images_without_face"] == 0


def test_loss_falls_on_real_faces(tmp_path, lfw_root):
    config = _config(
        tmp_path,
        lfw_root,
        optim__steps=40,
        optim__batch_size=32,
        checkpoint_every=40,
        head__sample_rate=1.0,
        data__lowres_probability=0.0,
    )
    train_recognition(config)
    losses = list(_losses(tmp_path).values())
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses


def _held_out_pairs(lfw_root: Path, folder: Path) -> Path:
    """20 same + 20 different pairs of LFW people outside the training identities, 2 folds."""
    people = sorted(
        p for p in lfw_root.iterdir() if p.is_dir() and len(list(p.glob("*.jpg"))) in range(2, 5)
    )[:40]
    rows = []
    for index in range(20):
        images = sorted(people[index].glob("*.jpg"))
        rows.append((images[0], images[1], 1, index % 2))
        rows.append((images[0], sorted(people[index + 20].glob("*.jpg"))[0], 0, index % 2))
    path = folder / "pairs.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path1", "path2", "label", "fold"])
        writer.writerows(rows)
    return path


def test_validation_tracks_the_best_checkpoint_and_stops_early(tmp_path, lfw_root, monkeypatch):
    """Real validations, with their accuracies replaced by a fixed curve that peaks at step 3 and
    then falls: with patience 1 the run must stop at step 6 and keep step 3 as best.pt."""
    from facebench.train import recognition

    curve = iter([0.70, 0.75, 0.60, 0.55, 0.50])
    genuine = recognition.Validator.__call__

    def scripted(self, *args, **kwargs):
        return {**genuine(self, *args, **kwargs), "accuracy": next(curve)}

    monkeypatch.setattr(recognition.Validator, "__call__", scripted)
    pairs = _held_out_pairs(lfw_root, tmp_path)
    config = _config(
        tmp_path / "run",
        lfw_root,
        optim__steps=12,
        validation={
            "dataset": f"csv:{pairs}",
            "every": 3,
            "detector": "yunet",
            "patience": 1,
            "exclude_training_identities": True,
        },
    )
    summary = train_recognition(config)
    validations = read_log(tmp_path / "run", "validation")
    assert [v["step"] for v in validations] == [0, 3, 6] and [v["accuracy"] for v in validations] == [
        0.70,
        0.75,
        0.60,
    ]
    assert summary["stopped_early"] and summary["step"] == 6 and summary["finished"]
    from facebench.datasets import load_pairs_csv

    written = load_pairs_csv(tmp_path / "run" / "validation" / "pairs.csv")  # the same set, for `benchmark`
    assert len(written) == 40 and written.is_same.sum() == 20
    best = validations[1]
    assert summary["best"]["step"] == 3
    model = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert model["step"] == 3 and model["validation"]["accuracy"] == 0.75
    from facebench.api import verify

    pair = pairs.read_text().splitlines()[1].split(",")
    result = verify(pair[0], pair[1], detector="yunet", recognizer=f"ckpt:{tmp_path / 'run' / 'best.pt'}")
    assert result.threshold == pytest.approx(best["threshold"])  # the best validation's own threshold
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 6


def test_trained_model_is_a_recognizer_everywhere(uninterrupted, lfw_root, tmp_path):
    from facebench.recognizers import create

    out, _ = uninterrupted
    spec = f"ckpt:{out / 'last.pt'}"
    model = create(spec)
    crops = np.stack(
        [
            cv2.resize(cv2.imread(str(p))[..., ::-1], (112, 112))
            for p in sorted(lfw_root.glob("Aaron_P*/*.jpg"))[:4]
        ]
    )
    embeddings = model.embed_aligned(crops)
    assert embeddings.shape == (4, 512)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)
    assert model.config["sha256"] == hashlib.sha256((out / "last.pt").read_bytes()).hexdigest()
    from facebench.bench.cost import file_bytes

    assert file_bytes(model.card, model.store) == (out / "last.pt").stat().st_size
    onnx = create(spec, engine="onnx").embed_aligned(crops)
    assert (onnx * embeddings).sum(axis=1).min() > 0.9999
    assert model.config != create(spec, degrade="lowres:4").config
    export = subprocess.run(
        [sys.executable, "-m", "facebench.cli", "export", spec, "--out", str(tmp_path / "trained.onnx")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert export.returncode == 0, export.stderr[-2000:]
    assert (tmp_path / "trained.onnx").stat().st_size > 1_000_000


def test_a_tampered_model_file_is_refused(uninterrupted, tmp_path):
    import shutil

    from facebench.recognizers import create

    out, _ = uninterrupted
    copy = tmp_path / "model.pt"
    shutil.copy(out / "last.pt", copy)
    shutil.copy(out / "last.pt.sha256", tmp_path / "model.pt.sha256")
    with copy.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(FacebenchError, match="does not match"):
        create(f"ckpt:{copy}")
    (tmp_path / "model.pt.sha256").unlink()
    with pytest.raises(FacebenchError, match=r"no model\.pt\.sha256"):
        create(f"ckpt:{copy}")


def test_benchmark_with_a_trained_model_and_lowres_degradation(uninterrupted, lfw_root, tmp_path):
    from facebench.bench.engine import run_benchmark
    from facebench.datasets import load_pairs_csv
    from facebench.report import scores_file

    out, _ = uninterrupted
    pairs = load_pairs_csv(_held_out_pairs(lfw_root, tmp_path))
    spec = f"ckpt:{out / 'last.pt'}"
    results = {}
    for degrade in ("none", "lowres:8"):
        result = run_benchmark(
            pairs, tmp_path / "bench", dataset="held-out", detectors=("yunet",), recognizers=(spec,),
            measure_cost=False, show_progress=False, degrade=degrade,
        )  # fmt: skip
        run = result.runs[0]
        assert run.degrade == (None if degrade == "none" else "lowres:8:bicubic")  # canonical spelling
        assert len(run.scores) == len(pairs) and scores_file(tmp_path / "bench", run.pipeline).name.endswith(
            ".csv"
        )
        results[degrade] = run
    assert results["lowres:8"].pipeline.endswith("+lowres:8:bicubic")
    assert results["none"].pipeline.endswith("/last.pt")  # "none" means no degradation
    assert results["none"].auc != results["lowres:8"].auc


def test_recordio_round_trip_matches_the_aligned_folder(tmp_path):
    from facebench.recognizers.backbones import build_backbone

    _, spec = build_backbone("edgeface_xxs")
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (6, 112, 112, 3), dtype=np.uint8)
    samples = [
        (cv2.imencode(".png", crop[..., ::-1])[1].tobytes(), index % 3) for index, crop in enumerate(crops)
    ]
    rec, _ = write_recordio(tmp_path / "train", samples)
    record = RecordIO(rec)
    assert len(record) == 6 and record.labels() == [0, 1, 2, 0, 1, 2]
    no_augmentation = FaceTrainSet(spec.preprocess, record.labels(), record=record, augmentation=_plain())
    for index, crop in enumerate(crops):
        blob, label = no_augmentation[(index, 0)]
        assert label == index % 3
        np.testing.assert_allclose(blob, (crop.transpose(2, 0, 1) - 127.5) / 127.5, atol=1e-6)
    corrupt = bytearray(rec.read_bytes())
    corrupt[record.offsets[2]] ^= 0xFF
    rec.write_bytes(bytes(corrupt))
    with pytest.raises(FacebenchError, match="bad magic"):
        RecordIO(rec).sample(1)


def _plain():
    from facebench.train.data import Augmentation

    return Augmentation(flip=0.0, lowres_probability=0.0)


def test_training_reads_recordio(tmp_path, lfw_root):
    rng = np.random.default_rng(1)
    samples = [
        (cv2.imencode(".jpg", rng.integers(0, 256, (112, 112, 3), dtype=np.uint8))[1].tobytes(), i % 4)
        for i in range(32)
    ]
    write_recordio(tmp_path / "train", samples)
    config = _config(
        tmp_path / "run",
        lfw_root,
        data={"source": "recordio", "root": str(tmp_path / "train.rec"), "workers": 0},
        optim__steps=2,
    )
    summary = train_recognition(config)
    assert summary["finished"] and len(_losses(tmp_path / "run")) == 2


def test_aligned_crops_fit_the_template_or_are_reported(tmp_path, caplog):
    from facebench.recognizers.backbones import build_backbone

    _, spec = build_backbone("mobilefacenet")  # 112×96: ArcFace 112×112 crops are centre-cropped
    good = tmp_path / "a.png"
    bad = tmp_path / "b.png"
    crop = np.random.default_rng(0).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    cv2.imwrite(str(good), crop)
    cv2.imwrite(str(bad), crop[:80, :80])
    dataset = FaceTrainSet(spec.preprocess, [0, 1], paths=[good, bad], augmentation=_plain())
    blob, label = dataset[(0, 0)]
    assert blob.shape == (3, 112, 96) and label == 0
    np.testing.assert_allclose(blob, (crop[:, 8:104, ::-1].transpose(2, 0, 1) - 127.5) / 128, atol=1e-6)
    blob, label = dataset[(1, 0)]
    assert label == -1 and str(bad) in caplog.text and "80×80" in caplog.text


def test_sampler_splits_ranks_and_resumes_mid_epoch():
    full = list(ResumableSampler(10, seed=3))
    assert sorted(index for index, _ in full) == list(range(10))
    assert list(ResumableSampler(10, seed=3)) == full and list(ResumableSampler(10, seed=4)) != full
    ranks = [list(ResumableSampler(10, seed=3, rank=r, world_size=2)) for r in range(2)]
    assert sorted(i for rank in ranks for i, _ in rank) == list(range(10))
    later = ResumableSampler(10, seed=3)
    later.set_position(0, 4)
    assert list(later) == full[4:]
    later.set_position(1, 0)
    assert list(later) != full


def test_config_errors_name_the_key_and_variables_expand(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"optim": {"lr": 0.1, "stpes": 5}}))
    with pytest.raises(FacebenchError, match=r"optim\.stpes: unknown key; known: optimizer, lr"):
        load_config(RecognitionConfig, path)
    monkeypatch.setenv("FACES_ROOT", "/data/faces")
    path.write_text(yaml.safe_dump({"data": {"root": "${FACES_ROOT}/aligned"}}))
    config = load_config(RecognitionConfig, path, {"optim.steps": 7})
    assert config.data.root == "/data/faces/aligned" and config.optim.steps == 7


def test_every_backbone_builds_with_its_contract():
    from facebench.recognizers.backbones import build_backbone, list_backbones

    assert {"ir_18", "ir_50", "ir_100", "ir_se_50", "edgeface_xs", "edgeface_xxs", "mobilefacenet"} <= set(
        list_backbones()
    )
    for name in ("ir_18", "ir_se_18", "edgeface_xs", "mobilefacenet"):
        network, spec = build_backbone(name)
        height, width = spec.input_hw
        with torch.no_grad():
            output = network.eval()(torch.zeros(2, 3, height, width))
        assert output.shape == (2, spec.preprocess.embedding_dim), name


def test_two_process_torchrun_trains_checkpoints_and_resumes(tmp_path, lfw_root):
    config = _config(tmp_path / "run", lfw_root, optim__steps=4, checkpoint_every=2, optim__batch_size=8)
    path = tmp_path / "config.yaml"
    data = json.loads(json.dumps(__import__("dataclasses").asdict(config)))
    path.write_text(yaml.safe_dump(data))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def launch(*extra: str) -> None:
        command = [
            sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29612",
            "-m", "facebench.cli", "train", "recognition", "--config", str(path), *extra,
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]

    launch("--stop-at", "2")
    launch()
    step_dir = tmp_path / "run" / "checkpoints" / "step-00000004"
    assert (step_dir / "rank0.pt").is_file() and (step_dir / "rank1.pt").is_file()
    heads = [torch.load(step_dir / f"rank{r}.pt", weights_only=True)["head"]["weight"] for r in range(2)]
    assert [len(h) for h in heads] == [4, 4]  # 8 identities sharded over 2 ranks
    losses = _losses(tmp_path / "run")
    assert sorted(losses) == [1, 2, 3, 4] and all(np.isfinite(list(losses.values())))
    assert next(r for r in read_log(tmp_path / "run") if r["kind"] == "data")["world_size"] == 2
    assert (tmp_path / "run" / "last.pt").is_file()


def test_bf16_with_accumulation_adaface_focal_and_tensorboard(tmp_path, lfw_root):
    config = _config(
        tmp_path,
        lfw_root,
        precision="bf16",
        tensorboard=True,
        optim__steps=2,
        optim__accumulate=2,
        optim__batch_size=8,
        head={"type": "adaface", "loss": "focal", "gamma": 2.0},
        model={"backbone": "ir_18"},
    )
    summary = train_recognition(config)
    assert summary["finished"]
    losses = _losses(tmp_path)
    assert sorted(losses) == [1, 2] and all(np.isfinite(list(losses.values())))
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    head_state = torch.load(tmp_path / "checkpoints" / "step-00000002" / "rank0.pt", weights_only=True)[
        "head"
    ]
    assert head_state["margin.batch_mean"] != 20.0  # AdaFace's running norm statistics moved


def test_ctrl_c_finishes_the_step_checkpoints_and_the_rerun_resumes(tmp_path, lfw_root):
    """SIGINT to the whole process group (as a terminal's Ctrl-C), data-loader workers included."""
    import signal
    import time

    config = _config(tmp_path / "run", lfw_root, optim__steps=200, checkpoint_every=1000)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(__import__("dataclasses").asdict(config)))))
    command = [sys.executable, "-m", "facebench.cli", "train", "recognition", "--config", str(path)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while len(read_log(tmp_path / "run", "train")) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-2000:]
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-2000:]
    summary = json.loads(stdout)
    assert summary["interrupted"] and 2 <= summary["step"] < 200
    assert (tmp_path / "run" / "checkpoints" / "latest").read_text().strip() == f"step-{summary['step']:08d}"
    resumed = train_recognition(
        _config(tmp_path / "run", lfw_root, optim__steps=summary["step"] + 2, checkpoint_every=1000)
    )
    assert resumed["finished"] and sorted(_losses(tmp_path / "run"))[-3:] == [
        summary["step"],
        summary["step"] + 1,
        summary["step"] + 2,
    ]
