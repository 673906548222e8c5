"""Detection over many images, written as files: results, annotated images, aligned crops, masks.

`annotate` runs a detector over `ImageFile`s (see `find_images`) and writes into ``out``:

* ``detections.jsonl``: one line per image (name, content digest, configuration digest, size,
  faces, the outputs written), appended as each image is finished, so a killed run keeps its work;
* ``detections.csv``: one row per face (image, face index, box, score, the 5 landmarks, config);
* ``errors.csv``: every input that failed (unreadable, not an image, a symlink loop...) and why;
* optional: ``wider/`` WIDER FACE submission files, ``images/`` annotated copies, ``crops/`` aligned
  crops, and with masks ``masks/``, ``head_masks/``, ``faces/`` and ``heads/`` PNGs named
  ``<image>_<face index>.png``, mirroring the input tree.

A re-run skips every image whose bytes, detector configuration and requested outputs match a line
already written. Decoding runs in a thread pool ahead of the detector, which takes runs of
same-size images together where the model batches (`Detector.detect_decoded`).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from facebench.annotate.walk import ImageFile
from facebench.atomic import atomic_open, atomic_write_bytes
from facebench.bench.detection import write_submission_file
from facebench.bench.store import config_digest, content_key
from facebench.errors import ImageError, describe_exception
from facebench.image import DecodedImage, decode_image, read_image_file
from facebench.types import LANDMARK_NAMES, Face, Faces

__all__ = ["CROP_CHOICES", "AnnotateOptions", "AnnotateSummary", "annotate"]

#: changes whenever what this module writes for an image changes (part of the config digest)
ANNOTATE_VERSION = 1
#: ``--crops`` values: an alignment template (similarity transform on the 5 points) or a box crop
CROP_CHOICES: tuple[str, ...] = ("arcface_112", "sphereface_112x96", "none")


@dataclass(frozen=True)
class AnnotateOptions:
    """What to write besides the result files."""

    wider: bool = False
    save_images: bool = False
    crops: str | None = None
    masks: bool = False

    def outputs(self) -> list[str]:
        wanted = ["wider"] * self.wider + ["images"] * self.save_images + ["masks"] * self.masks
        return wanted + ([f"crops:{self.crops}"] if self.crops else [])


@dataclass
class AnnotateSummary:
    """What a run did: images given, computed, reused from an earlier run, faces, failures."""

    out: Path
    images: int = 0
    computed: int = 0
    reused: int = 0
    faces: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Prepared:
    image: ImageFile
    key: str | None = None
    data: bytes | None = None
    decoded: DecodedImage | None = None
    reused: dict[str, Any] | None = None
    failure: str | None = None


def _read_records(path: Path) -> dict[str, dict[str, Any]]:
    """The last complete line per image of an earlier run's ``detections.jsonl`` (a line cut off
    by a killed run is ignored)."""
    records: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return records
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            records[str(record["image"])] = record
        except (ValueError, KeyError, TypeError):
            continue
    return records


def _stem_path(relative: str, suffix: str) -> PurePosixPath:
    """``a/b.jpg`` → ``a/b`` + suffix."""
    path = PurePosixPath(relative)
    return path.with_name(path.stem + suffix)


def _write_png(path: Path, rgb_or_mask: np.ndarray) -> None:
    array = rgb_or_mask[..., ::-1] if rgb_or_mask.ndim == 3 else rgb_or_mask
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(array))
    if not ok:
        raise OSError(f"could not encode {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, encoded.tobytes())


class _Writer:
    """Writes one image's optional outputs (annotated image, WIDER file, crops, masks)."""

    def __init__(self, out: Path, options: AnnotateOptions, detector_name: str, threads: int | None) -> None:
        self.out, self.options, self.detector_name = out, options, detector_name
        self.segmenter: Any = None
        if options.masks:
            from facebench.segment import FaceSegmenter

            self.segmenter = FaceSegmenter(threads=threads)

    def write(self, item: ImageFile, rgb: np.ndarray, faces: Faces) -> list[dict[str, Any]]:
        listed = faces.to_faces()
        extra: list[dict[str, Any]] = [{} for _ in listed]
        options, out = self.options, self.out
        if options.wider:
            rows = np.array(
                [[*f.box[:2], f.box[2] - f.box[0], f.box[3] - f.box[1], f.score] for f in listed], np.float64
            ).reshape(-1, 5)
            target = out / "wider" / _stem_path(item.relative, ".txt")
            write_submission_file(target, PurePosixPath(item.relative).stem, rows)
        if options.save_images:
            from facebench.draw import draw_faces

            drawn = draw_faces(rgb, listed, label=f"{self.detector_name}: {len(listed)} faces")
            _write_png(out / "images" / _stem_path(item.relative, ".png"), drawn)
        if options.crops:
            self._crops(item, rgb, listed, extra)
        if self.segmenter is not None:
            self._masks(item, rgb, listed, extra)
        return extra

    def _crops(
        self, item: ImageFile, rgb: np.ndarray, faces: list[Face], extra: list[dict[str, Any]]
    ) -> None:
        from facebench.align import align_face
        from facebench.errors import AlignmentError

        template = "arcface_112" if self.options.crops == "none" else str(self.options.crops)
        method = "none" if self.options.crops == "none" else "similarity"
        for index, face in enumerate(faces):
            try:
                crop = align_face(rgb, face.box, face.landmarks, template, method)  # type: ignore[arg-type]
            except AlignmentError:
                extra[index]["crop"] = None  # no landmarks: a similarity crop cannot be made
                continue
            name = _stem_path(item.relative, f"_{index}.png")
            _write_png(self.out / "crops" / name, crop)
            extra[index]["crop"] = f"crops/{name}"

    def _masks(
        self, item: ImageFile, rgb: np.ndarray, faces: list[Face], extra: list[dict[str, Any]]
    ) -> None:
        for index, (face, masks) in enumerate(zip(faces, self.segmenter.segment(rgb, faces), strict=True)):
            name = _stem_path(item.relative, f"_{index}.png")
            x1, y1, x2, y2 = (round(float(v)) for v in face.box)
            _write_png(self.out / "masks" / name, masks.crop(masks.face_mask))
            _write_png(self.out / "head_masks" / name, masks.crop(masks.head_mask))
            _write_png(self.out / "heads" / name, masks.crop(rgb))
            _write_png(self.out / "faces" / name, rgb[max(0, y1) : y2, max(0, x1) : x2])
            extra[index]["masks"] = masks.to_dict()


def annotate(
    images: Sequence[ImageFile],
    detector: Any,
    out: Path,
    options: AnnotateOptions = AnnotateOptions(),
    *,
    problems: Sequence[tuple[str, str]] = (),
    decode_threads: int = 2,
    chunk_size: int = 64,
    on_image: Callable[[], None] | None = None,
) -> AnnotateSummary:
    """Run ``detector`` over ``images`` and write the result files into ``out`` (module docstring).

    Args:
        problems: inputs that failed before this run (from `find_images`), listed in ``errors.csv``.
        on_image: called once per image finished (a progress bar).
    """
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    summary = AnnotateSummary(out, images=len(images), failures=list(problems))
    journal_path = out / "detections.jsonl"
    earlier = _read_records(journal_path)
    digest = config_digest({"detector": detector.config, "annotate": ANNOTATE_VERSION})
    fit = detector.decode_fit()
    writer = _Writer(out, options, detector.name, getattr(detector, "threads", None))
    wanted_outputs = options.outputs()
    if writer.segmenter is not None:  # masks of other segmentation weights or constants: made again
        wanted_outputs = [
            f"masks:{config_digest(writer.segmenter.config)}" if name == "masks" else name
            for name in wanted_outputs
        ]
    done: dict[str, dict[str, Any]] = {}

    def prepare(item: ImageFile) -> _Prepared:
        prepared = _Prepared(item)
        try:
            data = read_image_file(item.path)
            prepared.key = content_key(data)
            record = earlier.get(item.relative)
            if (
                record
                and record.get("sha256") == prepared.key
                and record.get("config") == digest
                and set(wanted_outputs) <= set(record.get("outputs", ()))
            ):
                prepared.reused = record
                return prepared
            prepared.decoded = decode_image(data, fit=fit, name=item.relative)
            prepared.data = data if prepared.decoded.reduced else None
        except ImageError as error:
            prepared.failure = error.reason
        except Exception as error:  # reported with the image's name, never fatal
            prepared.failure = describe_exception(error, "the image decoder")
        return prepared

    with (
        ThreadPoolExecutor(max(1, decode_threads), thread_name_prefix="facebench-decode") as pool,
        journal_path.open("a", encoding="utf-8") as journal,
    ):
        for chunk in _ahead(pool, prepare, images, chunk_size):
            todo = [p for p in chunk if p.decoded is not None]
            found = _detect(detector, todo)
            for prepared in chunk:
                item = prepared.image
                if prepared.reused is not None:
                    done[item.relative] = prepared.reused
                    summary.reused += 1
                elif prepared.failure is not None:
                    summary.failures.append((item.relative, prepared.failure))
                else:
                    result = found[id(prepared)]
                    if isinstance(result, str):
                        summary.failures.append((item.relative, result))
                    else:
                        record = _finish(prepared, result, writer, digest, wanted_outputs, summary)
                        if record is not None:
                            done[item.relative] = record
                            journal.write(json.dumps(record) + "\n")
                            journal.flush()
                            summary.computed += 1
                if on_image is not None:
                    on_image()
    _write_results(out, images, done, summary)
    summary.faces = sum(len(record["faces"]) for record in done.values())
    summary.seconds = time.perf_counter() - started
    return summary


def _ahead(
    pool: ThreadPoolExecutor,
    prepare: Callable[[ImageFile], _Prepared],
    images: Sequence[ImageFile],
    size: int,
) -> Iterator[list[_Prepared]]:
    """Chunks of prepared images, the next chunk decoding while this one is detected."""
    chunks = [images[i : i + size] for i in range(0, len(images), size)]
    queued: list[list[Future[_Prepared]]] = []
    for position in range(len(chunks)):
        while len(queued) < 2 and position + len(queued) < len(chunks):
            queued.append([pool.submit(prepare, item) for item in chunks[position + len(queued)]])
        yield [future.result() for future in queued.pop(0)]


def _detect(detector: Any, todo: list[_Prepared]) -> dict[int, Faces | str]:
    """Faces of each prepared image (batched), or the error that image raised."""
    results: dict[int, Faces | str] = {}
    try:
        for prepared, faces in zip(todo, detector.detect_decoded([p.decoded for p in todo]), strict=True):
            results[id(prepared)] = faces
        return results
    except Exception:
        pass
    for prepared in todo:  # one at a time, to name the image that raised
        try:
            (results[id(prepared)],) = detector.detect_decoded([prepared.decoded])
        except Exception as error:
            results[id(prepared)] = describe_exception(error, detector.name)
    return results


def _finish(
    prepared: _Prepared,
    faces: Faces,
    writer: _Writer,
    digest: str,
    outputs: list[str],
    summary: AnnotateSummary,
) -> dict[str, Any] | None:
    item, decoded = prepared.image, prepared.decoded
    assert decoded is not None
    width, height = decoded.original_size
    try:
        extra: list[dict[str, Any]] = [{} for _ in range(len(faces))]
        if outputs:
            rgb = decode_image(prepared.data).rgb if prepared.data is not None else decoded.rgb
            extra = writer.write(item, rgb, faces)
    except Exception as error:
        summary.failures.append((item.relative, describe_exception(error, "writing the outputs")))
        return None
    return {
        "image": item.relative,
        "sha256": prepared.key,
        "config": digest,
        "width": width,
        "height": height,
        "outputs": outputs,
        "faces": [{**face.to_dict(), **more} for face, more in zip(faces.to_faces(), extra, strict=True)],
    }


def _csv_header() -> list[str]:
    marks = [f"{name}_{axis}" for name in LANDMARK_NAMES for axis in ("x", "y")]
    return ["image", "face", "x1", "y1", "x2", "y2", "score", *marks, "config"]


def _write_results(
    out: Path, images: Sequence[ImageFile], done: dict[str, dict[str, Any]], summary: AnnotateSummary
) -> None:
    """Rewrite the journal compacted (one line per image, input order) and the CSV files, atomically."""
    ordered = [done[item.relative] for item in images if item.relative in done]
    with atomic_open(out / "detections.jsonl") as journal:
        for record in ordered:
            journal.write(json.dumps(record) + "\n")
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\n")
    rows.writerow(_csv_header())
    for record in ordered:
        for index, face in enumerate(record["faces"]):
            marks = face.get("landmarks") or {}
            points = [v for name in LANDMARK_NAMES for v in (marks.get(name) or ["", ""])]
            rows.writerow([record["image"], index, *face["box"], face["score"], *points, record["config"]])
    with atomic_open(out / "detections.csv") as handle:
        handle.write(table.getvalue())
    with atomic_open(out / "errors.csv") as handle:
        errors = csv.writer(handle, lineterminator="\n")
        errors.writerow(["image", "reason"])
        errors.writerows(summary.failures)
