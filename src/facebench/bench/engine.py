"""The benchmark engine: a detector × alignment × recognizer grid on a pair-verification dataset.

Four pure steps: `plan_grid` expands the grid (and says why a pipeline is skipped), `run_jobs`
computes every detector's per-image work through an executor, keeping every detection and
embedding in the output folder's store, `score` turns a pipeline's embeddings into its metrics
(LFW protocol: threshold chosen on the other folds; a 95% Wilson interval on every accuracy), and
`measure_costs` adds size, parameters, GFLOPs, memory and throughput once per model
configuration. `run_benchmark` chains them and returns a typed `BenchmarkResult`; it writes
nothing but the store (see `facebench.report.write_all` for the files).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facebench.bench.environment import environment, environment_fingerprint, provenance
from facebench.bench.executor import Executor, LocalExecutor
from facebench.bench.no_face import NoFacePolicy
from facebench.bench.plan import EmbedSpec, GridPlan, ModelPool, ModelSpec, PlannedPipeline, plan_grid
from facebench.bench.records import FaceSource, Status
from facebench.bench.results import (
    NO_LATENCY,
    BenchmarkResult,
    Failures,
    Identification,
    ImageFailure,
    ModelCost,
    PipelineResult,
    SkippedPipeline,
    _pack,
    compare,
)
from facebench.bench.stages import JobOutput, key_images, run_jobs
from facebench.bench.store import ResultStore, config_digest
from facebench.datasets.identities import IdentificationSet
from facebench.datasets.lfw import VerificationPairs
from facebench.image import display_name
from facebench.metrics.identification import cmc_curve
from facebench.metrics.roc import eer, roc_auc, tar_at_far
from facebench.metrics.significance import wilson_interval
from facebench.metrics.verification import best_threshold, kfold_accuracy
from facebench.recognizers.base import similarity, similarity_matrix

__all__ = ["DEFAULT_GRID", "measure_costs", "run_benchmark", "score"]

#: the fastest and the most accurate detector with landmarks (RetinaFace through its verified ONNX
#: export), the most accurate recognizer (float EdgeFace-XS through ONNX Runtime: the int8 one's
#: accuracy at a third of its time) and the cheapest one: four pipelines spanning the trade-off.
DEFAULT_GRID: dict[str, tuple[str, ...]] = {
    "detectors": ("yunet", "retinaface_mnet025"),
    "recognizers": ("edgeface_xs_dequant@onnx", "mobilefacenet_tflite"),
    "align": ("similarity",),
}

_POLICY_TEXT = {
    "center": "an image without a detected face is embedded from its central crop (no landmarks); "
    "a pair still missing a face has no score and is decided 'different'",
    "fallback": "an image without a detected face is retried with the fallback detectors, then upscaled "
    "x2; a pair still missing a face has no score and is decided 'different'",
}


def _fold_decisions(scores: np.ndarray, pairs: VerificationPairs, thresholds: np.ndarray) -> np.ndarray:
    """Per pair, whether the pipeline decided correctly with its own fold's threshold."""
    folds = np.unique(pairs.fold)
    threshold_of = dict(zip(folds.tolist(), thresholds.tolist(), strict=True))
    per_pair = np.array([threshold_of[f] for f in pairs.fold.tolist()])
    return (scores >= per_pair) == pairs.is_same  # NaN (no face) compares false: "different"


def _failures(output: JobOutput, embed: int, images: Sequence[Path]) -> Failures:
    counts = {"no_face": 0, "unreadable": 0, "align_failed": 0, "error": 0}
    for path in map(str, images):
        if path in output.errors:
            counts["error"] += 1
        elif path in output.unreadable:
            counts["unreadable"] += 1
        else:
            status = output.embedding_status(embed, path)
            if status == Status.NO_FACE:
                counts["no_face"] += 1
            elif status == Status.ALIGN_FAILED:
                counts["align_failed"] += 1
    return Failures(**counts)


def score(
    planned: PlannedPipeline,
    output: JobOutput,
    pairs: VerificationPairs,
    *,
    dataset: str,
    recognizer: Any,
    detector: Any,
    costs: dict[ModelSpec, ModelCost],
    detector_spec: ModelSpec,
    embed_spec: EmbedSpec,
    seconds: float,
    identification: IdentificationSet | None = None,
) -> PipelineResult:
    """One pipeline's metrics from its embeddings (a missing face: no score, decided 'different')."""
    embeddings = output.embeddings[planned.embed]
    nan = np.full(recognizer.embedding_dim, np.nan, np.float32)

    def stack(paths: list[Path]) -> np.ndarray:
        rows = []
        for path in paths:
            record = embeddings.get(str(path))
            rows.append(record.vector if record is not None and record.vector is not None else nan)
        return np.stack(rows)

    identified = None
    if identification is not None:
        probes = stack(identification.probes)
        matrix = similarity_matrix(
            probes, stack(identification.gallery), recognizer.metric, recognizer.normalize
        )
        curve = cmc_curve(matrix, identification.probe_identity, identification.gallery_identity)
        identified = Identification(
            gallery=len(identification.gallery),
            probes=len(identification.probes),
            cmc=tuple(round(float(v), 6) for v in curve),
            probes_without_face=int(np.isnan(probes).any(axis=1).sum()),
            split=identification.split,
        )

    scores = similarity(stack(pairs.first), stack(pairs.second), recognizer.metric, recognizer.normalize)
    accuracy = kfold_accuracy(scores, pairs.is_same, pairs.fold)
    correct = _fold_decisions(scores, pairs, accuracy.fold_threshold)
    low, high = wilson_interval(int(correct.sum()), len(correct))
    rate, _ = eer(scores, pairs.is_same)
    images = pairs.images
    # the detector's own find rate: faces a no-face policy rescued are counted apart
    found = sum(
        1
        for p in images
        if (d := output.detections.get(str(p))) is not None
        and d.status == Status.OK
        and d.source == FaceSource.DETECTOR
    )
    policy = getattr(detector, "policy", None) or NoFacePolicy()
    rescued_images: dict[str, int] = {}
    rescued_paths = set()
    for path in images:
        record = output.detections.get(str(path))
        if record is not None and record.status == Status.OK and record.source != FaceSource.DETECTOR:
            name = policy.source_name(record.source)
            rescued_images[name] = rescued_images.get(name, 0) + 1
            rescued_paths.add(path)
    rescued_pairs = sum(
        1 for a, b in zip(pairs.first, pairs.second, strict=True) if a in rescued_paths or b in rescued_paths
    )
    return PipelineResult(
        pipeline=planned.pipeline.name,
        dataset=dataset,
        detector=planned.pipeline.detector,
        align=embed_spec.method,
        recognizer=embed_spec.recognizer.name,
        engine=recognizer.engine,
        flip=recognizer.flip,
        degrade=recognizer.degrade,
        restore=recognizer.restore,
        pairs=len(pairs),
        images=len(images),
        accuracy_mean=round(accuracy.mean, 6),
        accuracy_std=round(accuracy.std, 6),
        accuracy_ci95=(round(low, 6), round(high, 6)),
        fold_accuracy=tuple(round(a, 6) for a in accuracy.fold_accuracy.tolist()),
        threshold_all_pairs=round(best_threshold(scores, pairs.is_same)[0], 6),
        auc=round(roc_auc(scores, pairs.is_same), 6),
        eer=round(rate, 6),
        tar_at_far={
            f"{far:g}": None if tar is None else round(tar, 6)
            for far, tar in tar_at_far(scores, pairs.is_same).items()
        },
        success_rate=round(found / len(images), 6),
        failed_pairs=int(np.isnan(scores).sum()),
        failures=_failures(output, planned.embed, images),
        detect_latency=output.detect_latency or NO_LATENCY,
        embed_latency=output.embed_latency[planned.embed] if output.embed_latency else NO_LATENCY,
        align_latency=output.align_latency[planned.embed] if output.align_latency else NO_LATENCY,
        detector_cost=costs.get(detector_spec),
        recognizer_cost=costs.get(embed_spec.recognizer),
        seconds=round(seconds, 2),
        config={"detector": detector.config, "recognizer": recognizer.config, "align": embed_spec.method},
        decisions=_pack(correct),
        identification=identified,
        no_face_policy=policy.spec,
        rescued_images=rescued_images,
        rescued_pairs=rescued_pairs,
        fold_thresholds=tuple(round(float(t), 6) for t in accuracy.fold_threshold),
        **({"failure_policy": _POLICY_TEXT[policy.kind]} if policy.kind != "fail" else {}),
        scores=scores.astype(np.float32),
    )


def _sample_crops(recognizer: Any, method: str, output: JobOutput, images: list[Path]) -> np.ndarray:
    """Aligned crops of up to 64 dataset faces, for the throughput probe."""
    from facebench.image import load_image

    crops = []
    for path in images:
        record = output.detections.get(str(path))
        if record is None or record.face is None or (method != "none" and record.face.landmarks is None):
            continue
        crops.append(recognizer.align(load_image(path), [record.face], method)[0])
        if len(crops) == 64:
            break
    return np.stack(crops) if crops else np.zeros((0,))


def _cost_config(store: ResultStore, spec: ModelSpec, model: Any, sample: Path, fingerprint: str) -> str:
    """Costs are cached per configuration *and environment* (memory and speed depend on the machine)."""
    return store.register(
        {
            "stage": "cost",
            "kind": spec.kind,
            "sample": str(sample),
            "options": [list(o) for o in spec.options],
            "environment": fingerprint,
            **model.config,
        }
    )


def _static_cost(spec: ModelSpec, model: Any, sample: Path, crops: np.ndarray | None) -> dict[str, Any]:
    """Size, parameters, GFLOPs and best-batch throughput of one model (memory is measured apart)."""
    from facebench.bench.cost import file_bytes, onnx_gflops_and_params, torch_gflops_and_params
    from facebench.image import load_image

    size = file_bytes(model.card, model.store)
    graph = None
    if spec.kind == "detector":
        height, width = load_image(sample).shape[:2]
        graph = model.cost_graph(width, height)
    else:
        module = model.cost_module()
        if module is not None:
            graph = ("torch", module, (1, 3, model.template.height, model.template.width))
    gflops = params = None
    if graph is not None:
        counter = onnx_gflops_and_params if graph[0] == "onnx" else torch_gflops_and_params
        gflops, count = counter(graph[1], graph[2])
        params = count / 1e6
    faces_per_s = best_batch = None
    if spec.kind == "recognizer" and crops is not None and len(crops):
        best = (0.0, 1)
        for batch in sorted({1, 8, 32, min(64, len(crops))}):
            start = time.perf_counter()
            for first in range(0, len(crops), batch):
                model.embed_aligned(crops[first : first + batch])
            best = max(best, (len(crops) / (time.perf_counter() - start), batch))
        faces_per_s, best_batch = round(best[0], 1), best[1]

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(float(value), 4)

    return {
        "size_mb": rounded(None if size is None else size / 2**20),
        "params_m": rounded(params),
        "gflops": rounded(gflops),
        "faces_per_s": faces_per_s,
        "best_batch": best_batch,
    }


def measure_costs(
    plan: GridPlan,
    outputs: list[JobOutput],
    images: list[Path],
    store: ResultStore,
    pool: ModelPool,
    fingerprint: str,
) -> dict[ModelSpec, ModelCost]:
    """Each model configuration of the plan costed once, with the options the run built it with.

    Memory probes (a fresh process per model) run side by side, before the throughput probes,
    so they never overlap a timing.
    """
    import json
    from dataclasses import asdict

    from facebench.bench.cost import MemoryProbe, measure_memory_many

    wanted: dict[ModelSpec, tuple[Path, np.ndarray | None]] = {}
    for job, output in zip(plan.jobs, outputs, strict=True):
        readable = [p for p in images if str(p) not in output.unreadable and str(p) not in output.errors]
        if not readable:
            continue
        wanted.setdefault(job.detector, (readable[0], None))
        for embed in job.embeds:
            if embed.recognizer not in wanted:
                crops = _sample_crops(pool.describe(embed.recognizer), embed.method, output, readable)
                wanted[embed.recognizer] = (readable[0], crops)
    costs: dict[ModelSpec, ModelCost] = {}
    configs = {}
    for spec, (sample, _) in wanted.items():
        configs[spec] = _cost_config(store, spec, pool.describe(spec), sample, fingerprint)
        cached = store.get_many("cost", configs[spec], ["model"])
        if "model" in cached:
            costs[spec] = ModelCost(**json.loads(cached["model"]))
    missing = [spec for spec in wanted if spec not in costs]
    memory = measure_memory_many(
        [MemoryProbe(spec.kind, spec.name, wanted[spec][0], dict(spec.options)) for spec in missing]
    )
    for spec, measured in zip(missing, memory, strict=True):
        sample, sample_crops = wanted[spec]
        cost = ModelCost(
            **_static_cost(spec, pool.get(spec), sample, sample_crops),
            peak_rss_mb=measured["peak_rss_mb"],
            model_rss_mb=measured["model_rss_mb"],
        )
        store.put("cost", configs[spec], "model", json.dumps(asdict(cost)).encode())
        costs[spec] = cost
    store.commit()
    return costs


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
    degrade: str | tuple[str | None, ...] | None = None,
    restore: str | tuple[str | None, ...] | None = None,
    executor: Executor | None = None,
    identification: IdentificationSet | None = None,
    on_no_face: str = "fail",
) -> BenchmarkResult:
    """Run the grid on ``pairs``; the store in ``out_dir`` makes a re-run compute only what is new.

    Recognizers may name an engine: ``edgeface_xs_dequant@onnx``. ``degrade`` (``lowres:4``,
    ``lowres:4:area,jpeg:50``; one or several) evaluates every recognizer on degraded aligned
    crops, and ``restore`` (``bicubic``, ``fsrcnn_x4``, …; one or several, ``none`` for the
    bilinear resize) brings shrunk crops back to size (`facebench.ops.degrade`, `facebench.restore`).
    ``identification`` (`facebench.datasets.load_identification_set`) adds closed-set rank-1,
    rank-5 and the CMC of every pipeline, from the same cached embeddings (its images join the run).
    ``on_no_face`` (``fail``, ``center``, ``fallback:DET[,DET…]``; `facebench.bench.no_face`) says
    what happens to an image in which the detector finds no face.
    """
    NoFacePolicy.parse(on_no_face)  # a bad value fails before any work
    pool = executor.pool if isinstance(executor, LocalExecutor) else ModelPool()
    executor = executor or LocalExecutor(pool)
    plan = plan_grid(
        detectors,
        recognizers,
        align,
        pool=pool,
        flip=flip,
        threads=threads,
        degrade=degrade,
        restore=restore,
        recognizer_options=recognizer_options,
        on_no_face=on_no_face,
    )
    images = pairs.images
    if identification is not None:
        images = sorted(set(images) | set(identification.images))
    fingerprint = environment_fingerprint(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = key_images(images)
    with ResultStore(out_dir) as store:
        started = time.perf_counter()
        outputs = run_jobs(
            plan.jobs,
            keys,
            store,
            pool=pool,
            executor=executor,
            environment=fingerprint,
            show_progress=show_progress,
        )
        seconds = [time.perf_counter() - started] * len(plan.jobs)  # the jobs ran interleaved
        costs = measure_costs(plan, outputs, images, store, pool, fingerprint) if measure_cost else {}
    runs = []
    for planned in plan.pipelines:
        job = plan.jobs[planned.job]
        embed = job.embeds[planned.embed]
        runs.append(
            score(
                planned,
                outputs[planned.job],
                pairs,
                dataset=dataset,
                recognizer=pool.describe(embed.recognizer),
                detector=pool.describe(job.detector),
                costs=costs,
                detector_spec=job.detector,
                embed_spec=embed,
                seconds=seconds[planned.job],
                identification=identification,
            )
        )
    failures: dict[tuple[str, str], ImageFailure] = {}
    for output in outputs:
        for path, reason in output.unreadable.items():
            failures.setdefault((path, "unreadable"), ImageFailure(display_name(path), "unreadable", reason))
        for path, reason in output.errors.items():
            failures.setdefault((path, reason), ImageFailure(display_name(path), "error", reason))
    env = environment(threads)
    env["fingerprint"] = fingerprint
    env.update(provenance())
    env["grid_digest"] = config_digest({"plan": [p.pipeline.name for p in plan.pipelines]})
    describe = getattr(executor, "describe", None)
    env["executor"] = describe() if describe is not None else {"kind": "local"}
    runs_tuple = tuple(runs)
    return BenchmarkResult(
        runs_tuple,
        compare(runs_tuple),
        env,
        tuple(SkippedPipeline(s.pipeline, s.reason) for s in plan.skipped),
        tuple(failures.values()),
        out_dir,
    )
