"""The benchmark engine: a detector × alignment × recognizer grid on a pair-verification dataset.

Every (detector, image) detection and (recognizer, alignment, detector, image) embedding is kept in
the output folder's SQLite store, so a re-run or an added model computes only what is new and a
killed run resumes. Each pipeline's pairs are scored with the LFW protocol (threshold from the
other folds), and every accuracy gets a 95% Wilson interval; pipelines are compared pairwise with
an exact McNemar test on the same pairs.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from facebench.align import ALIGN_METHODS, TEMPLATES
from facebench.atomic import atomic_open, atomic_write_text
from facebench.bench.environment import environment
from facebench.bench.stages import detect_central_faces, embed_central_faces
from facebench.bench.store import ResultStore
from facebench.datasets.lfw import VerificationPairs
from facebench.detectors import create as create_detector
from facebench.image import display_name
from facebench.metrics.roc import eer, roc_auc, tar_at_far
from facebench.metrics.significance import mcnemar_exact, wilson_interval
from facebench.metrics.verification import best_threshold, kfold_accuracy
from facebench.recognizers import create as create_recognizer

__all__ = ["DEFAULT_GRID", "BenchmarkResult", "Pipeline", "run_benchmark", "scores_file"]

#: the fastest and the most accurate detector with landmarks, the most accurate recognizer and the
#: cheapest one: four pipelines that span the trade-off, about 8 minutes cold on 2 cores.
DEFAULT_GRID: dict[str, tuple[str, ...]] = {
    "detectors": ("yunet", "retinaface_mnet025"),
    "recognizers": ("edgeface_xs_q", "mobilefacenet_tflite"),
    "align": ("similarity",),
}


@dataclass(frozen=True)
class Pipeline:
    detector: str
    align: str
    recognizer: str
    degrade: str | None = None

    @property
    def name(self) -> str:
        name = f"{self.detector}+{self.align}+{self.recognizer}"
        return f"{name}+{self.degrade}" if self.degrade else name


def scores_file(out_dir: Path, pipeline_name: str) -> Path:
    """``OUT/scores/<pipeline>.csv``, with a checkpoint path's separators made filename-safe."""
    return out_dir / "scores" / f"{re.sub(r'[^A-Za-z0-9_.+=-]', '_', pipeline_name)}.csv"


@dataclass
class BenchmarkResult:
    runs: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    environment: dict[str, Any]
    out_dir: Path
    skipped: list[dict[str, str]]
    #: images that could not be read, each named with its reason (counted as missed faces)
    unreadable: list[dict[str, str]] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


_COST_FIELDS = ("size_mb", "params_m", "gflops", "peak_rss_mb", "model_rss_mb", "faces_per_s", "best_batch")


def _cost_record(values: np.ndarray) -> dict[str, float | None]:
    return {
        k: (None if np.isnan(v) else round(float(v), 4)) for k, v in zip(_COST_FIELDS, values, strict=True)
    }


def _model_cost(
    store: ResultStore, model: Any, kind: str, sample: Path, crops: np.ndarray | None
) -> dict[str, Any]:
    """Size, parameters, GFLOPs, memory and best-batch throughput of one model (cached in the store)."""
    from facebench.bench.cost import (
        file_bytes,
        measure_memory,
        onnx_gflops_and_params,
        torch_gflops_and_params,
    )
    from facebench.image import load_image

    config = store.register({"stage": "cost", "kind": kind, "sample": str(sample), **model.config})
    cached = store.get_many("cost", config, ["model"])
    if "model" in cached:
        return _cost_record(cached["model"])
    values = np.full(len(_COST_FIELDS), np.nan)
    size = file_bytes(model.card, model.store)
    values[0] = np.nan if size is None else size / 2**20
    graph = None
    if kind == "detector":
        height, width = load_image(sample).shape[:2]
        graph = model.cost_graph(width, height)
    else:
        module = model.cost_module()
        if module is not None:
            template = model.template
            graph = ("torch", module, (1, 3, template.height, template.width))
    if graph is not None:
        counter = onnx_gflops_and_params if graph[0] == "onnx" else torch_gflops_and_params
        values[2], params = counter(graph[1], graph[2])
        values[1] = params / 1e6
    memory = measure_memory(kind, model.name, sample)
    values[3], values[4] = memory["peak_rss_mb"], memory["model_rss_mb"]
    if kind == "recognizer" and crops is not None and len(crops):
        best = (0.0, 1)
        for batch in sorted({1, 8, 32, min(64, len(crops))}):
            start = time.perf_counter()
            for first in range(0, len(crops), batch):
                model.embed_aligned(crops[first : first + batch])
            best = max(best, (len(crops) / (time.perf_counter() - start), batch))
        values[5], values[6] = best
    store.put("cost", config, "model", values.astype(np.float32))
    store.commit()
    return _cost_record(values.astype(np.float32))


def _fold_decisions(scores: np.ndarray, pairs: VerificationPairs, thresholds: np.ndarray) -> np.ndarray:
    """Per pair, whether the pipeline decided correctly with its own fold's threshold."""
    folds = np.unique(pairs.fold)
    threshold_of = dict(zip(folds.tolist(), thresholds.tolist(), strict=True))
    per_pair = np.array([threshold_of[f] for f in pairs.fold.tolist()])
    return (scores >= per_pair) == pairs.is_same  # NaN (no face) compares false: "different"


def run_benchmark(
    pairs: VerificationPairs,
    out_dir: Path,
    *,
    dataset: str,
    detectors: tuple[str, ...] = DEFAULT_GRID["detectors"],
    recognizers: tuple[str, ...] = DEFAULT_GRID["recognizers"],
    align: tuple[str, ...] = DEFAULT_GRID["align"],
    flip: bool = False,
    threads: int | None = None,
    show_progress: bool = True,
    measure_cost: bool = True,
    recognizer_options: dict[str, Any] | None = None,
    degrade: str | None = None,
) -> BenchmarkResult:
    """Run the grid and write results.json, results.csv, scores/ and README.md into ``out_dir``.

    ``degrade`` (``lowres:K``) evaluates every recognizer on aligned crops shrunk K times and scaled
    back, the evaluation that matches low-resolution training.
    """
    degrade = None if degrade in (None, "none") else degrade
    for method in align:
        if method not in ALIGN_METHODS and method not in TEMPLATES:
            choices = ", ".join([*ALIGN_METHODS, *TEMPLATES])
            raise ValueError(f"Expected --align values among {choices}, but got {method!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    images = pairs.images
    runs: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    decisions: dict[str, np.ndarray] = {}
    unreadable: dict[str, str] = {}
    with ResultStore(out_dir) as store:
        built_recognizers = {
            name: create_recognizer(name, flip=flip, threads=threads, degrade=degrade) for name in recognizers
        }
        for detector_name in detectors:
            detector = create_detector(detector_name, threads=threads)
            detected = detect_central_faces(detector, images, store, show_progress=show_progress)
            for path, reason in detected.failures.items():
                unreadable.setdefault(path, reason)
            found = sum(not np.isnan(row[:5]).any() for row in detected.rows.values())
            # the cost probes need an image that decodes: the first one that did
            readable = [p for p in images if str(p) not in detected.failures]
            sample = readable[0] if readable else None
            detector_cost = (
                _model_cost(store, detector, "detector", sample, None) if measure_cost and sample else {}
            )
            for recognizer_name, recognizer in built_recognizers.items():
                for method in align:
                    pipeline = Pipeline(detector_name, method, recognizer_name, degrade)
                    reason = None
                    if method in TEMPLATES:
                        # a template name means similarity alignment onto it: only the template the
                        # recognizer was trained on makes sense
                        own = recognizer.card.preprocess.template
                        if own != method:
                            reason = f"{recognizer_name} was trained on the {own} template, not {method}"
                        method = "similarity"
                    if reason is None and method not in recognizer.align_methods:
                        reason = (
                            f"{recognizer_name} takes only {', '.join(recognizer.align_methods)} alignment"
                        )
                    elif (
                        reason is None
                        and method != "none"
                        and not detector.gives_landmarks
                        and detector.refiner is None
                    ):
                        reason = f"{detector_name} gives no landmarks; '{method}' alignment needs them (add a refiner)"
                    if reason is not None:
                        skipped.append({"pipeline": pipeline.name, "reason": reason})
                        continue
                    started = time.perf_counter()
                    embedded = embed_central_faces(
                        recognizer,
                        method,
                        detector,
                        detected.rows,
                        store,
                        show_progress=show_progress,  # type: ignore[arg-type]
                    )
                    first = np.stack([embedded.rows[str(p)] for p in pairs.first])
                    second = np.stack([embedded.rows[str(p)] for p in pairs.second])
                    scores = recognizer.similarity(first, second)
                    accuracy = kfold_accuracy(scores, pairs.is_same, pairs.fold)
                    correct = _fold_decisions(scores, pairs, accuracy.fold_threshold)
                    decisions[pipeline.name] = correct
                    low, high = wilson_interval(int(correct.sum()), len(correct))
                    rate, _ = eer(scores, pairs.is_same)
                    runs.append(
                        {
                            "pipeline": pipeline.name,
                            "dataset": dataset,
                            "detector": detector_name,
                            "align": method,
                            "recognizer": recognizer_name,
                            "flip": flip,
                            "degrade": degrade,
                            "pairs": len(pairs),
                            "accuracy_mean": round(accuracy.mean, 6),
                            "accuracy_std": round(accuracy.std, 6),
                            "accuracy_ci95": [round(low, 6), round(high, 6)],
                            "fold_accuracy": [round(a, 6) for a in accuracy.fold_accuracy.tolist()],
                            "threshold_all_pairs": round(
                                best_threshold(scores, pairs.is_same)[0],
                                6,
                            ),
                            "auc": round(roc_auc(scores, pairs.is_same), 6),
                            "eer": round(rate, 6),
                            "tar_at_far": {
                                f"{far:g}": None if tar is None else round(tar, 6)
                                for far, tar in tar_at_far(scores, pairs.is_same).items()
                            },
                            "success_rate": round(found / len(images), 6),
                            "unreadable_images": len(detected.failures),
                            "failed_pairs": int(np.isnan(scores).sum()),
                            "failure_policy": "a pair with a missing face scores -inf: counted as 'different'",
                            "detect_ms_p50": _percentile(detected.milliseconds, 50),
                            "detect_ms_p95": _percentile(detected.milliseconds, 95),
                            "embed_ms_p50": _percentile(embedded.milliseconds, 50),
                            "embed_ms_p95": _percentile(embedded.milliseconds, 95),
                            "latency_note": (
                                "median and p95 per image at batch 1, measured when each cached row was "
                                "computed; embed includes alignment, which align_ms_* also times alone on "
                                "64 sample faces"
                            ),
                            "timed_images": {
                                "detect": len(detected.milliseconds),
                                "embed": len(embedded.milliseconds),
                            },
                            "seconds": round(time.perf_counter() - started, 2),
                            "config": {"detector": detector.config, "recognizer": recognizer.config},
                        }
                    )
                    if measure_cost and sample is not None:
                        crops, align_ms = _sample_crops(recognizer, method, detected.rows, readable[:64])
                        runs[-1]["align_ms_p50"] = _percentile(align_ms, 50)
                        runs[-1]["align_ms_p95"] = _percentile(align_ms, 95)
                        recognizer_cost = _model_cost(store, recognizer, "recognizer", sample, crops)
                        runs[-1]["cost"] = {"detector": detector_cost, "recognizer": recognizer_cost}
                        runs[-1]["peak_rss_mb"] = _sum(
                            detector_cost.get("peak_rss_mb"), recognizer_cost.get("model_rss_mb")
                        )
                        runs[-1]["size_mb"] = _sum(
                            detector_cost.get("size_mb"), recognizer_cost.get("size_mb")
                        )
                        runs[-1]["gflops"] = _sum(detector_cost.get("gflops"), recognizer_cost.get("gflops"))
                        runs[-1]["embed_faces_per_s_best"] = recognizer_cost.get("faces_per_s")
                    _write_scores(scores_file(out_dir, pipeline.name), pairs, scores)

    comparisons = []
    for a, b in combinations(sorted(decisions), 2):
        only_a, only_b, p_value = mcnemar_exact(decisions[a], decisions[b])
        comparisons.append(
            {
                "first": a,
                "second": b,
                "only_first_correct": only_a,
                "only_second_correct": only_b,
                "p_value": p_value,
            }
        )
    failures = [{"image": display_name(path), "reason": reason} for path, reason in unreadable.items()]
    result = BenchmarkResult(runs, comparisons, environment(threads), out_dir, skipped, failures)
    _write_outputs(result)
    return result


def _sum(*values: float | None) -> float | None:
    """Sum of the known parts (``None`` when any is unknown: a partial total would mislead)."""
    return None if any(v is None for v in values) else round(sum(values), 4)  # type: ignore[arg-type]


def _sample_crops(
    recognizer: Any, method: str, rows: dict[str, np.ndarray], images: list[Path]
) -> tuple[np.ndarray, list[float]]:
    """Aligned crops of up to 64 dataset faces (for throughput) and each alignment's milliseconds."""
    from facebench.bench.stages import face_from_row
    from facebench.image import load_image

    crops, milliseconds = [], []
    for path in images:
        face = face_from_row(rows[str(path)])
        if face is not None:
            with contextlib.suppress(ValueError):
                rgb = load_image(path)
                start = time.perf_counter()
                crops.append(recognizer.align(rgb, [face], method)[0])
                milliseconds.append((time.perf_counter() - start) * 1000)
    return (np.stack(crops) if crops else np.zeros((0,))), milliseconds


def _write_scores(path: Path, pairs: VerificationPairs, scores: np.ndarray) -> None:
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pair", "fold", "label", "score"])
        for index, (fold, same, score) in enumerate(zip(pairs.fold, pairs.is_same, scores, strict=True)):
            writer.writerow([index, int(fold), int(same), "" if np.isnan(score) else f"{score:.6f}"])


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    flat = {
        k: v for k, v in record.items() if k not in ("config", "tar_at_far", "accuracy_ci95", "timed_images")
    }
    flat["accuracy_ci95_low"], flat["accuracy_ci95_high"] = record["accuracy_ci95"]
    for far, tar in record["tar_at_far"].items():
        flat[f"tar_at_far_{far}"] = "" if tar is None else tar
    return flat


def _write_outputs(result: BenchmarkResult) -> None:
    out = result.out_dir
    atomic_write_text(
        out / "results.json",
        json.dumps(
            {
                "runs": result.runs,
                "comparisons": result.comparisons,
                "environment": result.environment,
                "unreadable": result.unreadable,
            },
            indent=2,
        ),
    )
    with atomic_open(out / "errors.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "reason"])
        writer.writerows([failure["image"], failure["reason"]] for failure in result.unreadable)
    rows = [_flat(run) for run in result.runs]
    if rows:
        with atomic_open(out / "results.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    lines = [
        "# facebench benchmark",
        "",
        f"Machine: {result.environment['cpu']}, {result.environment['cores']} cores, threads={result.environment['threads']}.",
        "",
        "| pipeline | accuracy % | 95% CI | AUC | EER % | TAR@FAR=1e-3 | face found % | detect ms p50 | embed ms p50 "
        "| peak RSS MB | size MB | GFLOPs |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in sorted(result.runs, key=lambda r: -r["accuracy_mean"]):
        tar = run["tar_at_far"].get("0.001")
        low, high = run["accuracy_ci95"]
        lines.append(
            f"| {run['pipeline']} | {100 * run['accuracy_mean']:.2f} ± {100 * run['accuracy_std']:.2f} | "
            f"{100 * low:.2f}–{100 * high:.2f} | {run['auc']:.4f} | {100 * run['eer']:.2f} | "
            f"{'n/a' if tar is None else f'{tar:.4f}'} | {100 * run['success_rate']:.2f} | "
            f"{run['detect_ms_p50']} | {run['embed_ms_p50']} | {run.get('peak_rss_mb')} | "
            f"{run.get('size_mb')} | {run.get('gflops')} |"
        )
    for skip in result.skipped:
        lines.append(f"| {skip['pipeline']} | skipped: {skip['reason']} | | | | | | | | | | |")
    significant = [c for c in result.comparisons if c["p_value"] < 0.05]
    lines += [
        "",
        f"Pairwise exact McNemar tests: {len(significant)} of {len(result.comparisons)} differ at p < 0.05.",
    ]
    for comparison in significant:
        lines.append(
            f"- {comparison['first']} vs {comparison['second']}: {comparison['only_first_correct']} vs "
            f"{comparison['only_second_correct']} discordant pairs, p = {comparison['p_value']:.2g}"
        )
    if result.unreadable:
        lines += [
            "",
            f"{len(result.unreadable)} image(s) could not be read (counted as missed faces; listed in errors.csv):",
        ]
        lines += [f"- {failure['image']}: {failure['reason']}" for failure in result.unreadable[:50]]
        if len(result.unreadable) > 50:
            lines.append(f"- … and {len(result.unreadable) - 50} more in errors.csv")
    atomic_write_text(out / "README.md", "\n".join(lines) + "\n")
