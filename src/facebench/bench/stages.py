"""The driver of the per-image stages: what the store lacks is computed by an executor and stored.

For each detector job the driver keys every image by a digest of its bytes, reads the detections
and embeddings the store already holds for the exact configuration (options, weight sha256, code
version), hands only the missing work to the executor, and stores each outcome as it arrives: a
killed run keeps everything committed and resumes from there. Unexpected exceptions are reported
with the image's name and never stored, so the next run tries that image again.

Latency samples go to their own table, keyed by the environment they were measured in and the
batch size. A report takes latencies measured in the current environment; when the outputs came
from the store (another machine, other threads) it re-measures them on a sample and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from facebench.bench.executor import Executor, ImageOutcome, LocalExecutor, WorkItem
from facebench.bench.plan import DetectorJob, FaceChoice, ModelPool, ModelSpec
from facebench.bench.records import DetectionRecord, EmbeddingRecord, RecordError, Status
from facebench.bench.results import StageLatency
from facebench.bench.store import ResultStore, content_key
from facebench.errors import ImageError
from facebench.image import read_image_file
from facebench.progress import progress
from facebench.types import Face

__all__ = [
    "LATENCY_SAMPLE",
    "STAGE_VERSION",
    "ImageKeys",
    "JobOutput",
    "central_faces",
    "detect_description",
    "embed_images",
    "key_images",
    "run_jobs",
]

#: bumped when a stage's own code (central-face choice, crop handling, record layout) changes
#: what it stores; rows of the old code are then never reused
STAGE_VERSION = {"detect": 3, "embed": 3}

#: images re-timed when a configuration's latencies were not measured in this environment
LATENCY_SAMPLE = 64


@dataclass
class ImageKeys:
    """Each image's content key, or why it could not be read (then it has no key)."""

    keys: dict[str, str]
    unreadable: dict[str, str]


def key_images(images: Sequence[Path], threads: int = 4) -> ImageKeys:
    """Digest every image's bytes (in a small thread pool: this is I/O)."""

    def chunk(paths: list[Path]) -> list[tuple[str, str | None, str | None]]:
        keyed: list[tuple[str, str | None, str | None]] = []
        for path in paths:
            try:
                keyed.append((str(path), content_key(read_image_file(path)), None))
            except ImageError as error:
                keyed.append((str(path), None, error.reason))
        return keyed

    unique = list(dict.fromkeys(images))
    # a few hundred files per task: a future per small file would cost more than reading it
    chunks = [unique[i : i + 512] for i in range(0, len(unique), 512)]
    keys: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    with ThreadPoolExecutor(threads) as pool:
        for keyed in pool.map(chunk, chunks):
            for path, key, reason in keyed:
                if key is None:
                    unreadable[path] = reason or "unreadable"
                else:
                    keys[path] = key
    return ImageKeys(keys, unreadable)


@dataclass
class JobOutput:
    """A job's records per image path, the images that failed unexpectedly, and its latencies."""

    detect_config: str
    embed_configs: list[str]
    detections: dict[str, DetectionRecord]
    embeddings: list[dict[str, EmbeddingRecord]]
    #: unexpected exceptions, by image path (not stored; retried next run)
    errors: dict[str, str] = field(default_factory=dict)
    #: images that could not be read or decoded, with the reason (not stored: cheap to retry)
    unreadable: dict[str, str] = field(default_factory=dict)
    detect_latency: StageLatency | None = None
    embed_latency: list[StageLatency] = field(default_factory=list)
    align_latency: list[StageLatency] = field(default_factory=list)

    def embedding_status(self, embed: int, path: str) -> Status | None:
        """Why an image has no embedding in one embed (``None``: it has one, or an error)."""
        record = self.embeddings[embed].get(path)
        if record is not None:
            return record.status
        detection = self.detections.get(path)
        return detection.status if detection is not None and detection.status != Status.OK else None


def detect_description(config: dict[str, Any], face: FaceChoice = "central") -> dict[str, Any]:
    """What the store keys a detector's rows by: its ``config``, this stage's code version and,
    unless it is the central one, which face a record keeps (`DetectorJob.face`)."""
    chosen = {} if face == "central" else {"face": face}  # central: the keys stored before it existed
    return {"stage": "detect", "stage_version": STAGE_VERSION["detect"], **config, **chosen}


def detect_config(store: ResultStore, detector: Any, face: FaceChoice = "central") -> str:
    return store.register(detect_description(detector.config, face))


def embed_config(store: ResultStore, recognizer: Any, method: str, detect: str) -> str:
    return store.register(
        {
            "stage": "embed",
            "stage_version": STAGE_VERSION["embed"],
            "align": method,
            **recognizer.config,
            "detect_config": detect,
        }
    )


def _decoded(rows: dict[str, bytes], decoder: Any) -> dict[str, Any]:
    records = {}
    for key, data in rows.items():
        try:
            records[key] = decoder(data)
        except RecordError:  # an older layout: recompute it
            continue
    return records


@dataclass
class _JobState:
    """A job's store configurations, what the store already holds, and what is left to compute."""

    job: DetectorJob
    dconfig: str
    econfigs: list[str]
    batches: list[int]
    detections: dict[str, DetectionRecord]
    embeddings: list[dict[str, EmbeddingRecord]]
    items: list[WorkItem]
    errors: dict[str, str] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


def _prepare(job: DetectorJob, keys: ImageKeys, store: ResultStore, pool: ModelPool) -> _JobState:
    detector = pool.describe(job.detector)  # configurations only: no weights read yet
    recognizers = [pool.describe(embed.recognizer) for embed in job.embeds]
    dconfig = detect_config(store, detector, job.face)
    econfigs = [
        embed_config(store, recognizer, embed.method, dconfig)
        for embed, recognizer in zip(job.embeds, recognizers, strict=True)
    ]
    unique = list(dict.fromkeys(keys.keys.values()))
    detections = _decoded(store.get_many("detect", dconfig, unique), DetectionRecord.decode)
    embeddings = [
        _decoded(store.get_many("embed", config, unique), EmbeddingRecord.decode) for config in econfigs
    ]
    first_path: dict[str, Path] = {}
    for path, key in keys.keys.items():
        first_path.setdefault(key, Path(path))
    items = []
    for key in unique:
        detection = detections.get(key)
        needs_face = detection is None or detection.status == Status.OK
        missing = tuple(e for e in range(len(job.embeds)) if key not in embeddings[e]) if needs_face else ()
        if detection is None or missing:
            items.append(WorkItem(first_path[key], key, detection, missing))
    batches = [recognizer.batch_size for recognizer in recognizers]
    return _JobState(job, dconfig, econfigs, batches, detections, embeddings, items)


def _finish(state: _JobState, keys: ImageKeys) -> JobOutput:
    output = JobOutput(
        state.dconfig,
        state.econfigs,
        {path: state.detections[key] for path, key in keys.keys.items() if key in state.detections},
        [{path: e[key] for path, key in keys.keys.items() if key in e} for e in state.embeddings],
        {path: state.errors[key] for path, key in keys.keys.items() if key in state.errors},
        {
            **keys.unreadable,
            **{path: state.unreadable[key] for path, key in keys.keys.items() if key in state.unreadable},
        },
    )
    for path in output.unreadable:
        output.detections[path] = DetectionRecord(Status.UNREADABLE)
    return output


def run_jobs(
    jobs: Sequence[DetectorJob],
    keys: ImageKeys,
    store: ResultStore,
    *,
    pool: ModelPool,
    executor: Executor | None = None,
    environment: str,
    show_progress: bool = True,
    measure_latency: bool = True,
) -> list[JobOutput]:
    """Detect and embed every keyed image for each job, computing only what the store lacks.

    An executor with ``run_jobs`` gets every job at once (the local one decodes each image once
    for all detectors); any other runs them one after the other.
    """
    executor = executor or LocalExecutor(pool)
    # an executor whose timings are not this environment's (another process or machine) leaves
    # the latencies to a local sample
    timed_here = getattr(executor, "measures_latency", True)
    timer = executor if timed_here else LocalExecutor(pool)
    states = [_prepare(job, keys, store, pool) for job in jobs]
    total = sum(len(state.items) for state in states)
    with progress(" · ".join(_label(job) for job in jobs) or "stages", total, show=show_progress) as reporter:
        if hasattr(executor, "run_jobs"):
            stream = executor.run_jobs(jobs, [state.items for state in states])
        else:
            stream = (
                (i, o)
                for i, (job, s) in enumerate(zip(jobs, states, strict=True))
                for o in executor.run(job, s.items)
            )
        for index, outcome in stream:
            state = states[index]
            _store(outcome, store, state, environment if timed_here else None)
            reporter.advance()
    store.commit()
    outputs = [_finish(state, keys) for state in states]
    if measure_latency:
        for state, output in zip(states, outputs, strict=True):
            _latencies(state.job, output, keys, store, timer, environment, state.detections, state.batches)
    return outputs


def _label(job: DetectorJob) -> str:
    return f"{job.detector.label} → " + ", ".join(f"{e.recognizer.label} ({e.method})" for e in job.embeds)


def _store(outcome: ImageOutcome, store: ResultStore, state: _JobState, environment: str | None) -> None:
    """Keep one outcome; its timings too, under ``environment`` (``None``: not timed here)."""
    key = outcome.item.key
    if outcome.unreadable is not None:
        # named in the results, never stored: decoding it again costs next to nothing
        state.unreadable[key] = outcome.unreadable
        return
    dconfig, econfigs = state.dconfig, state.econfigs
    if outcome.detection is not None:  # valid even when a later step of this image raised
        store.put("detect", dconfig, key, outcome.detection.encode())
        state.detections[key] = outcome.detection
        if outcome.detect_ms is not None and environment is not None:
            store.put_latency("detect", dconfig, environment, outcome.detect_batch, key, outcome.detect_ms)
    for index, record in outcome.embeddings.items():
        store.put("embed", econfigs[index], key, record.encode())
        state.embeddings[index][key] = record
        if environment is None:
            continue
        if index in outcome.embed_ms:
            store.put_latency(
                "embed",
                econfigs[index],
                environment,
                outcome.embed_batch[index],
                key,
                outcome.embed_ms[index],
            )
        if index in outcome.align_ms:
            store.put_latency("align", econfigs[index], environment, 1, key, outcome.align_ms[index])
    if outcome.error is not None:
        state.errors[key] = outcome.error


def _summary(
    samples: list[float], batch: int, source: str, environment: str, latest: float | None
) -> StageLatency:
    if not samples:
        return StageLatency(None, None, 0, batch, "none", environment, None)
    values = np.asarray(samples)
    when = datetime.fromtimestamp(latest, UTC).isoformat(timespec="seconds") if latest else None
    return StageLatency(
        round(float(np.percentile(values, 50)), 3),
        round(float(np.percentile(values, 95)), 3),
        len(values),
        batch,
        source,
        environment,
        when,
    )


def _collect(
    store: ResultStore, stage: str, config: str, environment: str, wanted: set[str], batch: int | None = None
) -> tuple[list[float], int, float | None]:
    """Samples of this run's images measured in ``environment`` (at ``batch`` when given)."""
    samples = [
        s
        for s in store.latencies(stage, config, environment)
        if s.image in wanted and (batch is None or s.batch == batch)
    ]
    if not samples:
        return [], 0, None
    batches = sorted({s.batch for s in samples})
    return [s.ms for s in samples], batches[-1], max(s.measured_at for s in samples)


def _latencies(
    job: DetectorJob,
    output: JobOutput,
    keys: ImageKeys,
    store: ResultStore,
    executor: Executor,
    environment: str,
    detections: dict[str, DetectionRecord],
    batches: list[int],
) -> None:
    """Latencies of this run's images measured here; re-measured on a sample when too few were."""
    readable = {k for k in keys.keys.values() if k in detections}  # decoded, with a detection record
    with_face = {k for k in readable if k in detections and detections[k].status == Status.OK}

    def gather() -> tuple[Any, list[Any], list[Any]]:
        detect = _collect(store, "detect", output.detect_config, environment, readable)
        embed = [
            _collect(store, "embed", c, environment, with_face, size)
            for c, size in zip(output.embed_configs, batches, strict=True)
        ]
        align = [_collect(store, "align", c, environment, with_face) for c in output.embed_configs]
        return detect, embed, align

    detect, embed, align = gather()
    needed = min(LATENCY_SAMPLE, len(readable))
    source = "measured"
    short = len(detect[0]) < needed or any(len(e[0]) < min(LATENCY_SAMPLE, len(with_face)) for e in embed)
    if short and readable:
        # the outputs came from the store (another machine, thread count or library version):
        # time a fixed sample again here, computing (not storing) its outputs
        sample = sorted(with_face or readable)[:LATENCY_SAMPLE]
        by_key = {key: Path(path) for path, key in reversed(list(keys.keys.items()))}
        items = [WorkItem(by_key[k], k, None, tuple(range(len(job.embeds)))) for k in sample]
        for outcome in executor.run(job, items):
            key = outcome.item.key
            if outcome.detect_ms is not None:
                store.put_latency(
                    "detect", output.detect_config, environment, outcome.detect_batch, key, outcome.detect_ms
                )
            for index, ms in outcome.embed_ms.items():
                store.put_latency(
                    "embed", output.embed_configs[index], environment, outcome.embed_batch[index], key, ms
                )
            for index, ms in outcome.align_ms.items():
                store.put_latency("align", output.embed_configs[index], environment, 1, key, ms)
        store.commit()
        detect, embed, align = gather()
        source = f"re-measured on {len(sample)} images"
    output.detect_latency = _summary(detect[0], detect[1] or 1, source, environment, detect[2])
    output.embed_latency = [
        _summary(e[0], size, source, environment, e[2]) for e, size in zip(embed, batches, strict=True)
    ]
    output.align_latency = [_summary(a[0], 1, source, environment, a[2]) for a in align]


def central_faces(
    detector_name: str, paths: Sequence[Path], folder: Path, *, threads: int | None = None
) -> list[Face | None]:
    """Each image's central face (``None`` when there is none or it cannot be read), cached in ``folder``.

    The engine's detect stage alone: used to build training sets from benchmark-style images.
    """
    from facebench.bench.environment import environment_fingerprint

    pool = ModelPool()
    job = DetectorJob(ModelSpec.of("detector", detector_name, threads=threads), ())
    keys = key_images(paths)
    with ResultStore(folder) as store:
        (output,) = run_jobs(
            [job],
            keys,
            store,
            pool=pool,
            environment=environment_fingerprint(threads),
            show_progress=False,
            measure_latency=False,
        )
    faces = []
    for path in paths:
        record = output.detections.get(str(path))
        faces.append(record.face if record is not None else None)
    return faces


def embed_images(
    detector: Any,
    recognizer: Any,
    method: str,
    images: Sequence[Path],
    folder: Path,
    *,
    show_progress: bool = True,
    executor: Executor | None = None,
    face: FaceChoice = "central",
) -> tuple[dict[str, np.ndarray], JobOutput]:
    """The embedding of each image's central (or ``best``) face, absent where there is none, cached
    in ``folder``.

    ``detector`` and ``recognizer`` are built models, or their `ModelSpec` (which an executor in
    another process, such as Ray's, needs: it builds its own).
    """
    from facebench.bench.environment import environment_fingerprint
    from facebench.bench.plan import EmbedSpec

    pool = ModelPool()

    def spec(kind: Literal["detector", "recognizer"], model: Any) -> ModelSpec:
        return model if isinstance(model, ModelSpec) else pool.adopt(kind, model)

    detector_spec, recognizer_spec = spec("detector", detector), spec("recognizer", recognizer)
    job = DetectorJob(detector_spec, (EmbedSpec(recognizer_spec, method),), face)
    threads = dict(recognizer_spec.options).get("threads", getattr(recognizer, "threads", None))
    with ResultStore(folder) as store:
        (output,) = run_jobs(
            [job],
            key_images(images),
            store,
            pool=pool,
            executor=executor,
            environment=environment_fingerprint(threads),
            show_progress=show_progress,
            measure_latency=False,
        )
    vectors = {path: r.vector for path, r in output.embeddings[0].items() if r.vector is not None}
    return vectors, output
