"""Planning a benchmark grid: which models run, which pipelines are scored, and which are skipped and why.

Planning is pure bookkeeping over model *specifications* (a registry name and its options), so an
executor can build the same models anywhere (this process, or a worker on another machine).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from facebench.align import ALIGN_METHODS, TEMPLATES
from facebench.errors import FacebenchError
from facebench.loading import loaded
from facebench.ops.degrade import parse_degrade

#: which face of an image a job embeds (`DetectorJob.face`)
FaceChoice = Literal["central", "best"]

__all__ = [
    "DetectorJob",
    "EmbedSpec",
    "FaceChoice",
    "GridPlan",
    "ModelPool",
    "ModelSpec",
    "Pipeline",
    "PlannedPipeline",
    "Skipped",
    "check_align",
    "check_model_name",
    "parse_model_name",
    "plan_grid",
]


@dataclass(frozen=True)
class Pipeline:
    """A detector + alignment + recognizer (+ degradation + restorer) combination, named as
    results show it: ``yunet+similarity+edgeface_xs_q+lowres:4:bicubic+fsrcnn_x4``."""

    detector: str
    align: str
    recognizer: str
    degrade: str | None = None
    restore: str | None = None

    @property
    def name(self) -> str:
        parts = [self.detector, self.align, self.recognizer, self.degrade, self.restore]
        return "+".join(part for part in parts if part)


@dataclass(frozen=True)
class ModelSpec:
    """What it takes to build a model: its kind, registry name and options (sorted, hashable)."""

    kind: Literal["detector", "recognizer"]
    name: str
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, kind: Literal["detector", "recognizer"], name: str, **options: Any) -> ModelSpec:
        return cls(kind, name, tuple(sorted((k, v) for k, v in options.items() if v is not None)))

    @property
    def label(self) -> str:
        """The name results show: ``edgeface_xs_dequant@onnx`` when an engine was chosen,
        ``yunet~center`` under a no-face policy other than ``fail``."""
        options = dict(self.options)
        label = f"{self.name}@{options['engine']}" if options.get("engine") else self.name
        return f"{label}~{options['on_no_face']}" if options.get("on_no_face") else label

    def describe(self) -> Any:
        """The model with its options resolved, weights not yet read (it loads on first use)."""
        if self.kind == "detector":
            from facebench.detectors.registry import DETECTORS

            options = dict(self.options)
            policy_text = options.pop("on_no_face", None)
            detector = DETECTORS.describe(self.name, **options)
            if policy_text is None:
                return detector
            from facebench.bench.no_face import NoFacePolicy, RescuingDetector

            policy = NoFacePolicy.parse(policy_text)
            fallbacks = []
            for text in policy.fallbacks:
                name, engine = parse_model_name(text)
                fallbacks.append(
                    DETECTORS.describe(
                        name, threads=options.get("threads"), **({"engine": engine} if engine else {})
                    )
                )
            return RescuingDetector(detector, policy, fallbacks)
        from facebench.recognizers.registry import RECOGNIZERS

        return RECOGNIZERS.describe(self.name, **dict(self.options))


class ModelPool:
    """Holds one instance per `ModelSpec` per process.

    `describe` hands it out before its weights are read (planning, store lookups and scoring
    need only options, card and ``config``, so a re-run whose results are all stored reads no
    weights); `get` hands out the same instance loaded.
    """

    def __init__(self) -> None:
        self._models: dict[ModelSpec, Any] = {}
        self._lock = threading.Lock()

    def adopt(self, kind: Literal["detector", "recognizer"], model: Any) -> ModelSpec:
        """Hand out an already built model under a spec of its own (for callers that hold models)."""
        spec = ModelSpec(kind, model.name, (("instance", id(model)),))
        with self._lock:
            self._models[spec] = model
        return spec

    def describe(self, spec: ModelSpec) -> Any:
        with self._lock:
            if spec not in self._models:
                self._models[spec] = spec.describe()
            return self._models[spec]

    def get(self, spec: ModelSpec) -> Any:
        return loaded(self.describe(spec))  # an adopted instance may be any object with the API


@dataclass(frozen=True)
class EmbedSpec:
    """One recognizer fed faces aligned by one method (``similarity``, ``none`` or ``eyes``)."""

    recognizer: ModelSpec
    method: str


@dataclass(frozen=True)
class DetectorJob:
    """The per-image work of one detector: detect, then align + embed for every `EmbedSpec`.

    ``face`` is the face an image contributes: ``central`` (nearest the image centre, as benchmark
    datasets centre their subject) or ``best`` (the highest detection score, for any photo).
    """

    detector: ModelSpec
    embeds: tuple[EmbedSpec, ...]
    face: FaceChoice = "central"


@dataclass(frozen=True)
class PlannedPipeline:
    pipeline: Pipeline
    job: int  # index into `GridPlan.jobs`
    embed: int  # index into that job's ``embeds``


@dataclass(frozen=True)
class Skipped:
    pipeline: str
    reason: str


@dataclass(frozen=True)
class GridPlan:
    jobs: tuple[DetectorJob, ...]
    pipelines: tuple[PlannedPipeline, ...]
    skipped: tuple[Skipped, ...]


def check_align(method: str) -> None:
    """Raise a `FacebenchError` naming the choices when ``method`` is no alignment facebench knows."""
    if method not in ALIGN_METHODS and method not in TEMPLATES:
        raise FacebenchError(
            f"Expected --align values among {', '.join([*ALIGN_METHODS, *TEMPLATES])}, but got {method!r}"
        )


def parse_model_name(text: str) -> tuple[str, str | None]:
    """``name`` or ``name@engine`` (``edgeface_xs_dequant@onnx``, ``retinaface_mnet025@torch``)
    → (name, engine or ``None``); detectors and recognizers are named alike."""
    name, at, engine = text.rpartition("@") if "@" in text else (text, "", "")
    if at and not engine:
        raise FacebenchError(f"model {text!r}: name an engine after '@' (torch, onnx, litert)")
    return (name, engine or None) if at else (text, None)


def check_model_name(registry: Any, text: str) -> None:
    """Raise now, before any work, when ``NAME`` or ``NAME@ENGINE`` cannot be built from ``registry``."""
    name, engine = parse_model_name(text)
    registry.check(name)
    if engine is not None and ":" not in name:  # a checkpoint's engines are known once it is read
        offered = getattr(registry.get(name), "engines", ())
        if engine not in offered:
            raise FacebenchError(
                f"{registry.argument} {name} runs on {', '.join(offered) or 'one engine only'}, not {engine!r}"
            )


def _axis(values: str | tuple[str | None, ...] | None) -> tuple[str | None, ...]:
    """A grid axis: one value or several; ``none`` and ``None`` mean the plain pipeline."""
    items = (values,) if values is None or isinstance(values, str) else values or (None,)
    out: list[str | None] = []
    for value in items:
        value = None if value in (None, "", "none") else value
        if value not in out:
            out.append(value)
    return tuple(out)


def _canonical_degrade(spec: str | None) -> str | None:
    degradation = parse_degrade(spec)
    return None if degradation is None else degradation.spec


def plan_grid(
    detectors: tuple[str, ...],
    recognizers: tuple[str, ...],
    align: tuple[str, ...],
    *,
    pool: ModelPool,
    flip: bool = False,
    threads: int | None = None,
    degrade: str | tuple[str | None, ...] | None = None,
    restore: str | tuple[str | None, ...] | None = None,
    recognizer_options: dict[str, Any] | None = None,
    on_no_face: str | None = None,
) -> GridPlan:
    """Expand the grid into detector jobs and scored pipelines; skip impossible combinations with a reason.

    A template name as ``align`` means similarity alignment onto it, and runs only for the
    recognizers trained on that template; a method that needs landmarks is skipped for a
    detector that gives none (unless a refiner adds them). ``degrade`` and ``restore`` are
    grid axes too (each recognizer runs under every degradation × restorer); a restorer
    beside a degradation that shrinks nothing is skipped.
    """
    for method in align:
        check_align(method)
    degradations = _axis(degrade)
    restorers = _axis(restore)
    recognizer_specs: list[tuple[ModelSpec, str | None, str | None]] = []
    skipped: list[Skipped] = []
    for text in recognizers:
        name, engine = parse_model_name(text)
        for degradation in degradations:
            canonical = _canonical_degrade(degradation)
            for restorer in restorers:
                if restorer is not None and (canonical is None or parse_degrade(canonical).factor <= 1):  # type: ignore[union-attr]
                    label = Pipeline("*", "*", text, canonical, restorer).name
                    skipped.append(
                        Skipped(
                            label,
                            f"{restorer} restores a shrunk crop: {canonical or 'no degradation'} shrinks nothing",
                        )
                    )
                    continue
                options = {
                    **(recognizer_options or {}),
                    "flip": flip,
                    "threads": threads,
                    "degrade": canonical,
                    "restore": restorer,
                }
                if engine:
                    options["engine"] = engine
                recognizer_specs.append((ModelSpec.of("recognizer", name, **options), canonical, restorer))
    jobs: list[DetectorJob] = []
    pipelines: list[PlannedPipeline] = []
    for detector_text in detectors:
        detector_name, detector_engine = parse_model_name(detector_text)
        policy = None if on_no_face in (None, "fail") else on_no_face
        detector_spec = ModelSpec.of(
            "detector", detector_name, threads=threads, engine=detector_engine, on_no_face=policy
        )
        detector_name = detector_spec.label
        detector = pool.describe(detector_spec)
        embeds: list[EmbedSpec] = []
        for spec, canonical, restorer in recognizer_specs:
            recognizer = pool.describe(spec)
            for asked in align:
                pipeline = Pipeline(detector_name, asked, spec.label, canonical, restorer)
                method, reason = asked, None
                if asked in TEMPLATES:
                    own = recognizer.card.preprocess.template
                    if own != asked:
                        reason = f"{spec.label} was trained on the {own} template, not {asked}"
                    method = "similarity"
                if reason is None and method not in recognizer.align_methods:
                    reason = f"{spec.label} takes only {', '.join(recognizer.align_methods)} alignment"
                elif (
                    reason is None
                    and method != "none"
                    and not detector.gives_landmarks
                    and detector.refiner is None
                ):
                    reason = (
                        f"{detector_name} gives no landmarks; '{method}' alignment needs them (add a refiner)"
                    )
                if reason is not None:
                    skipped.append(Skipped(pipeline.name, reason))
                    continue
                embed = EmbedSpec(spec, method)
                if embed not in embeds:
                    embeds.append(embed)
                pipelines.append(PlannedPipeline(pipeline, len(jobs), embeds.index(embed)))
        jobs.append(DetectorJob(detector_spec, tuple(embeds)))
    return GridPlan(tuple(jobs), tuple(pipelines), tuple(skipped))
