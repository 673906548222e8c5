"""The `facebench` command line: the top layer over every stage."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from facebench.atomic import atomic_open, check_writable_folder
from facebench.defaults import DEFAULT_DETECTOR, DEFAULT_RECOGNIZER, GALLERY_RECOGNIZER
from facebench.errors import FacebenchError, ImageError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Measure face detection, alignment and recognition: accuracy, speed and memory side by side.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: wraps to any width, never truncates an option's text
)
models_app = typer.Typer(help="The model store: list, verify and locate weight files.", no_args_is_help=True)
app.add_typer(models_app, name="models")
train_app = typer.Typer(
    help="Train a recognizer (margin heads, Partial FC) or a RetinaFace detector from a YAML config.",
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")
index_app = typer.Typer(
    help="Galleries for 1:N search: enrol identity folders into a FAISS index, search it with images.",
    no_args_is_help=True,
)
app.add_typer(index_app, name="index")

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _report_failure(kind: str, message: str) -> None:
    """One line per failed image: never wrapped, and a file name's brackets are not markup."""
    err.print(f"[yellow]{kind}[/] {escape(message)}", highlight=False, soft_wrap=True)


def _per_image_error(path: Path, error: Exception) -> str:
    """The message for an image that failed: ours name the file; anything else is named here."""
    from facebench.image import display_name

    if isinstance(error, ImageError):
        return str(error)
    return f"{display_name(path)}: unexpected {type(error).__name__}: {error}"


# ---------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------
@models_app.command("list")
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the catalogue as Markdown (docs/MODELS.md).")
    ] = False,
    task: Annotated[
        str | None, typer.Option(help="Only this task: detector, landmarks, recognizer, segmenter.")
    ] = None,
) -> None:
    """List every model the store knows, with licence and whether its files are present."""
    from facebench.zoo import default_store, list_cards
    from facebench.zoo.docs import catalog_markdown

    if markdown:
        sys.stdout.write(catalog_markdown())
        return

    store = default_store()
    rows: list[dict[str, Any]] = []
    for card in list_cards(task=task):
        statuses = store.status(card)
        present = all(s.state.value == "ok" for s in statuses) if statuses else card.package is not None
        rows.append(
            {
                "name": card.name,
                "task": card.task.value,
                "license": card.license,
                "source": card.source,
                "present": present,
                "tested_offline": card.tested_offline,
                "files": [
                    {
                        "filename": f.filename,
                        "sha256": f.sha256,
                        "size": f.size,
                        "url": f.url,
                        "state": s.state.value,
                        "path": str(s.path) if s.path else None,
                    }
                    for f, s in zip(card.files, statuses, strict=True)
                ],
                "preprocess": _preprocess_dict(card.preprocess),
            }
        )
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"facebench models (FACEBENCH_HOME={store.home})")
    for column in ("name", "task", "present", "files", "license"):
        table.add_column(column)
    for row in rows:
        mark = "[green]yes[/]" if row["present"] else "[red]missing[/]"
        if not row["tested_offline"]:
            mark += " (untested)"
        table.add_row(row["name"], row["task"], mark, str(len(row["files"])), row["license"])
    out.print(table)


def _preprocess_dict(preprocess: Any) -> dict[str, Any]:
    return {
        "input_size": list(preprocess.input_size) if preprocess.input_size else None,
        "size_policy": preprocess.size_policy,
        "color": preprocess.color.value,
        "mean": list(preprocess.mean),
        "std": list(preprocess.std),
        "layout": preprocess.layout,
        "template": preprocess.template,
        "embedding_dim": preprocess.embedding_dim,
    }


@models_app.command("verify")
def models_verify(
    names: Annotated[list[str] | None, typer.Argument(help="Models to check (default: all).")] = None,
) -> None:
    """Hash every present model file; exit 1 if any differs from its pinned sha256."""
    from facebench.zoo import FileState, default_store, get_card, list_cards

    store = default_store()
    try:
        cards = [get_card(n) for n in names] if names else list_cards()
    except FacebenchError as error:
        raise _fail(str(error)) from None
    bad = 0
    table = Table(title="model files")
    for column in ("model", "file", "state", "path"):
        table.add_column(column, overflow="fold")
    for card in cards:
        for status in store.status(card):
            style = {FileState.OK: "green", FileState.MISSING: "yellow", FileState.MISMATCH: "bold red"}[
                status.state
            ]
            table.add_row(
                card.name, status.filename, f"[{style}]{status.state.value}[/]", str(status.path or "-")
            )
            if status.state is FileState.MISMATCH:
                bad += 1
                err.print(
                    f"[bold red]sha256 mismatch[/] {status.path}: expected {status.expected_sha256}, "
                    f"got {status.actual_sha256}",
                    highlight=False,
                )
    out.print(table)
    if bad:
        raise _fail(f"{bad} model file(s) failed the sha256 check")
    out.print("all present model files match their pinned sha256")


@models_app.command("path")
def models_path(
    name: Annotated[str, typer.Argument(help="Model name, e.g. yunet.")],
    file: Annotated[str | None, typer.Option("--file", help="Which file of a multi-file model.")] = None,
) -> None:
    """Print the verified local path of a model's file (fetching it if allowed)."""
    from facebench.zoo import default_store, get_card

    try:
        card = get_card(name)
        if file is None and len(card.files) > 1:
            for weight_file in card.files:
                print(default_store().resolve(card, weight_file.filename))
            return
        print(default_store().resolve(card, file))
    except (FacebenchError, ValueError) as error:
        raise _fail(str(error)) from None


# ---------------------------------------------------------------------------------------------
# detection
# ---------------------------------------------------------------------------------------------
@app.command("detectors")
def detectors_list() -> None:
    """List the registered detectors with their model and licence."""
    from facebench.detectors import detector_class, list_detectors, list_refiners
    from facebench.zoo import get_card

    table = Table(title="detectors")
    for column in ("name", "model", "landmarks", "license"):
        table.add_column(column, overflow="fold")
    for name in list_detectors():
        cls = detector_class(name)
        card = get_card(cls.card_name)
        refine = card.detector_defaults.refine if card.detector_defaults else None
        marks = f"5 (via {refine})" if refine else ("5" if cls.gives_landmarks else "none")
        table.add_row(name, card.source, marks, card.license)
    out.print(table)
    out.print(f"landmark refiners (--refine): {', '.join(list_refiners())}", highlight=False)


@app.command("detect")
def detect_command(
    images: Annotated[
        list[Path],
        typer.Argument(help="Image files, or folders (walked recursively; needs --out).", readable=False),
    ],
    detector: Annotated[
        str,
        typer.Option(
            "--detector", "-d", help="Detector name (see `facebench detectors`), or `all` for a sheet."
        ),
    ] = DEFAULT_DETECTOR,
    refine: Annotated[
        str | None, typer.Option("--refine", help="Landmark refiner: facemesh, dlib5, or none.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON on stdout.")] = False,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Draw the faces: a file for one image, a folder for several."),
    ] = None,
    score_threshold: Annotated[
        float | None, typer.Option(help="Minimum score (default: the model's).")
    ] = None,
    nms_iou: Annotated[float | None, typer.Option(help="NMS IoU threshold (default: the model's).")] = None,
    max_faces: Annotated[int | None, typer.Option(help="Keep at most this many faces per image.")] = None,
    min_face_size: Annotated[float, typer.Option(help="Drop faces smaller than this (pixels).")] = 0.0,
    input_size: Annotated[
        str | None, typer.Option(help="original, max_side=N or fixed=WxH (default: the detector's).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write detections.csv/.jsonl and errors.csv here (resumable: a re-run skips images done).",
        ),
    ] = None,
    glob: Annotated[
        list[str] | None,
        typer.Option("--glob", help="File-name pattern taken from folders (repeatable; default: images)."),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option("--format", help="csv (always written with --out), or wider: also WIDER .txt files."),
    ] = "csv",
    save_images: Annotated[
        bool, typer.Option("--save-images", help="With --out: annotated images under images/.")
    ] = False,
    crops: Annotated[
        str | None,
        typer.Option(
            "--crops", help="With --out: a crop per face: arcface_112, sphereface_112x96 or none (box)."
        ),
    ] = None,
    masks: Annotated[
        bool,
        typer.Option(
            "--masks", help="Face and head masks: with --out as PNGs, with --detector all in the sheet."
        ),
    ] = False,
) -> None:
    """Detect faces in images or folders; print them, draw them with --save, or write files with --out.

    With `--out DIR`, every image of the files and folders given is written into DIR as result
    files (and, as asked, annotated images, aligned crops, WIDER files, face and head masks); a
    re-run skips the images already done with the same detector configuration. With
    `--detector all`, every registered detector runs on one image and `--save` writes a comparison
    sheet with one panel per detector (`--masks`: with each detector's face and head masks). An
    unreadable image is reported and counted, and the others are still processed; the exit code
    is 1 when any image failed.
    """
    import cv2

    from facebench.detectors import create
    from facebench.draw import draw_faces
    from facebench.image import display_name, load_image

    options = {
        "score_threshold": score_threshold,
        "nms_iou": nms_iou,
        "max_faces": max_faces,
        "min_face_size": min_face_size,
        "input_size": input_size,
        "refine": refine,
    }
    if output_format not in ("csv", "wider"):
        raise _fail(f"Expected --format to be csv or wider, but got {output_format!r}")
    from facebench.annotate import CROP_CHOICES

    if crops is not None and crops not in CROP_CHOICES:
        raise _fail(f"Expected --crops to be one of {', '.join(CROP_CHOICES)}, but got {crops!r}")
    wants_files = save_images or crops is not None or output_format != "csv" or glob
    if out_dir is None and detector != "all" and (wants_files or masks):
        raise _fail("--glob, --format, --save-images, --crops and --masks write files: give --out DIR")
    if out_dir is not None:
        if detector == "all":
            raise _fail("--detector all draws a comparison sheet with --save; --out runs one detector")
        _detect_to_folder(images, detector, options, out_dir, glob, output_format, save_images, crops, masks)
        return
    try:
        if save is not None:
            _check_save_target(save, as_folder=len(images) > 1 and detector != "all")
    except (FacebenchError, OSError) as error:
        raise _fail(str(error)) from None
    if detector == "all":
        _comparison_sheet(images, options, save, as_json, masks=masks)
        return
    try:
        model = create(detector, **options)
    except (FacebenchError, ValueError) as error:
        raise _fail(str(error)) from None

    results: list[dict[str, Any]] = []
    failures: list[tuple[Path, str]] = []
    from facebench.progress import progress

    with progress("detect", len(images), show=len(images) >= 5) as reporter:
        for image_path in images:
            reporter.advance()
            try:
                rgb = load_image(image_path)
                faces = model.detect(rgb)
            except Exception as error:  # one bad image is counted and reported, never fatal
                reason = _per_image_error(image_path, error)
                if image_path.is_dir():
                    reason += " (a folder is walked with --out DIR)"
                failures.append((image_path, reason))
                _report_failure("skipped", failures[-1][1])
                continue
            results.append(
                {
                    "image": display_name(image_path),
                    "width": int(rgb.shape[1]),
                    "height": int(rgb.shape[0]),
                    "config": model.config,
                    "faces": [face.to_dict() for face in faces],
                }
            )
            if save is not None:
                target = save / f"{image_path.stem}_{detector}.jpg" if len(images) > 1 else save
                target.parent.mkdir(parents=True, exist_ok=True)
                drawn = draw_faces(rgb, faces, label=f"{detector}: {len(faces)} faces")
                if not cv2.imwrite(str(target), drawn[..., ::-1]):
                    raise _fail(f"could not write {target} (unsupported extension or unwritable folder)")

    if as_json:
        sys.stdout.write(
            json.dumps(results if len(images) > 1 else (results[0] if results else None), indent=2) + "\n"
        )
    else:
        for result in results:
            out.print(
                f"[bold]{escape(result['image'])}[/]: {len(result['faces'])} face(s) with {detector}",
                highlight=False,
                soft_wrap=True,
            )
            for face in result["faces"]:
                out.print(f"  box={face['box']} score={face['score']:.3f}", highlight=False)
    if save is not None:
        err.print(f"drawn results written to {save}", highlight=False)
    if failures:
        err.print(
            f"[bold red]{len(failures)} of {len(images)} image(s) could not be read[/]", highlight=False
        )
        raise typer.Exit(1)


def _detect_to_folder(
    paths: list[Path],
    detector: str,
    options: dict[str, Any],
    out_dir: Path,
    glob: list[str] | None,
    output_format: str,
    save_images: bool,
    crops: str | None,
    masks: bool,
) -> None:
    """``detect --out``: every image of ``paths`` through one detector, written as files."""
    from facebench.annotate import DEFAULT_PATTERNS, AnnotateOptions, annotate, find_images
    from facebench.detectors import create

    try:
        check_writable_folder(out_dir, "--out folder")
        model = create(detector, **options)
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    found = find_images(paths, tuple(glob) if glob else DEFAULT_PATTERNS)
    for where, reason in found.problems:
        _report_failure("skipped", f"{where}: {reason}")
    if not found.images:
        raise _fail("no images to process in " + ", ".join(str(p) for p in paths))
    chosen = AnnotateOptions(
        wider=output_format == "wider", save_images=save_images, crops=crops, masks=masks
    )
    from facebench.progress import progress

    with progress("detect", len(found.images)) as reporter:
        summary = annotate(
            found.images,
            model,
            out_dir,
            chosen,
            problems=found.problems,
            on_image=reporter.advance,
        )
    for name, reason in summary.failures[len(found.problems) :]:
        _report_failure("failed", f"{name}: {reason}")
    err.print(
        f"{summary.images} image(s): {summary.computed} computed, {summary.reused} already done, "
        f"{len(summary.failures)} failed; {summary.faces} face(s) in {out_dir / 'detections.csv'} "
        f"({summary.seconds:.1f} s)",
        highlight=False,
    )
    if summary.failures:
        err.print(f"[bold red]failures are listed in {out_dir / 'errors.csv'}[/]", highlight=False)
        raise typer.Exit(1)


def _check_save_target(save: Path, *, as_folder: bool) -> None:
    """``--save`` can be written, in a format OpenCV encodes, before any image is processed."""
    import cv2

    if as_folder:
        check_writable_folder(save, "--save folder")
        return
    if not save.suffix or not cv2.haveImageWriter(str(save)):
        raise FacebenchError(
            f"--save {save}: cannot write {save.suffix or 'a file without an extension'}; use .jpg, .png, "
            ".bmp, .webp or .tiff"
        )
    if save.is_dir():
        raise FacebenchError(f"--save {save} is a folder; give a file name for one image")
    check_writable_folder(save.parent if str(save.parent) else Path("."), "--save folder")


@app.command("eval-lfw")
def eval_lfw(
    detector: Annotated[str, typer.Option("--detector", "-d", help="Detector name.")] = DEFAULT_DETECTOR,
    recognizer: Annotated[
        str, typer.Option("--recognizer", "-r", help="Recognizer name.")
    ] = DEFAULT_RECOGNIZER,
    align: Annotated[str, typer.Option(help="Alignment: similarity, none or eyes.")] = "similarity",
    flip: Annotated[bool, typer.Option(help="Flip test-time augmentation.")] = False,
    normalize: Annotated[
        bool,
        typer.Option(
            help="L2-normalise embeddings; --no-normalize scores raw features by the model's own metric."
        ),
    ] = True,
    engine: Annotated[str | None, typer.Option(help="Recognizer engine (torch, onnx ...).")] = None,
    data_root: Annotated[
        Path | None, typer.Option(help="Folder holding pairs.txt (default $FACEBENCH_HOME/data/lfw).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder (store and results.json).")] = Path("runs/lfw"),
    write_threshold: Annotated[
        bool,
        typer.Option(
            "--write-threshold",
            help="Record this run's all-pairs threshold as the recognizer's default (used by `verify`).",
        ),
    ] = False,
) -> None:
    """LFW View-2 verification (6,000 pairs, 10 folds) of one pipeline; runs accumulate in OUT/results.json.

    Each run joins the results already in OUT (a run of the same pipeline and options replaces
    its earlier one), and the paired McNemar tests are recomputed over all of them. With
    --write-threshold the all-pairs threshold becomes the recognizer's default in
    facebench/recognizers/thresholds.json, with the pipeline and this command as its provenance.
    """
    from facebench.bench.engine import run_benchmark
    from facebench.datasets import load_lfw_pairs
    from facebench.report import write_all

    try:
        _check_names((detector,), (recognizer,), (align,), None, None)
        if write_threshold and not normalize:
            raise FacebenchError("--write-threshold records cosine thresholds: drop --no-normalize")
        check_writable_folder(out, "--out")
        previous = _previous_results(out)
        pairs = load_lfw_pairs(data_root)
        options: dict[str, Any] = {"normalize": normalize}
        result = run_benchmark(
            pairs,
            out,
            dataset="lfw",
            detectors=(detector,),
            recognizers=(f"{recognizer}@{engine}" if engine else recognizer,),
            align=(align,),
            flip=flip,
            show_progress=True,
            measure_cost=False,
            recognizer_options=options,
        )
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    if not result.runs:
        raise _fail(f"the pipeline was skipped: {result.skipped[0].reason}")
    record = result.runs[0]
    merged = previous.merge(result) if previous is not None else result
    write_all(merged, out, pairs=pairs, charts=False)
    variant = (" (flip)" if flip else "") + (
        "" if normalize else f" (raw, {record.config['recognizer']['metric']})"
    )
    print(
        f"{record.pipeline}{variant}: accuracy {100 * record.accuracy_mean:.2f} ± "
        f"{100 * record.accuracy_std:.2f} % on {record.pairs} pairs; AUC {record.auc:.4f}, EER "
        f"{100 * record.eer:.2f} %; face found in {100 * record.success_rate:.2f} % of images, "
        f"{record.failed_pairs} pair(s) counted as failures; all-pairs threshold {record.threshold_all_pairs}"
    )
    for comparison in merged.comparisons:
        if record.pipeline in (comparison.first, comparison.second):
            mine_first = comparison.first == record.pipeline
            other = comparison.second if mine_first else comparison.first
            mine, theirs = (comparison.only_first_correct, comparison.only_second_correct)[
                :: 1 if mine_first else -1
            ]
            print(
                f"  vs {other}: McNemar p = {comparison.p_value:.2g} (this run alone right on {mine} pairs, "
                f"the other alone on {theirs})"
            )
    _report_image_failures(result)
    if write_threshold:
        _write_threshold(record, pairs.is_same, recognizer, detector, align, flip, engine)


def _write_threshold(
    record: Any,
    is_same: Any,
    recognizer: str,
    detector: str,
    align: str,
    flip: bool,
    engine: str | None,
) -> None:
    from datetime import date

    import facebench
    from facebench.metrics.verification import far_threshold
    from facebench.recognizers.thresholds import CALIBRATED_FARS, Threshold, far_key, write_threshold

    at_far = {far_key(far): far_threshold(record.scores, is_same, far) for far in CALIBRATED_FARS}

    name = recognizer.partition("@")[0]
    command = f"facebench eval-lfw -d {detector} -r {recognizer} --align {align}" + (
        " --flip" if flip else ""
    )
    command += (f" --engine {engine}" if engine else "") + " --write-threshold"
    threshold = Threshold(
        value=round(float(record.threshold_all_pairs), 6),
        dataset="lfw",
        pairs=int(record.pairs),
        detector=detector,
        align=align,
        flip=flip,
        measured=date.today().isoformat(),
        facebench_version=facebench.__version__,
        command=command,
        # rounded up, so the rounding never admits an impostor the exact threshold rejected
        far={
            key: math.ceil(value * 1e6) / 1e6
            for key, value in at_far.items()
            if value is not None and math.isfinite(value)
        },
    )
    path = write_threshold(name, threshold)
    by_far = ", ".join(f"{value} at FAR {key}" for key, value in threshold.far.items())
    print(f"default threshold of {name} is now {threshold.value}; {by_far} (written to {path})")


def _previous_results(out: Path) -> Any:
    """The results already in ``out`` to add this run to; a file of an older format is set aside."""
    from facebench.bench.results import load_results

    if not (out / "results.json").is_file():
        return None
    try:
        return load_results(out)
    except (ValueError, KeyError, TypeError) as error:
        kept = out / "results.old.json"
        (out / "results.json").replace(kept)
        _report_failure("warning", f"{out / 'results.json'} could not be read ({error}); kept as {kept}")
        return None


def _report_image_failures(result: Any) -> None:
    for failure in result.failures:
        _report_failure(failure.cause, f"{failure.image}: {failure.reason}")


def _names(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else default


@dataclass(frozen=True)
class _ExecutorChoice:
    """``--executor`` and its ``--ray-*`` options, as one argument of the commands that take them."""

    kind: str = "local"
    address: str | None = None
    actors: int | None = None
    cpus_per_actor: int = 1
    batch_size: int = 32
    object_store_mb: int = 512

    def build(self) -> Any:
        """The executor named (``None``: the local default); a missing ray extra is named here,
        before any work."""
        if self.kind == "local":
            if self.address is not None:
                raise FacebenchError("--ray-address needs --executor ray")
            return None
        if self.kind != "ray":
            raise FacebenchError(f"Expected --executor to be local or ray, but got {self.kind!r}")
        from facebench.bench.ray_executor import RayExecutor
        from facebench.extras import require

        require("ray.data", "--executor ray")
        return RayExecutor(
            self.address,
            actors=self.actors,
            cpus_per_actor=self.cpus_per_actor,
            batch_size=self.batch_size,
            object_store_mb=self.object_store_mb,
        )


#: the options behind `_ExecutorChoice`, by its field names
_EXECUTOR_OPTIONS: dict[str, tuple[Any, Any]] = {
    "kind": (
        Annotated[
            str,
            typer.Option(
                "--executor",
                help="local (this process) or ray (Ray Data actor pools; pip install 'facebench[ray]').",
            ),
        ],
        "local",
    ),
    "address": (
        Annotated[
            str | None,
            typer.Option(
                "--ray-address",
                help="With --executor ray: auto or ray://HOST:PORT to join a cluster (default: start one here).",
            ),
        ],
        None,
    ),
    "actors": (
        Annotated[
            int | None,
            typer.Option("--ray-actors", help="Actors in the pool (default: CPUs / CPUs per actor)."),
        ],
        None,
    ),
    "cpus_per_actor": (
        Annotated[int, typer.Option("--ray-cpus-per-actor", help="CPUs (and inference threads) per actor.")],
        1,
    ),
    "batch_size": (Annotated[int, typer.Option("--ray-batch-size", help="Images per actor call.")], 32),
    "object_store_mb": (
        Annotated[int, typer.Option("--ray-object-store-mb", help="Object store bound (MB).")],
        512,
    ),
}


def _takes_executor(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the ``--executor`` and ``--ray-*`` options; it receives them as one
    ``executor: _ExecutorChoice`` (one declaration for every command that can run on Ray)."""
    import functools
    import inspect

    signature = inspect.signature(command, eval_str=True)
    prefix = "executor_option_"
    added = [
        inspect.Parameter(prefix + name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, (kind, default) in _EXECUTOR_OPTIONS.items()
    ]
    kept = [p for p in signature.parameters.values() if p.name != "executor"]

    @functools.wraps(command)
    def wrapper(**arguments: Any) -> None:
        chosen = {name: arguments.pop(prefix + name) for name in _EXECUTOR_OPTIONS}
        command(**arguments, executor=_ExecutorChoice(**chosen))

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in [*kept, *added]}
    return wrapper


@app.command("benchmark")
@_takes_executor
def benchmark_command(
    dataset: Annotated[
        str,
        typer.Option(
            help="Pair dataset: lfw, lfw_view1, cfp_ff, cfp_fp, csv:<file>, bin:<file> (an InsightFace "
            "verification .bin of pre-aligned faces, read without running its pickle), or ijbc / ijbb "
            "(official layout under --data-root; --detectors metadata, the default, uses its landmarks)."
        ),
    ] = "lfw",
    protocol: Annotated[
        str | None,
        typer.Option(
            help="end-to-end (detect, align, embed: the default for image datasets) or standard (the "
            "published protocol on pre-aligned 112x112 faces: flip-sum, InsightFace's 10-fold sweep; "
            "the default for bin:)."
        ),
    ] = None,
    detectors: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated detectors; NAME@ENGINE picks an engine (retinaface_mnet025@torch)."
        ),
    ] = None,
    recognizers: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated recognizers; NAME@ENGINE picks an engine (edgeface_xs_dequant@onnx)."
        ),
    ] = None,
    align: Annotated[str | None, typer.Option(help="Comma-separated: similarity, none, eyes.")] = None,
    flip: Annotated[bool, typer.Option(help="Flip test-time augmentation for every recognizer.")] = False,
    folds: Annotated[
        str | None, typer.Option(help="Only these folds (1-based, comma-separated), for quick runs.")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="Inference threads per model.")] = None,
    data_root: Annotated[
        Path | None, typer.Option(help="Dataset folder (default $FACEBENCH_HOME/data/<dataset>).")
    ] = None,
    degrade: Annotated[
        list[str] | None,
        typer.Option(
            help="Evaluate on degraded faces, steps joined by commas: lowres:K[:bicubic|area] (shrink "
            "each aligned crop K times), jpeg:Q, blur:SIGMA, noise:SIGMA. Repeat for a grid axis."
        ),
    ] = None,
    on_no_face: Annotated[
        str,
        typer.Option(
            help="When the detector finds no face: fail (the pair counts as 'different'), center (embed "
            "the central crop, as many published protocols do) or fallback:DET[,DET...] (retry with "
            "these detectors, then with the image upscaled x2)."
        ),
    ] = "fail",
    identification: Annotated[
        bool,
        typer.Option(
            help="Add closed-set rank-1, rank-5 and CMC per pipeline on the dataset's identities (LFW: "
            "first image of each person with 2+ images as gallery, the rest as probes; CFP: frontal "
            "gallery, profile probes)."
        ),
    ] = False,
    restore: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: how shrunk crops come back to size: none (bilinear), bicubic, or a "
            "super-resolution model (fsrcnn_x2/3/4, espcn_x2/3/4, lapsrn_x2/4/8, realesrgan_x4)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder (results, caches, report).")] = Path(
        "runs/benchmark"
    ),
    executor: _ExecutorChoice = _ExecutorChoice(),
) -> None:
    """Measure a detector × alignment × recognizer grid: accuracy next to cost.

    Detections and embeddings are cached in OUT/cache.sqlite: a re-run or an added model only
    computes what is new, and a killed run resumes where it stopped.
    """
    import numpy as np

    from facebench.bench.engine import DEFAULT_GRID, run_benchmark
    from facebench.datasets import load_pair_dataset

    detector_names = _names(detectors, DEFAULT_GRID["detectors"])
    recognizer_names = _names(recognizers, DEFAULT_GRID["recognizers"])
    align_names = _names(align, DEFAULT_GRID["align"])
    if executor.kind != "local" and (
        dataset in ("ijbb", "ijbc") or protocol == "standard" or dataset.startswith("bin:")
    ):
        raise _fail(
            f"--executor {executor.kind} runs the end-to-end protocol; {dataset} runs in this process"
        )
    if dataset in ("ijbb", "ijbc"):
        _benchmark_ijb(
            dataset,
            data_root,
            detectors,
            recognizer_names,
            threads,
            out,
            (align, degrade, restore, folds, protocol),
        )
        return
    protocol = protocol or ("standard" if dataset.startswith("bin:") else "end-to-end")
    if protocol == "standard" or dataset.startswith("bin:"):
        _benchmark_standard(
            dataset, protocol, recognizer_names, threads, out, (detectors, align, degrade, restore, folds)
        )
        return
    if protocol != "end-to-end":
        raise _fail(f"Expected --protocol to be end-to-end or standard, but got {protocol!r}")
    try:
        # every name, range and path is checked before the first image is touched
        degradations = tuple(degrade) if degrade else (None,)
        restorers = _names(restore, (None,))  # type: ignore[arg-type]
        _check_names(detector_names, recognizer_names, align_names, degradations, threads, restorers)
        _check_no_face_policy(on_no_face)
        check_writable_folder(out, "--out")
        work = executor.build()
        pairs = load_pair_dataset(dataset, data_root)
        identities = None
        if identification:
            from facebench.datasets import load_identification_set

            identities = load_identification_set(dataset, data_root)
        if folds:
            pairs = pairs.subset(np.isin(pairs.fold, _parse_folds(folds, pairs.fold)))
        result = run_benchmark(
            pairs,
            out,
            dataset=dataset,
            detectors=detector_names,
            recognizers=recognizer_names,
            align=align_names,
            flip=flip,
            threads=threads,
            degrade=degradations,
            restore=restorers,
            identification=identities,
            on_no_face=on_no_face,
            executor=work,
        )
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    from facebench.report import write_all

    written = write_all(result, out, pairs=pairs, examples=True)
    print((out / "README.md").read_text())
    _report_image_failures(result)
    entries = []  # what was written, as the top-level names of OUT (folders once, with a slash)
    for path in written:
        relative = Path(path).relative_to(out).parts
        entry = relative[0] + ("/" if len(relative) > 1 else "")
        if entry not in entries:
            entries.append(entry)
    err.print(f"results in {out}/: {', '.join(entries)}", highlight=False)


def _build(kind: str, text: str) -> Any:
    """A detector or recognizer named ``NAME`` or ``NAME@ENGINE``, weights read."""
    from facebench.bench.plan import ModelSpec, parse_model_name
    from facebench.loading import loaded

    name, engine = parse_model_name(text)
    return loaded(ModelSpec.of(kind, name, engine=engine).describe())  # type: ignore[arg-type]


def _benchmark_ijb(
    dataset: str,
    data_root: Path | None,
    detectors: str | None,
    recognizers: tuple[str, ...],
    threads: int | None,
    out: Path,
    unused_options: tuple[Any, ...],
) -> None:
    """``benchmark --dataset ijbc|ijbb``: template-based 1:1 and 1:N on the official layout."""
    from facebench.bench.ijb import check_ijb_detector, run_ijb, write_ijb
    from facebench.bench.plan import check_model_name
    from facebench.datasets.ijb import load_ijb
    from facebench.recognizers.registry import RECOGNIZERS

    landmark_sources = _names(detectors, ("metadata",))
    try:
        if any(option for option in unused_options):
            raise FacebenchError(
                f"--dataset {dataset} runs the IJB template protocol: --align, --degrade, --restore, --folds "
                "and --protocol do not apply (--detectors picks the landmarks: metadata or a detector)"
            )
        for source in landmark_sources:
            check_ijb_detector(source)
        for text in recognizers:
            check_model_name(RECOGNIZERS, text)
        check_writable_folder(out, "--out")
        data = load_ijb(dataset, data_root)
        results = [
            run_ijb(data, out, recognizer=recognizer, detector=source, threads=threads)
            for source in landmark_sources
            for recognizer in recognizers
        ]
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    write_ijb(results, out, threads)
    print((out / "README.md").read_text())
    err.print(f"results in {out}/: ijb_results.json, README.md", highlight=False)


def _benchmark_standard(
    dataset: str,
    protocol: str,
    recognizers: tuple[str, ...],
    threads: int | None,
    out: Path,
    end_to_end_options: tuple[Any, ...],
) -> None:
    """``benchmark --protocol standard``: recognizers on an InsightFace .bin of pre-aligned faces."""
    from facebench.bench.plan import check_model_name
    from facebench.bench.standard import run_standard_protocol
    from facebench.datasets.insightface_bin import read_verification_bin
    from facebench.recognizers.registry import RECOGNIZERS
    from facebench.report import write_all

    try:
        if not dataset.startswith("bin:"):
            raise FacebenchError(
                f"--protocol standard runs on pre-aligned 112x112 faces: give --dataset bin:<file> "
                f"(an InsightFace .bin), not {dataset!r}"
            )
        if protocol != "standard":
            raise FacebenchError(
                f"{dataset}: a .bin holds pre-aligned faces; it runs with --protocol standard"
            )
        if any(option for option in end_to_end_options):
            raise FacebenchError(
                "--protocol standard has no detection or alignment stage: --detectors, --align, --degrade, "
                "--restore, --folds, --identification and --on-no-face apply to end-to-end runs"
            )
        for text in recognizers:
            check_model_name(RECOGNIZERS, text)
        if threads is not None and threads < 1:
            raise FacebenchError(f"--threads must be at least 1, got {threads}")
        check_writable_folder(out, "--out")
        verification_set = read_verification_bin(Path(dataset[4:]).expanduser())
        result = run_standard_protocol(verification_set, out, recognizers=recognizers, threads=threads)
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    from facebench.datasets.lfw import VerificationPairs

    # the .bin's images have no paths: the scores file names them by their index in the file
    count = len(verification_set)
    pairs = VerificationPairs(
        [Path(f"{verification_set.name}.bin#{2 * i}") for i in range(count)],
        [Path(f"{verification_set.name}.bin#{2 * i + 1}") for i in range(count)],
        verification_set.is_same,
        verification_set.fold,
    )
    write_all(result, out, pairs=pairs)
    print((out / "README.md").read_text())
    err.print(f"results in {out}/", highlight=False)


def _check_no_face_policy(text: str) -> None:
    """``--on-no-face`` parses and names only detectors facebench can build."""
    from facebench.bench.no_face import NoFacePolicy
    from facebench.bench.plan import check_model_name
    from facebench.detectors.registry import DETECTORS

    for name in NoFacePolicy.parse(text).fallbacks:
        check_model_name(DETECTORS, name)


def _check_names(
    detectors: tuple[str, ...],
    recognizers: tuple[str, ...],
    align: tuple[str, ...],
    degrade: tuple[str | None, ...] | str | None,
    threads: int | None,
    restore: tuple[str | None, ...] = (None,),
) -> None:
    """Every grid name and option is valid: raises the first problem, naming the value and the choices."""
    from facebench.bench.plan import check_align, check_model_name
    from facebench.detectors.registry import DETECTORS
    from facebench.recognizers.registry import RECOGNIZERS

    for text in detectors:
        check_model_name(DETECTORS, text)
    for text in recognizers:
        check_model_name(RECOGNIZERS, text)
    for method in align:
        check_align(method)
    from facebench.ops.degrade import parse_degrade
    from facebench.restore import RESTORERS

    degradations = [
        parse_degrade(spec)
        for spec in ((degrade,) if degrade is None or isinstance(degrade, str) else degrade)
    ]
    restorers = [name for name in restore if name not in (None, "none")]
    for name in restorers:
        RESTORERS.check(name)
    if restorers and not any(d is not None and d.factor > 1 for d in degradations):
        raise FacebenchError("--restore brings back crops a lowres step shrank: add --degrade lowres:K")
    if threads is not None and threads < 1:
        raise FacebenchError(f"--threads must be at least 1, got {threads}")


def _parse_folds(value: str, available: Any) -> Any:
    """``--folds 1,3`` as 0-based fold ids, each checked against the folds the dataset has."""
    import numpy as np

    folds = sorted(int(f) for f in np.unique(available))
    try:
        wanted = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise FacebenchError(f"--folds takes comma-separated fold numbers, got {value!r}") from None
    low, high = folds[0] + 1, folds[-1] + 1
    bad = [f for f in wanted if f - 1 not in folds]
    if not wanted or bad:
        raise FacebenchError(
            f"--folds {value}: this dataset has folds {low}..{high} (1-based); {', '.join(map(str, bad)) or 'none'} given"
            + (" is" if len(bad) == 1 else " are")
            + " out of range"
        )
    return np.array([f - 1 for f in wanted])


@app.command("eval-identification")
def eval_identification(
    data_root: Annotated[Path, typer.Option(help="Identity folders: <root>/<identity>/<image>.")],
    detector: Annotated[str, typer.Option("--detector", "-d")] = DEFAULT_DETECTOR,
    recognizer: Annotated[str, typer.Option("--recognizer", "-r")] = DEFAULT_RECOGNIZER,
    align: Annotated[str, typer.Option(help="similarity, none or eyes.")] = "similarity",
    min_images: Annotated[int, typer.Option(help="Only identities with at least this many images.")] = 1,
    open_set: Annotated[
        bool,
        typer.Option(
            help="Identities with fewer than 2 images are not enrolled: their images are non-mated probes "
            "for the open-set DIR at FPIR 1e-3/1e-2/1e-1."
        ),
    ] = False,
    distractors: Annotated[
        Path | None,
        typer.Option(
            help="Enrol these too, as people who are never probes: a folder of images or a .npy of embeddings."
        ),
    ] = None,
    index: Annotated[str, typer.Option(help="Gallery index: auto, flat, hnsw or ivfpq.")] = "auto",
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/identification"),
) -> None:
    """Identification through a gallery index: gallery = first image per identity, probes = the
    rest; rank-1/5/10 and CMC, open-set DIR with --open-set, MegaFace-style --distractors."""
    import numpy as np

    from facebench.datasets.identities import identity_folders, load_identity_folders
    from facebench.gallery import INDEX_KINDS
    from facebench.gallery.identification import run_identification

    try:
        if index not in ("auto", *INDEX_KINDS):
            raise FacebenchError(f"Expected --index among auto, {', '.join(INDEX_KINDS)}, but got {index!r}")
        data = load_identity_folders(data_root, max(min_images, 2) if open_set else min_images)
        non_mated = (
            [images[0] for _, images in identity_folders(data_root) if len(images) < 2] if open_set else None
        )
        extra: list[Path] | np.ndarray | None = None
        if distractors is not None:
            if distractors.suffix == ".npy":
                extra = np.load(distractors, allow_pickle=False)
            else:
                extra = sorted(
                    p for p in distractors.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
                )
                if not extra:
                    raise FacebenchError(f"--distractors {distractors}: no images found")
        result = run_identification(
            data,
            _build("detector", detector),
            _build("recognizer", recognizer),
            align,
            out,
            non_mated=non_mated,
            distractors=extra,
            index=index,
        )
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    line = (
        f"{detector} + {align} + {recognizer}: rank-1 {100 * result.rank1:.2f} %, rank-5 "
        f"{100 * (result.rank5 or 0):.2f} % ({result.probes} probes, gallery {result.gallery}"
        f"{f' + {result.distractors} distractors' if result.distractors else ''}, {result.index} index)"
    )
    if result.non_mated_probes:
        rates = ", ".join(
            f"{'n/a' if v is None else f'{100 * v:.2f} %'} at FPIR {k}" for k, v in result.dir_at_fpir.items()
        )
        line += f"; open-set DIR {rates} ({result.non_mated_probes} non-mated probes)"
    print(line)


@app.command("eval-detection")
def eval_detection(
    detector: Annotated[str, typer.Option("--detector", "-d", help="Detector name.")],
    dataset: Annotated[str, typer.Option(help="Only widerface.")] = "widerface",
    data_root: Annotated[Path | None, typer.Option(help="Default $FACEBENCH_HOME/data/widerface.")] = None,
    input_size: Annotated[str | None, typer.Option(help="original, max_side=N or fixed=WxH.")] = None,
    score_threshold: Annotated[
        float | None, typer.Option(help="Detections kept (AP wants a low one).")
    ] = 0.02,
    out: Annotated[
        Path, typer.Option(help="Writes OUT/detections/<event>/<image>.txt and OUT/ap.json.")
    ] = Path("runs/widerface"),
) -> None:
    """WIDER FACE val AP (easy/medium/hard) on the val images present, official protocol."""
    from facebench.bench.detection import evaluate_widerface
    from facebench.datasets.widerface import load_widerface_val
    from facebench.detectors import create as create_detector

    if dataset != "widerface":
        raise _fail(f"Expected --dataset to be widerface, but got {dataset!r}")
    try:
        from facebench.bench.plan import parse_model_name

        data = load_widerface_val(data_root)
        name, engine = parse_model_name(detector)  # NAME@ENGINE, as in benchmark
        model = create_detector(
            name,
            input_size=input_size,
            score_threshold=score_threshold,
            **({"engine": engine} if engine else {}),
        )
    except (FacebenchError, ValueError) as error:
        raise _fail(str(error)) from None
    record = evaluate_widerface(model, data, out)
    print(
        f"{detector}: AP easy {record['easy']:.4f}, medium {record['medium']:.4f}, hard {record['hard']:.4f} "
        f"({record['input_size']}); {record['restriction']}"
    )


@app.command("embed")
@_takes_executor
def embed_command(
    images: Annotated[
        list[Path],
        typer.Argument(help="Image files, or folders (walked recursively).", readable=False),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="The (N, D) float32 .npy to write; OUT.csv beside it lists each row's image."
        ),
    ] = Path("embeddings.npy"),
    detector: Annotated[str, typer.Option("--detector", "-d")] = DEFAULT_DETECTOR,
    recognizer: Annotated[str, typer.Option("--recognizer", "-r")] = DEFAULT_RECOGNIZER,
    align: Annotated[str, typer.Option(help="similarity, none or eyes.")] = "similarity",
    flip: Annotated[bool, typer.Option(help="Flip test-time augmentation.")] = False,
    threads: Annotated[int | None, typer.Option(help="Inference threads per model.")] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Where detections and embeddings are kept, so a re-run (or one after Ctrl-C) computes "
            "only new images (default: OUT with .cache instead of .npy)."
        ),
    ] = None,
    executor: _ExecutorChoice = _ExecutorChoice(),
) -> None:
    """Embed the best face of each image (highest detection score) into one .npy, a NaN row where
    no face was found, with an index (``OUT.csv``: row, path, status) saying which image each row
    is. Images are decoded, detected and embedded in batches by the benchmark's engine, locally
    or on a Ray cluster (``--executor ray``), with identical rows."""
    import csv

    import numpy as np

    from facebench.annotate import find_images
    from facebench.bench.plan import ModelSpec, check_align, check_model_name, parse_model_name
    from facebench.bench.stages import embed_images
    from facebench.detectors.registry import DETECTORS
    from facebench.image import display_name
    from facebench.recognizers.registry import RECOGNIZERS

    try:
        if out.suffix != ".npy":
            raise FacebenchError(f"--out {out}: embeddings are written as a .npy file; name it *.npy")
        check_writable_folder(out.parent if str(out.parent) else Path("."), "--out folder")
        check_model_name(DETECTORS, detector)
        check_model_name(RECOGNIZERS, recognizer)
        check_align(align)
        detector_name, detector_engine = parse_model_name(detector)
        recognizer_name, recognizer_engine = parse_model_name(recognizer)
        detector_spec = ModelSpec.of("detector", detector_name, threads=threads, engine=detector_engine)
        recognizer_spec = ModelSpec.of(
            "recognizer", recognizer_name, flip=flip, threads=threads, engine=recognizer_engine
        )
        finder, model = detector_spec.describe(), recognizer_spec.describe()
        if align not in model.align_methods:
            raise FacebenchError(f"{recognizer} takes only {', '.join(model.align_methods)} alignment")
        if align != "none" and not finder.gives_landmarks and finder.refiner is None:
            raise FacebenchError(f"{detector} gives no landmarks; '{align}' alignment needs them")
        work = executor.build()
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    # a file named on the command line always gets its row (NaN when it cannot be embedded); a
    # folder contributes the images found in it
    inputs: list[Path] = []
    for given in images:
        found = find_images([given]) if given.is_dir() else None
        if found is not None and found.images:
            for where, reason in found.problems:
                _report_failure("skipped", f"{where}: {reason}")
            inputs += [image.path for image in found.images]
        else:  # a file, or a folder without images: its own row, its reason reported below
            inputs.append(given)
    if not inputs:
        raise _fail("no images to embed in " + ", ".join(str(p) for p in images))
    kept = cache or out.with_suffix(".cache")
    try:
        vectors, output = embed_images(
            detector_spec, recognizer_spec, align, inputs, kept, executor=work, face="best"
        )
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    rows, statuses = [], []
    failures = {"no face": 0, "unreadable or failed": 0}
    for path in inputs:
        name = str(path)
        row = vectors.get(name)
        status = "ok"
        if row is None:
            problem = output.unreadable.get(name) or output.errors.get(name)
            if problem is not None:
                failures["unreadable or failed"] += 1
                named = display_name(path)
                problem = problem if problem.startswith(named) else f"{named}: {problem}"
                status = f"error: {problem}"
                _report_failure("skipped", problem)
            else:
                failures["no face"] += 1
                status = "no_face"
                _report_failure("no face", f"in {display_name(path)}")
            row = np.full(model.embedding_dim, np.nan, np.float32)
        rows.append(row)
        statuses.append((name, status))
    with atomic_open(out, "wb") as handle:
        np.save(handle, np.stack(rows).astype(np.float32))
    # surrogateescape: a file name that is not valid UTF-8 is written back as the bytes it has
    with atomic_open(out.with_suffix(".csv"), "w", newline="", errors="surrogateescape") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "path", "status"])
        writer.writerows([index, path, status] for index, (path, status) in enumerate(statuses))
    missing = "; ".join(f"{count} {cause}" for cause, count in failures.items() if count)
    err.print(
        f"{len(rows)} row(s) of dim {model.embedding_dim} written to {out}"
        + (f" ({missing}: NaN rows, see {out.with_suffix('.csv').name})" if missing else ""),
        soft_wrap=True,
    )
    if any(failures.values()):
        raise typer.Exit(1)


@app.command("verify")
def verify_command(
    first: Annotated[Path, typer.Argument(help="First image, or a folder of them.")],
    second: Annotated[Path, typer.Argument(help="Second image, or a folder of them.")],
    detector: Annotated[str, typer.Option("--detector", "-d")] = DEFAULT_DETECTOR,
    recognizer: Annotated[str, typer.Option("--recognizer", "-r")] = DEFAULT_RECOGNIZER,
    threshold: Annotated[
        float | None, typer.Option(help="Cosine threshold (default: LFW-calibrated, best accuracy).")
    ] = None,
    far: Annotated[
        float | None,
        typer.Option(
            help="Use the LFW-calibrated threshold for this false-accept rate instead (1e-1, 1e-2, 1e-3)."
        ),
    ] = None,
    align: Annotated[str, typer.Option(help="similarity, none or eyes.")] = "similarity",
    refine: Annotated[
        str | None, typer.Option(help="Replace the detector's landmarks: facemesh or dlib5.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per pair on stdout.")] = False,
) -> None:
    """Do two images show the same person? Prints the score, threshold, where the threshold came
    from, and whether another face was in either image.

    An image and a folder compare the image with every image of the folder (walked recursively);
    two folders compare their images pair by pair in sorted order (same count). A pair whose
    image has no face is reported and counted; the exit status is 1 when any pair failed.
    """
    from facebench.api import VerifyResult, image_list, verify

    try:
        (firsts, many_first), (seconds, many_second) = image_list(first), image_list(second)
        results = verify(
            firsts if many_first else firsts[0],
            seconds if many_second else seconds[0],
            detector=detector,
            recognizer=recognizer,
            threshold=threshold,
            far=far,
            align=align,  # type: ignore[arg-type]
            refine=refine,
        )
    except (FacebenchError, ValueError) as error:
        raise _fail(str(error)) from None
    many = isinstance(results, list)
    listed: list[VerifyResult] = results if isinstance(results, list) else [results]
    names = zip(firsts * (len(listed) // len(firsts)), seconds * (len(listed) // len(seconds)), strict=True)
    for (one, other), result in zip(names, listed, strict=True):
        if as_json:
            record = {**result.to_dict(), "detector": detector, "recognizer": recognizer, "align": align}
            paths = {"first": str(one), "second": str(other)} if many else {}
            sys.stdout.write(json.dumps({**paths, **record, "notes": result.notes}) + "\n")
            continue
        pair = f"{escape(str(one))} vs {escape(str(other))}: " if many else ""
        if result.error is not None:
            _report_failure("failed", f"{one} vs {other}: {result.error}")
            continue
        verdict = "[green]same person[/]" if result else "[red]different people[/]"
        out.print(
            f"{pair}{verdict}: score {result.score:.4f} (threshold {result.threshold:.4f}, {recognizer})",
            highlight=False,
        )
        for note in result.notes:
            err.print(f"[yellow]note[/] {escape(note)}", highlight=False, soft_wrap=True)
    if listed and not as_json:
        err.print(f"threshold: {listed[0].threshold_source}", highlight=False, soft_wrap=True)
    failed = sum(result.error is not None for result in listed)
    if many:
        err.print(f"{len(listed)} pair(s) compared, {failed} without a decision", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    name: Annotated[str, typer.Argument(help="A PyTorch recognizer, e.g. mobilefacenet_casia.")],
    out_file: Annotated[Path, typer.Option("--out", help="The .onnx file to write.")],
    export_format: Annotated[str, typer.Option("--format", help="Only onnx.")] = "onnx",
) -> None:
    """Export a PyTorch recognizer to ONNX (dynamic batch axis, NCHW float input), with its contract.

    The graph runs as ``-r onnx:FILE`` on the core install alone (no torch).
    """
    from facebench.ops.torch_engine import export_onnx
    from facebench.recognizers import create as create_recognizer

    if export_format != "onnx":
        raise _fail(f"Expected --format to be onnx, but got {export_format!r}")
    try:
        check_writable_folder(out_file.parent if str(out_file.parent) else Path("."), "--out folder")
        model = create_recognizer(name)
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    runner = getattr(model, "runner", None)
    if runner is None:
        hint = (
            " (the int8 _q models cannot be exported; export the matching _dequant model)"
            if name.endswith("_q")
            else ""
        )
        raise _fail(f"{name} is not a float PyTorch model, so it cannot be exported{hint}")
    from facebench.recognizers.onnx_file import write_onnx_sidecar

    template = model.template
    export_onnx(runner.module, (3, template.height, template.width), out_file)
    sidecar = write_onnx_sidecar(
        out_file,
        source=name,
        source_sha256=[weight_file.sha256 for weight_file in model.card.files],
        preprocess=model.card.preprocess,
        native_metric=model.native_metric,
    )
    out.print(
        f"wrote {out_file} (input 'input' N×3×{template.height}×{template.width}, output 'embedding' "
        f"N×{model.embedding_dim}) and its contract {sidecar.name}; use it as -r onnx:{out_file}"
    )


def _comparison_sheet(
    images: list[Path], options: dict[str, Any], save: Path | None, as_json: bool, *, masks: bool = False
) -> None:
    """Run every detector on one image; draw one labelled panel each into a grid (with ``masks``,
    each panel shows that detector's face and head masks)."""
    import math

    import cv2
    import numpy as np

    from facebench.detectors import create, list_detectors
    from facebench.draw import draw_faces
    from facebench.errors import MissingExtraError, ModelNotFoundError
    from facebench.image import load_image

    if len(images) != 1:
        raise _fail("--detector all compares detectors on exactly one image")
    try:
        rgb = load_image(images[0])
    except ImageError as error:
        raise _fail(str(error)) from None
    panels: list[Any] = []
    summary: list[dict[str, Any]] = []
    failed = 0
    if masks:
        from facebench.draw import draw_masks
        from facebench.segment import FaceSegmenter

        segmenter = FaceSegmenter()
    for name in list_detectors():
        try:
            faces = create(name, **options).detect(rgb)
        except (MissingExtraError, ModelNotFoundError) as error:
            # not installed here: said, listed in the JSON with its reason, and not a failure
            err.print(f"[yellow]{name} not available:[/] {error}", highlight=False)
            summary.append({"detector": name, "unavailable": str(error)})
            continue
        except (FacebenchError, ValueError) as error:  # a detector that fails here is a finding
            err.print(f"[bold red]{name} failed:[/] {error}", highlight=False)
            summary.append({"detector": name, "error": f"{type(error).__name__}: {error}"})
            failed += 1
            continue
        entry: dict[str, Any] = {"detector": name, "faces": [face.to_dict() for face in faces]}
        background = rgb
        if masks and faces:
            found = segmenter.segment(rgb, faces)
            entry["masks"] = [face_masks.to_dict() for face_masks in found]
            background = draw_masks(rgb, found)
        summary.append(entry)
        panels.append(draw_faces(background, faces, label=f"{name}: {len(faces)}"))
        if not as_json:
            out.print(f"{name}: {len(faces)} face(s)", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    if save is not None and panels:
        columns = math.ceil(math.sqrt(len(panels)))
        rows = math.ceil(len(panels) / columns)
        height, width = panels[0].shape[:2]
        scale = min(1.0, 640 / width)
        size = (round(width * scale), round(height * scale))
        sheet = np.full((rows * size[1], columns * size[0], 3), 255, np.uint8)
        for index, panel in enumerate(panels):
            row, column = divmod(index, columns)
            sheet[row * size[1] : (row + 1) * size[1], column * size[0] : (column + 1) * size[0]] = (
                cv2.resize(panel, size, interpolation=cv2.INTER_AREA)
            )
        save.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(save), sheet[..., ::-1]):
            raise _fail(f"could not write {save}")
        err.print(f"comparison sheet written to {save}", highlight=False)
    if failed:
        raise _fail(f"{failed} detector(s) failed on {images[0]}")


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------
def _overrides(values: list[str] | None) -> dict[str, Any]:
    import yaml

    parsed = {}
    for item in values or []:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise _fail(f"--set expects key=value (e.g. optim.lr=0.05), got {item!r}")
        parsed[key] = yaml.safe_load(value)
    return parsed


def _train(
    run: Any, config_class: type, config: Path, set_values: list[str] | None, stop_at: int | None
) -> None:
    from facebench.train.config import load_config

    try:
        summary = run(load_config(config_class, config, _overrides(set_values)), stop_at=stop_at)
    except FacebenchError as error:
        raise _fail(str(error)) from None
    out.print_json(json.dumps(summary))


_CONFIG_OPTION = typer.Option("--config", "-c", help="YAML config (see configs/ and docs/TRAINING.md).")
_SET_OPTION = typer.Option("--set", help="Override a config value: --set optim.lr=0.05 (repeatable).")
_STOP_OPTION = typer.Option(help="Stop after this many steps (checkpointed); re-run to resume.")


@train_app.command("recognition")
def train_recognition_command(
    config: Annotated[Path, _CONFIG_OPTION],
    set_values: Annotated[list[str] | None, _SET_OPTION] = None,
    stop_at: Annotated[int | None, _STOP_OPTION] = None,
) -> None:
    """Train a recognition backbone; under `torchrun --nproc-per-node N` it trains on N processes.

    The run folder gets config.yaml, metrics.jsonl, tensorboard/, checkpoints/ (exact resume:
    re-run the same command), best.pt and last.pt; use a model file as `ckpt:<path>` wherever a
    recognizer name goes.
    """
    from facebench.train.recognition import RecognitionConfig, train_recognition

    _train(train_recognition, RecognitionConfig, config, set_values, stop_at)


@train_app.command("detector")
def train_detector_command(
    config: Annotated[Path, _CONFIG_OPTION],
    set_values: Annotated[list[str] | None, _SET_OPTION] = None,
    stop_at: Annotated[int | None, _STOP_OPTION] = None,
) -> None:
    """Train or fine-tune RetinaFace (MobileNet-0.25 or ResNet-50) on WIDER-format annotations.

    The run folder gets checkpoints/ (resume by re-running), metrics.jsonl and last.pt; use it as
    the detector `ckpt:<path>` in detect, benchmark and eval-detection.
    """
    from facebench.train.detection import DetectionConfig, train_detector

    _train(train_detector, DetectionConfig, config, set_values, stop_at)


@app.command("report")
def report_command(
    folders: Annotated[list[Path], typer.Argument(help="Benchmark output folders (each with results.json).")],
    out: Annotated[Path, typer.Option(help="Where the merged report goes.")] = Path("runs/report"),
) -> None:
    """Merge the results of several benchmark runs into one report (README.md, results.csv/json,
    charts, report.html): a run of the same pipeline, configuration and pairs given twice is kept
    once (the later folder's), and the McNemar tests are recomputed over every pair of runs."""
    import shutil

    from facebench.bench.results import load_results
    from facebench.report import scores_file, write_all

    try:
        check_writable_folder(out, "--out")
        merged = None
        for folder in folders:
            if not (folder / "results.json").is_file():
                raise FacebenchError(f"{folder}: no results.json (not a benchmark output folder)")
            result = load_results(folder)
            merged = result if merged is None else merged.merge(result)
            for run in result.runs:  # per-pair scores feed the charts and the paired tests' report
                source = scores_file(folder, run.pipeline)
                if source.is_file() and source.resolve() != scores_file(out, run.pipeline).resolve():
                    scores_file(out, run.pipeline).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, scores_file(out, run.pipeline))
        assert merged is not None
        written = write_all(merged, out, store_folders=list(folders))
    except (FacebenchError, ValueError, OSError, KeyError) as error:
        raise _fail(str(error)) from None
    print((out / "README.md").read_text())
    err.print(
        f"{len(merged.runs)} run(s) from {len(folders)} folder(s); {len(written)} file(s) in {out}/",
        highlight=False,
    )


# ---------------------------------------------------------------------------------------------
# index (galleries)
# ---------------------------------------------------------------------------------------------
@index_app.command("build")
@_takes_executor
def index_build(
    folder: Annotated[
        Path, typer.Argument(help="Identity sub-folders of images (identity = sub-folder name).")
    ],
    out: Annotated[Path, typer.Option(help="The gallery folder to write.")] = Path("gallery"),
    detector: Annotated[str, typer.Option("--detector", "-d")] = DEFAULT_DETECTOR,
    recognizer: Annotated[
        str, typer.Option("--recognizer", "-r", help="Recognizer (batched float EdgeFace-XS by default).")
    ] = GALLERY_RECOGNIZER,
    index: Annotated[str, typer.Option(help="auto, flat (exact), hnsw or ivfpq.")] = "auto",
    threads: Annotated[int | None, typer.Option(help="Inference threads.")] = None,
    executor: _ExecutorChoice = _ExecutorChoice(),
) -> None:
    """Enrol every face under FOLDER (recursively); resumable: detections and embeddings are
    cached in OUT/cache, so a re-run computes only new images."""
    from facebench.gallery import INDEX_KINDS, Gallery

    try:
        if index not in ("auto", *INDEX_KINDS):
            raise FacebenchError(f"Expected --index among auto, {', '.join(INDEX_KINDS)}, but got {index!r}")
        check_writable_folder(out, "--out")
        work = executor.build()
        gallery = Gallery.build(
            folder,
            cache=out / "cache",
            detector=detector,
            recognizer=recognizer,
            index=index,
            threads=threads,
            show_progress=sys.stderr.isatty(),
            executor=work,
        )
        gallery.save(out)
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    for path, reason in gallery.skipped.items():
        _report_failure("skipped", f"{path}: {reason}")
    identities = len(set(gallery.identities))
    err.print(
        f"{gallery.size} faces of {identities} identities in {out}/ ({gallery._faiss.kind if gallery._faiss else '-'} "
        f"index); {len(gallery.skipped)} image(s) skipped",
        highlight=False,
    )


@index_app.command("search")
def index_search(
    gallery_folder: Annotated[Path, typer.Argument(help="A gallery written by `facebench index build`.")],
    images: Annotated[list[Path], typer.Argument(help="Probe images.")],
    k: Annotated[int, typer.Option("-k", help="Matches per probe.")] = 5,
    recognizer: Annotated[
        str | None, typer.Option("--recognizer", "-r", help="Refused unless it is the gallery's own.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list, an object per probe.")] = False,
) -> None:
    """The k best enrolled faces for each probe image's central face."""
    from facebench.gallery import Gallery

    try:
        if k < 1:
            raise FacebenchError(f"-k must be at least 1, got {k}")
        gallery = Gallery.load(gallery_folder)
        gallery.check_recognizer(recognizer)
        results = gallery.search([str(p) for p in images], k)
    except (FacebenchError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    if as_json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
        return
    for result in results:
        if result.error:
            _report_failure("no match", f"{result.image}: {result.error}")
            continue
        ranked = ", ".join(f"{m.identity} {m.score:.3f}" for m in result.matches)
        print(f"{result.image}: {ranked}")


def main() -> None:
    """Console-script entry point.

    A missing optional dependency ends any command with the one line that names its extra
    (``retinaface_mnet025 needs torch: pip install "facebench[torch]"``), not a traceback.
    """
    import logging

    from facebench._log import logger
    from facebench.errors import MissingExtraError

    # the library logs and never prints; the command line shows its warnings on stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        app()
    except MissingExtraError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print(escape(_interrupted_message(sys.argv[1:])), highlight=False, soft_wrap=True)
        sys.exit(130)
    except SystemExit as exit_:
        if exit_.code == 130:  # typer turns Ctrl-C into exit code 130
            err.print(escape(_interrupted_message(sys.argv[1:])), highlight=False, soft_wrap=True)
        raise


#: commands whose finished work survives an interruption, and where it is kept
_RESUMABLE = {
    "benchmark": "cache.sqlite",
    "eval-lfw": "cache.sqlite",
    "eval-identification": "cache.sqlite",
    "index": "cache/",
    "detect": "detections.jsonl and the files written so far",
    "train": "the last checkpoint",
}


def _interrupted_message(arguments: list[str]) -> str:
    """What Ctrl-C kept, and how to go on: the same command resumes where it stopped."""
    command = arguments[0] if arguments else ""
    given = {a: arguments[i + 1] for i, a in enumerate(arguments[:-1]) if a.startswith("--")}
    out = given.get("--out")
    if command == "embed":  # its store sits beside the .npy unless --cache moved it
        where = given.get("--cache") or str(Path(out or "embeddings.npy").with_suffix(".cache"))
    elif (kept := _RESUMABLE.get(command)) is None:
        return "interrupted"
    else:
        where = f"{out}/{kept}" if out and command not in ("train",) else kept
    again = "facebench " + " ".join(arguments)
    return f"interrupted: the work finished so far is kept ({where}); run `{again}` again to resume"


if __name__ == "__main__":
    main()
