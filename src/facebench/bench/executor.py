"""Executors run the per-image work of a `DetectorJob`: decode, detect, align, embed.

The driver (`facebench.bench.stages`) decides what is missing from the store and stores what comes
back; an executor only computes. `LocalExecutor` is the default: a bounded thread pool decodes
images ahead of inference, recognizers load in a background thread while the first chunks are
detected, same-size images go through the detector together where the model batches, and each
recognizer embeds its faces in batches of its own ``batch_size`` (1 for the int8 ``_q`` models,
whose embeddings would otherwise depend on their batch-mates). A distributed
executor implements the same `Executor.run` and needs no change to planning or scoring.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from facebench.bench.no_face import central_face
from facebench.bench.plan import DetectorJob, FaceChoice, ModelPool, ModelSpec
from facebench.bench.records import DetectionRecord, EmbeddingRecord, FaceSource, Status
from facebench.bench.store import content_key
from facebench.errors import AlignmentError, ImageError, describe_exception
from facebench.image import DecodedImage, decode_image, display_name, read_image_file
from facebench.types import Face, Faces

__all__ = ["Executor", "ImageOutcome", "LocalExecutor", "WorkItem", "central_face"]


@dataclass(frozen=True)
class WorkItem:
    """One image to process: its key (digest of its bytes, read by the driver), the detection the
    store already holds (``None``: detect it) and the indices of the job's embeds still missing."""

    path: Path
    key: str
    detection: DetectionRecord | None
    embeds: tuple[int, ...]


@dataclass
class ImageOutcome:
    """What an executor computed for one `WorkItem`.

    ``detection`` is set when it was computed here. ``unreadable`` names why the file could not
    be decoded; ``error`` holds an unexpected exception (with the model that raised it): neither
    is cached, so the next run tries again.
    """

    item: WorkItem
    detection: DetectionRecord | None = None
    detect_ms: float | None = None
    detect_batch: int = 1
    embeddings: dict[int, EmbeddingRecord] = field(default_factory=dict)
    embed_ms: dict[int, float] = field(default_factory=dict)
    embed_batch: dict[int, int] = field(default_factory=dict)
    align_ms: dict[int, float] = field(default_factory=dict)
    unreadable: str | None = None
    error: str | None = None


class Executor(Protocol):
    """Runs a job's per-image work and yields one outcome per item (in any order)."""

    def run(self, job: DetectorJob, items: Sequence[WorkItem]) -> Iterator[ImageOutcome]: ...


@dataclass
class _Decoded:
    image: DecodedImage | None = None
    data: bytes | None = None  # kept only when ``image`` was reduced: alignment needs full resolution
    reason: str | None = None
    error: str | None = None


@dataclass
class _Detected:
    """One job's chunk, detected, waiting for its recognizers."""

    job: int
    chunk: Sequence[WorkItem]
    decoded: list[_Decoded]
    outcomes: list[ImageOutcome]
    faces: dict[int, Face]
    centred: set[int]

    @property
    def nbytes(self) -> int:
        return sum(
            (d.image.rgb.nbytes if d.image is not None else 0) + len(d.data or b"") for d in self.decoded
        )


def _ready(loading: dict[ModelSpec, Future[Any]], job: DetectorJob) -> bool:
    return all(loading[embed.recognizer].done() for embed in job.embeds if embed.recognizer in loading)


def _over_bound(deferred: deque[_Detected], limit: int) -> bool:
    return len(deferred) > 1 and sum(part.nbytes for part in deferred) > limit


def _default_decode_threads() -> int:
    from facebench.ops.runtime import default_threads

    return max(1, min(4, default_threads() // 2))


class LocalExecutor:
    """Runs jobs in this process (see the module docstring).

    Args:
        pool: where models are built (shared with planning, so nothing is built twice).
        decode_threads: decoder threads (default: half the cores, 1 to 4). Pillow and OpenCV
            release the GIL while decoding, so decoding overlaps inference.
        chunk_size: images decoded, detected and embedded together; bounds memory (the next
            chunk is decoded while this one is inferred).
        defer_bytes: decoded pixels of the chunks detected ahead while a recognizer loads.
    """

    def __init__(
        self,
        pool: ModelPool | None = None,
        *,
        decode_threads: int | None = None,
        chunk_size: int = 64,
        defer_bytes: int = 256 << 20,
    ) -> None:
        self.pool = pool or ModelPool()
        self.decode_threads = decode_threads or _default_decode_threads()
        self.chunk_size = chunk_size
        self.defer_bytes = defer_bytes

    def run(self, job: DetectorJob, items: Sequence[WorkItem]) -> Iterator[ImageOutcome]:
        for _, outcome in self.run_jobs([job], [items]):
            yield outcome

    def run_jobs(
        self, jobs: Sequence[DetectorJob], items: Sequence[Sequence[WorkItem]]
    ) -> Iterator[tuple[int, ImageOutcome]]:
        """Every job's items, chunk by chunk over the images they share: each image is read and
        decoded once for all detectors that decode it at the same size (``decode_fit``)."""
        detectors = [self.pool.describe(job.detector) for job in jobs]
        recognizers = [[self.pool.describe(embed.recognizer) for embed in job.embeds] for job in jobs]
        fits = [detector.decode_fit() for detector in detectors]
        wanted: dict[str, dict[int, WorkItem]] = {}  # image key → job → its item, in image order
        for index, job_items in enumerate(items):
            for item in job_items:
                wanted.setdefault(item.key, {})[index] = item
        order = list(wanted)
        chunks = [order[i : i + self.chunk_size] for i in range(0, len(order), self.chunk_size)]

        def submit(chunk: list[str]) -> list[dict[tuple[int, int] | None, Future[_Decoded]]]:
            decoded = []
            for key in chunk:
                futures: dict[tuple[int, int] | None, Future[_Decoded]] = {}
                for index, item in wanted[key].items():
                    if fits[index] not in futures:
                        futures[fits[index]] = decoders.submit(_read, item, fits[index])
                decoded.append(futures)
            return decoded

        with (
            ThreadPoolExecutor(self.decode_threads, thread_name_prefix="facebench-decode") as decoders,
            ThreadPoolExecutor(1, thread_name_prefix="facebench-load") as loader,
        ):
            queued: deque[list[dict[tuple[int, int] | None, Future[_Decoded]]]] = deque()
            if chunks:
                queued.append(submit(chunks[0]))  # decoding starts while the models load
            loading = self._load_needed(jobs, items, loader)
            deferred: deque[_Detected] = deque()
            for position, chunk in enumerate(chunks):
                while len(queued) < 2 and position + len(queued) < len(chunks):  # this chunk and the next
                    queued.append(submit(chunks[position + len(queued)]))
                futures = queued.popleft()
                for index, job in enumerate(jobs):
                    members = [i for i, key in enumerate(chunk) if index in wanted[key]]
                    if not members:
                        continue
                    job_items = [wanted[chunk[i]][index] for i in members]
                    decoded = [futures[i][fits[index]].result() for i in members]
                    deferred.append(self._detect_chunk(index, job, detectors[index], job_items, decoded))
                # detection runs ahead while a recognizer is still loading, within a memory bound
                while deferred and (
                    _ready(loading, jobs[deferred[0].job]) or _over_bound(deferred, self.defer_bytes)
                ):
                    yield from self._embed_chunk(deferred.popleft(), jobs, recognizers, loading)
            while deferred:
                yield from self._embed_chunk(deferred.popleft(), jobs, recognizers, loading)

    def _load_needed(
        self, jobs: Sequence[DetectorJob], items: Sequence[Sequence[WorkItem]], loader: ThreadPoolExecutor
    ) -> dict[ModelSpec, Future[Any]]:
        """Read the weights of the models with work to do (and only those), before any timing:
        the detectors here, the recognizers in ``loader`` (a recognizer on PyTorch weights
        imports torch and checks its ONNX export against it), so the first chunks are
        detected meanwhile. Returns each recognizer's load."""
        for job, job_items in zip(jobs, items, strict=True):
            if any(item.detection is None for item in job_items):
                self.pool.get(job.detector)
        loading: dict[ModelSpec, Future[Any]] = {}
        for job, job_items in zip(jobs, items, strict=True):
            for index, embed in enumerate(job.embeds):
                if embed.recognizer not in loading and any(index in item.embeds for item in job_items):
                    loading[embed.recognizer] = loader.submit(self.pool.get, embed.recognizer)
        return loading

    def _detect_chunk(
        self,
        index: int,
        job: DetectorJob,
        detector: Any,
        chunk: Sequence[WorkItem],
        decoded: list[_Decoded],
    ) -> _Detected:
        outcomes = [ImageOutcome(item) for item in chunk]
        for outcome, result in zip(outcomes, decoded, strict=True):
            outcome.unreadable, outcome.error = result.reason, result.error
        usable = [i for i, o in enumerate(outcomes) if o.unreadable is None and o.error is None]
        detected = [i for i in usable if chunk[i].detection is None]
        self._detect(detector, outcomes, decoded, detected, job.face)
        if hasattr(detector, "rescue"):  # a no-face policy (`facebench.bench.no_face`)
            self._rescue(detector, [outcomes[i] for i in detected], [decoded[i] for i in detected])
        faces: dict[int, Face] = {}
        centred: set[int] = set()  # faces that are a central crop: embedded without landmarks
        for i in usable:
            outcome = outcomes[i]
            record = outcome.detection or chunk[i].detection
            if outcome.error is None and record is not None and record.status == Status.OK:
                assert record.face is not None
                faces[i] = record.face
                if record.source == FaceSource.CENTER:
                    centred.add(i)
        return _Detected(index, chunk, decoded, outcomes, faces, centred)

    def _embed_chunk(
        self,
        part: _Detected,
        jobs: Sequence[DetectorJob],
        recognizers: list[list[Any]],
        loading: dict[ModelSpec, Future[Any]],
    ) -> Iterator[tuple[int, ImageOutcome]]:
        job = jobs[part.job]
        for index, (embed, recognizer) in enumerate(zip(job.embeds, recognizers[part.job], strict=True)):
            wanted = [i for i in part.faces if index in part.chunk[i].embeds]
            if not wanted:
                continue
            loading[embed.recognizer].result()  # its weights are read (a failure to load raises here)
            self._embed(
                recognizer, embed.method, index, wanted, part.faces, part.outcomes, part.decoded, part.centred
            )
        for outcome in part.outcomes:
            yield part.job, outcome

    @staticmethod
    def _rescue(detector: Any, outcomes: list[ImageOutcome], decoded: list[_Decoded]) -> None:
        """Apply the detector's no-face policy to the images it found no face in (timed with them)."""
        for outcome, image in zip(outcomes, decoded, strict=True):
            record = outcome.detection
            if outcome.error is not None or record is None or record.status != Status.NO_FACE:
                continue
            try:
                began = time.perf_counter()
                face, source = detector.rescue(_full_resolution(image))
                elapsed = (time.perf_counter() - began) * 1000
            except Exception as error:
                outcome.error = describe_exception(error, f"{detector.name}'s no-face policy")
                continue
            outcome.detect_ms = (outcome.detect_ms or 0.0) + elapsed
            if face is not None:
                outcome.detection = DetectionRecord(Status.OK, face, record.width, record.height, source)

    @staticmethod
    def _detect(
        detector: Any,
        outcomes: list[ImageOutcome],
        decoded: list[_Decoded],
        todo: list[int],
        choice: FaceChoice,
    ) -> None:
        start = 0
        while start < len(todo):
            shape = decoded[todo[start]].image.rgb.shape  # type: ignore[union-attr]
            stop = start + 1
            while (
                stop < len(todo)
                and stop - start < detector.batch_size
                and decoded[todo[stop]].image.rgb.shape == shape  # type: ignore[union-attr]
            ):
                stop += 1
            group = todo[start:stop]
            images = [decoded[i].image for i in group]
            try:
                began = time.perf_counter()
                found = detector.detect_decoded(images)
                elapsed = (time.perf_counter() - began) * 1000
            except Exception:
                found = None
            if found is None:  # find which image raised: one at a time
                for i in group:
                    try:
                        began = time.perf_counter()
                        (faces,) = detector.detect_decoded([decoded[i].image])
                        _set_detection(
                            outcomes[i], faces, decoded[i], (time.perf_counter() - began) * 1000, 1, choice
                        )
                    except Exception as error:
                        outcomes[i].error = describe_exception(error, detector.name)
            else:
                for i, faces in zip(group, found, strict=True):
                    _set_detection(outcomes[i], faces, decoded[i], elapsed / len(group), len(group), choice)
            start = stop

    @staticmethod
    def _embed(
        recognizer: Any,
        method: str,
        index: int,
        wanted: list[int],
        faces: dict[int, Face],
        outcomes: list[ImageOutcome],
        decoded: list[_Decoded],
        centred: set[int] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        crops, owners = [], []
        for i in wanted:
            outcome = outcomes[i]
            face = faces[i]
            face_method = "none" if i in centred else method
            if face_method != "none" and face.landmarks is None:
                outcome.embeddings[index] = EmbeddingRecord(Status.ALIGN_FAILED)
                continue
            try:
                rgb = _full_resolution(decoded[i])
                began = time.perf_counter()
                crop = recognizer.align(rgb, [face], face_method)[0]
                outcome.align_ms[index] = (time.perf_counter() - began) * 1000
            except AlignmentError:
                outcome.embeddings[index] = EmbeddingRecord(Status.ALIGN_FAILED)
                continue
            except Exception as error:
                outcome.error = describe_exception(error, f"aligning for {recognizer.name}")
                continue
            crops.append(crop)
            owners.append(i)
        batch = recognizer.batch_size
        for start in range(0, len(crops), batch):
            members = owners[start : start + batch]
            results: list[np.ndarray | BaseException] = []
            timings: list[float] = []
            try:
                began = time.perf_counter()
                vectors = recognizer.embed_aligned(np.stack(crops[start : start + batch]))
                elapsed = (time.perf_counter() - began) * 1000
                results, timings = list(vectors), [elapsed / len(members)] * len(members)
                size = batch  # the configured batch (the last one of a run may be smaller)
            except Exception:  # one at a time, to name the face that raised
                size = 1
                for crop in crops[start : start + batch]:
                    began = time.perf_counter()
                    try:
                        results.append(recognizer.embed_aligned(crop[None])[0])
                    except Exception as error:
                        results.append(error)
                    timings.append((time.perf_counter() - began) * 1000)
            for i, result, ms in zip(members, results, timings, strict=True):
                if isinstance(result, BaseException):
                    outcomes[i].error = describe_exception(result, recognizer.name)
                elif not np.isfinite(result).all():
                    outcomes[i].error = f"{recognizer.name} returned a non-finite embedding"
                else:
                    outcomes[i].embeddings[index] = EmbeddingRecord(Status.OK, result.astype(np.float32))
                    outcomes[i].embed_ms[index] = ms
                    outcomes[i].embed_batch[index] = size


def _set_detection(
    outcome: ImageOutcome, faces: Faces, decoded: _Decoded, ms: float, batch: int, choice: FaceChoice
) -> None:
    image = decoded.image
    assert image is not None
    width, height = image.original_size
    if choice == "central":
        face = central_face(faces, width, height)
    else:
        face = None if faces.is_empty else faces[int(np.argmax(faces.scores))].to_faces()[0]
    status = Status.OK if face is not None else Status.NO_FACE
    outcome.detection = DetectionRecord(status, face, width, height)
    outcome.detect_ms, outcome.detect_batch = ms, batch


def _full_resolution(decoded: _Decoded) -> np.ndarray:
    assert decoded.image is not None
    if decoded.data is None:
        return decoded.image.rgb
    return decode_image(decoded.data).rgb


def _read(item: WorkItem, fit: tuple[int, int] | None) -> _Decoded:
    """Read, hash and decode one file (in a decoder thread). The bytes decoded are the bytes
    hashed: a file replaced since the driver keyed it is reported, never stored under the old key."""
    name = display_name(item.path)
    try:
        data = read_image_file(item.path)
        if content_key(data) != item.key:
            return _Decoded(error=f"{name} changed while the run was reading it; run again")
        image = decode_image(data, fit=fit, name=name)
    except ImageError as error:
        return _Decoded(reason=error.reason)
    except Exception as error:
        return _Decoded(error=describe_exception(error, "the image decoder"))
    return _Decoded(image, data if image.reduced else None)
