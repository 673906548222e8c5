"""Typed benchmark results: one `PipelineResult` per scored pipeline, one `BenchmarkResult` per run.

Every metric is a typed field; `METRICS` describes each column once (label, unit, whether higher
is better, format), and every table facebench writes (README.md, results.csv, report.html) is
rendered from it. ``results.json`` keeps the flat keys it has always documented (``runs[]`` with
``accuracy_mean``, ``detect_ms_p50``, ``peak_rss_mb`` …) beside the structured ones, so existing
consumers keep working.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, fields, replace
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from facebench.metrics.identification import rank_rate

__all__ = [
    "METRICS",
    "NO_LATENCY",
    "BenchmarkResult",
    "Comparison",
    "Failures",
    "Identification",
    "ImageFailure",
    "Metric",
    "ModelCost",
    "PipelineResult",
    "SkippedPipeline",
    "StageLatency",
    "load_results",
]

FORMAT = "facebench.benchmark/2"


@dataclass(frozen=True)
class StageLatency:
    """Per-image milliseconds of one stage, and where they come from.

    Attributes:
        p50_ms, p95_ms: median and 95th percentile per image (per face for embedding, which runs
            in batches of ``batch``: the batch's time divided by its faces).
        samples: how many images were timed.
        batch: images (detection) or faces (embedding) per forward pass.
        source: ``measured`` (timed while computing, in this environment), ``re-measured on N
            images`` (the outputs came from the store, computed elsewhere) or ``none``.
        environment: fingerprint of the machine, threads and library versions of the samples.
        measured_at: UTC time of the latest sample.
    """

    p50_ms: float | None
    p95_ms: float | None
    samples: int
    batch: int
    source: str
    environment: str
    measured_at: str | None


#: a stage that was not timed (outputs read from the store, or a stage the protocol does not have)
NO_LATENCY = StageLatency(None, None, 0, 1, "none", "", None)


@dataclass(frozen=True)
class Failures:
    """Images without an embedding, by cause (``error``: an unexpected exception, reported, not cached)."""

    no_face: int = 0
    unreadable: int = 0
    align_failed: int = 0
    error: int = 0

    @property
    def total(self) -> int:
        return self.no_face + self.unreadable + self.align_failed + self.error


@dataclass(frozen=True)
class ModelCost:
    """What a model costs besides time (see `facebench.bench.cost`); ``None`` where not measurable."""

    size_mb: float | None = None
    params_m: float | None = None
    gflops: float | None = None
    peak_rss_mb: float | None = None
    model_rss_mb: float | None = None
    faces_per_s: float | None = None
    best_batch: int | None = None


@dataclass(frozen=True)
class Identification:
    """Closed-set identification of one pipeline on its dataset's identities.

    Attributes:
        cmc: fraction of probes whose identity is among the top k gallery matches, k = 1..20.
        probes_without_face: probes with no embedding (never identified: they count as misses).
        split: how the gallery and probes were drawn.
    """

    gallery: int
    probes: int
    cmc: tuple[float, ...]
    probes_without_face: int
    split: str

    @property
    def rank1(self) -> float:
        return self.cmc[0]

    @property
    def rank5(self) -> float | None:
        return rank_rate(self.cmc, 5)


def _pack(correct: np.ndarray) -> str:
    return base64.b64encode(np.packbits(correct.astype(bool)).tobytes()).decode("ascii")


def _unpack(text: str, count: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(base64.b64decode(text), np.uint8))[:count].astype(bool)


def _sum(*values: float | None) -> float | None:
    """Sum of the parts, or ``None`` when any is unknown (a partial total would mislead)."""
    return None if any(v is None for v in values) else round(float(sum(values)), 4)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PipelineResult:
    """Every measured number of one pipeline on one dataset."""

    pipeline: str
    dataset: str
    detector: str
    align: str
    recognizer: str
    engine: str
    flip: bool
    degrade: str | None
    pairs: int
    images: int
    accuracy_mean: float
    accuracy_std: float
    accuracy_ci95: tuple[float, float]
    fold_accuracy: tuple[float, ...]
    threshold_all_pairs: float
    auc: float
    eer: float
    tar_at_far: dict[str, float | None]
    success_rate: float
    failed_pairs: int
    failures: Failures
    detect_latency: StageLatency
    embed_latency: StageLatency
    align_latency: StageLatency
    detector_cost: ModelCost | None
    recognizer_cost: ModelCost | None
    seconds: float
    config: dict[str, Any]
    #: per pair, whether the fold threshold decided it correctly (packed), for paired tests
    decisions: str
    failure_policy: str = (
        "a pair with a missing face has no score: it is decided 'different' at every threshold"
    )
    #: what brought a crop that ``degrade`` shrank back to size (``None``: bilinear resize)
    restore: str | None = None
    #: closed-set identification (``--identification``): rank-1/rank-5 and the CMC to rank 20
    identification: Identification | None = None
    #: what happened to images without a detected face (``--on-no-face``: fail, center, fallback:…)
    no_face_policy: str = "fail"
    #: images the policy gave a face, by where it came from (``center``, ``fallback:mtcnn``, ``upscaled``)
    rescued_images: dict[str, int] = field(default_factory=dict)
    #: pairs holding at least one such image
    rescued_pairs: int = 0
    #: each fold's decision threshold (chosen on the other folds), in fold order
    fold_thresholds: tuple[float, ...] = ()
    #: per-pair similarity (NaN: a face is missing); kept in memory and in scores/, not in JSON
    scores: np.ndarray | None = field(default=None, compare=False, repr=False)

    # -- derived figures --------------------------------------------------------------------
    @property
    def correct(self) -> np.ndarray:
        return _unpack(self.decisions, self.pairs)

    @property
    def detect_ms_p50(self) -> float | None:
        return self.detect_latency.p50_ms

    @property
    def detect_ms_p95(self) -> float | None:
        return self.detect_latency.p95_ms

    @property
    def embed_ms_p50(self) -> float | None:
        return self.embed_latency.p50_ms

    @property
    def embed_ms_p95(self) -> float | None:
        return self.embed_latency.p95_ms

    @property
    def align_ms_p50(self) -> float | None:
        return self.align_latency.p50_ms

    @property
    def align_ms_p95(self) -> float | None:
        return self.align_latency.p95_ms

    @property
    def total_ms_p50(self) -> float | None:
        return _sum(self.detect_ms_p50, self.align_ms_p50, self.embed_ms_p50)

    @property
    def images_per_s(self) -> float | None:
        """Images one pipeline processes per second at its median latencies (one core set)."""
        total = self.total_ms_p50
        return None if not total else round(1000.0 / total, 2)

    def _cost(self, name: str) -> tuple[float | None, float | None]:
        detector = getattr(self.detector_cost, name) if self.detector_cost else None
        recognizer = getattr(self.recognizer_cost, name) if self.recognizer_cost else None
        return detector, recognizer

    @property
    def peak_rss_mb(self) -> float | None:
        """Peak memory of running the pipeline: the detector's process peak plus the recognizer's increase."""
        detector = self.detector_cost.peak_rss_mb if self.detector_cost else None
        recognizer = self.recognizer_cost.model_rss_mb if self.recognizer_cost else None
        return _sum(detector, recognizer)

    @property
    def size_mb(self) -> float | None:
        return _sum(*self._cost("size_mb"))

    @property
    def gflops(self) -> float | None:
        return _sum(*self._cost("gflops"))

    @property
    def params_m(self) -> float | None:
        return _sum(*self._cost("params_m"))

    @property
    def embed_faces_per_s_best(self) -> float | None:
        return self.recognizer_cost.faces_per_s if self.recognizer_cost else None

    @property
    def rank1(self) -> float | None:
        return self.identification.rank1 if self.identification else None

    @property
    def rank5(self) -> float | None:
        return self.identification.rank5 if self.identification else None

    @property
    def ci_low(self) -> float:
        return self.accuracy_ci95[0]

    @property
    def ci_high(self) -> float:
        return self.accuracy_ci95[1]

    # -- serialisation ----------------------------------------------------------------------
    def to_record(self) -> dict[str, Any]:
        """The JSON record: structured fields plus the flat keys results.json has always had."""
        record: dict[str, Any] = {}
        for item in fields(self):
            if item.name == "scores":
                continue
            value = getattr(self, item.name)
            if isinstance(value, Failures | StageLatency | ModelCost | Identification):
                value = asdict(value)
                if isinstance(getattr(self, item.name), Identification):
                    value["cmc"] = list(value["cmc"])
            elif isinstance(value, tuple):
                value = list(value)
            record[item.name] = value
        for name in _FLAT:
            record[name] = getattr(self, name)
        record["failures"]["total"] = self.failures.total
        record["cost"] = {
            "detector": record.pop("detector_cost"),
            "recognizer": record.pop("recognizer_cost"),
        }
        record["latency"] = {
            "detect": record.pop("detect_latency"),
            "align": record.pop("align_latency"),
            "embed": record.pop("embed_latency"),
        }
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PipelineResult:
        failures = {k: v for k, v in record["failures"].items() if k != "total"}
        cost = record.get("cost") or {}
        latency = record["latency"]
        values = {item.name: record[item.name] for item in fields(cls) if item.name in record}
        values.update(
            accuracy_ci95=tuple(record["accuracy_ci95"]),
            fold_accuracy=tuple(record["fold_accuracy"]),
            fold_thresholds=tuple(record.get("fold_thresholds", ())),
            failures=Failures(**failures),
            detect_latency=StageLatency(**latency["detect"]),
            align_latency=StageLatency(**latency["align"]),
            embed_latency=StageLatency(**latency["embed"]),
            detector_cost=ModelCost(**cost["detector"]) if cost.get("detector") else None,
            recognizer_cost=ModelCost(**cost["recognizer"]) if cost.get("recognizer") else None,
        )
        if record.get("identification"):
            ident = dict(record["identification"])
            values["identification"] = Identification(**{**ident, "cmc": tuple(ident["cmc"])})
        return cls(**values)

    @property
    def identity(self) -> tuple[str, str]:
        """What makes two results the same experiment (a re-run replaces, never duplicates, it)."""
        return self.dataset, json.dumps(
            {"pipeline": self.pipeline, "config": self.config, "pairs": self.pairs}, sort_keys=True
        )


#: derived figures written as flat keys beside the structured ones (the documented results.json keys)
_FLAT = (
    "detect_ms_p50",
    "detect_ms_p95",
    "embed_ms_p50",
    "embed_ms_p95",
    "align_ms_p50",
    "align_ms_p95",
    "peak_rss_mb",
    "size_mb",
    "gflops",
    "params_m",
    "embed_faces_per_s_best",
    "rank1",
    "rank5",
)


@dataclass(frozen=True)
class Metric:
    """One column of every results table.

    Attributes:
        key: attribute of `PipelineResult` (or a ``tar_at_far:<FAR>`` entry).
        label: column header.
        unit: unit of the shown value (after ``scale``).
        higher_is_better: ``None`` for descriptive columns.
        fmt: format spec of the shown value.
        scale: factor from the stored value to the shown one (100 for a fraction shown in %).
    """

    key: str
    label: str
    unit: str = ""
    higher_is_better: bool | None = None
    fmt: str = ".4g"
    scale: float = 1.0
    summary: bool = True  # shown in the README table (every column is in the CSV and HTML)
    optional: bool = (
        False  # left out of the tables where no run has a value (rank-k without --identification)
    )

    def value(self, run: PipelineResult) -> Any:
        if self.key.startswith("tar_at_far:"):
            return run.tar_at_far.get(self.key.split(":", 1)[1])
        if self.key.startswith("failures."):
            return getattr(run.failures, self.key.split(".", 1)[1])
        return getattr(run, self.key)

    def text(self, run: PipelineResult) -> str:
        value = self.value(run)
        if value is None:
            return "n/a"
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int) and self.scale == 1.0:
            return format(value, self.fmt if self.fmt.endswith("d") else "d")
        return format(value * self.scale, self.fmt)

    @property
    def header(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


METRICS: tuple[Metric, ...] = (
    Metric("pipeline", "pipeline", fmt="s"),
    Metric("accuracy_mean", "accuracy", "%", True, ".2f", 100.0),
    Metric("accuracy_std", "± std", "%", None, ".2f", 100.0),
    Metric("ci_low", "95% CI low", "%", True, ".2f", 100.0),
    Metric("ci_high", "95% CI high", "%", True, ".2f", 100.0),
    Metric("auc", "AUC", "", True, ".4f"),
    Metric("eer", "EER", "%", False, ".2f", 100.0),
    Metric("tar_at_far:0.01", "TAR@FAR=1e-2", "", True, ".4f", summary=False),
    Metric("tar_at_far:0.001", "TAR@FAR=1e-3", "", True, ".4f"),
    Metric("tar_at_far:0.0001", "TAR@FAR=1e-4", "", True, ".4f", summary=False),
    Metric("rank1", "rank-1", "%", True, ".2f", 100.0, optional=True),
    Metric("rank5", "rank-5", "%", True, ".2f", 100.0, optional=True),
    Metric("success_rate", "face found", "%", True, ".2f", 100.0),
    Metric("failures.no_face", "no face", "images", False, "d", summary=False),
    Metric("failures.unreadable", "unreadable", "images", False, "d", summary=False),
    Metric("failures.align_failed", "align failed", "images", False, "d", summary=False),
    Metric("failures.error", "errors", "images", False, "d", summary=False),
    Metric("detect_ms_p50", "detect p50", "ms", False, ".3g"),
    Metric("detect_ms_p95", "detect p95", "ms", False, ".3g", summary=False),
    Metric("align_ms_p50", "align p50", "ms", False, ".3g", summary=False),
    Metric("embed_ms_p50", "embed p50", "ms/face", False, ".3g"),
    Metric("embed_ms_p95", "embed p95", "ms/face", False, ".3g", summary=False),
    Metric("total_ms_p50", "detect+align+embed p50", "ms", False, ".3g", summary=False),
    Metric("images_per_s", "throughput", "images/s", True, ".1f", summary=False),
    Metric("embed_faces_per_s_best", "embed best batch", "faces/s", True, ".0f", summary=False),
    Metric("peak_rss_mb", "peak RSS", "MB", False, ".0f"),
    Metric("size_mb", "size", "MB", False, ".3g"),
    Metric("params_m", "params", "M", False, ".3g", summary=False),
    Metric("gflops", "GFLOPs", "", False, ".3g"),
)


@dataclass(frozen=True)
class Comparison:
    """An exact McNemar test of two pipelines on the same pairs."""

    first: str
    second: str
    only_first_correct: int
    only_second_correct: int
    p_value: float


@dataclass(frozen=True)
class SkippedPipeline:
    pipeline: str
    reason: str


@dataclass(frozen=True)
class ImageFailure:
    """An image a pipeline could not use for a reason other than "no face": named, with the cause."""

    image: str
    cause: str  # "unreadable" or "error"
    reason: str


def compare(runs: tuple[PipelineResult, ...]) -> tuple[Comparison, ...]:
    """Pairwise exact McNemar tests between runs scored on the same pairs of the same dataset."""
    from facebench.metrics.significance import mcnemar_exact

    comparisons = []
    for a, b in combinations(sorted(runs, key=lambda r: r.pipeline), 2):
        if a.dataset != b.dataset or a.pairs != b.pairs or a.pipeline == b.pipeline:
            continue
        only_a, only_b, p_value = mcnemar_exact(a.correct, b.correct)
        comparisons.append(Comparison(a.pipeline, b.pipeline, only_a, only_b, p_value))
    return tuple(comparisons)


@dataclass(frozen=True)
class BenchmarkResult:
    """A benchmark run: its pipelines, their paired comparisons, the environment, skips and failures."""

    runs: tuple[PipelineResult, ...]
    comparisons: tuple[Comparison, ...]
    environment: dict[str, Any]
    skipped: tuple[SkippedPipeline, ...] = ()
    failures: tuple[ImageFailure, ...] = ()
    out_dir: Path | None = field(default=None, compare=False)

    @property
    def unreadable(self) -> list[dict[str, str]]:
        return [{"image": f.image, "reason": f.reason} for f in self.failures if f.cause == "unreadable"]

    @property
    def errors(self) -> list[dict[str, str]]:
        return [{"image": f.image, "reason": f.reason} for f in self.failures if f.cause == "error"]

    def run(self, pipeline: str) -> PipelineResult:
        for run in self.runs:
            if run.pipeline == pipeline:
                return run
        raise KeyError(f"no pipeline {pipeline!r}; results hold {', '.join(r.pipeline for r in self.runs)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "runs": [run.to_record() for run in self.runs],
            "comparisons": [asdict(c) for c in self.comparisons],
            "environment": self.environment,
            "skipped": [asdict(s) for s in self.skipped],
            "unreadable": self.unreadable,
            "errors": self.errors,
            "failures": [asdict(f) for f in self.failures],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_json(cls, text: str, out_dir: Path | None = None) -> BenchmarkResult:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(
                f"not a {FORMAT} results file (format {data.get('format')!r}); re-run the benchmark to rewrite it"
            )
        return cls(
            tuple(PipelineResult.from_record(r) for r in data["runs"]),
            tuple(Comparison(**c) for c in data["comparisons"]),
            data["environment"],
            tuple(SkippedPipeline(**s) for s in data.get("skipped", [])),
            tuple(ImageFailure(**f) for f in data.get("failures", [])),
            out_dir,
        )

    def merge(self, other: BenchmarkResult) -> BenchmarkResult:
        """This result with ``other``'s runs added; a run of the same experiment is replaced by
        ``other``'s, and the comparisons are recomputed over all runs on the same pairs."""
        replaced = {run.identity for run in other.runs}
        runs = tuple(r for r in self.runs if r.identity not in replaced) + other.runs
        skipped = tuple(dict.fromkeys((*self.skipped, *other.skipped)))
        failures = tuple(dict.fromkeys((*self.failures, *other.failures)))
        return replace(
            self,
            runs=runs,
            comparisons=compare(runs),
            environment=other.environment,
            skipped=skipped,
            failures=failures,
            out_dir=other.out_dir or self.out_dir,
        )

    def to_dataframe(self) -> Any:
        """One row per pipeline, one column per metric (needs pandas: ``pip install "facebench[report]"``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ImportError('to_dataframe needs pandas: pip install "facebench[report]"') from None
        return pd.DataFrame(flat_rows(self.runs))


def flat_rows(runs: tuple[PipelineResult, ...]) -> list[dict[str, Any]]:
    """Every metric of every run as plain values, keyed by `Metric.key` (results.csv, data frames)."""
    rows = []
    for run in runs:
        row: dict[str, Any] = {
            metric.key: metric.value(run) for metric in METRICS if not metric.key.startswith("tar_at_far:")
        }
        row.update(
            dataset=run.dataset,
            detector=run.detector,
            align=run.align,
            recognizer=run.recognizer,
            engine=run.engine,
            flip=run.flip,
            degrade=run.degrade,
            restore=run.restore,
            no_face_policy=run.no_face_policy,
            rescued_pairs=run.rescued_pairs,
            pairs=run.pairs,
            detect_latency_source=run.detect_latency.source,
            embed_latency_source=run.embed_latency.source,
            embed_batch=run.embed_latency.batch,
        )
        for far, tar in run.tar_at_far.items():
            row[f"tar_at_far_{far}"] = tar
        rows.append(row)
    return rows


def load_results(folder: str | Path) -> BenchmarkResult:
    """The `BenchmarkResult` a benchmark wrote into ``folder`` (its ``results.json``)."""
    path = Path(folder) / "results.json"
    if not path.is_file():
        from facebench.errors import FacebenchError

        raise FacebenchError(f"{path}: no results here (run `facebench benchmark --out {folder}` first)")
    return BenchmarkResult.from_json(path.read_text(), Path(folder))
