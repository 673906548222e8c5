"""What a reader decides from: operating points per FAR, one-line recommendations and warnings.

Pure functions of a `BenchmarkResult` and each run's per-pair scores; the HTML report renders them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facebench.bench.results import BenchmarkResult, Comparison, PipelineResult
from facebench.metrics.significance import mcnemar_exact
from facebench.metrics.verification import OperatingPoint, operating_points

__all__ = [
    "OPERATING_FARS",
    "PairScores",
    "Recommendation",
    "accepted_at",
    "read_pair_scores",
    "recommendations",
    "warnings",
]

#: the false-accept rates every report gives an operating point for
OPERATING_FARS: tuple[float, ...] = (1e-1, 1e-2, 1e-3)
#: "fastest within …" and "smallest within …" of the most accurate, in accuracy (fraction)
FAST_MARGIN, SMALL_MARGIN = 0.002, 0.005


@dataclass(frozen=True)
class PairScores:
    """One run's per-pair scores as its scores/<pipeline>.csv holds them (NaN: a face is missing)."""

    scores: np.ndarray
    is_same: np.ndarray
    folds: np.ndarray
    first: tuple[str, ...]
    second: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def impostors(self) -> int:
        return int((~self.is_same).sum())

    @property
    def genuine(self) -> int:
        return int(self.is_same.sum())

    def operating_points(self, fars: tuple[float, ...] = OPERATING_FARS) -> tuple[OperatingPoint, ...]:
        return operating_points(self.scores, self.is_same, self.folds, fars)


def read_pair_scores(path: Path) -> PairScores:
    """A scores file (`facebench.report.tables.write_scores`); a file without paths (older runs)
    gets empty names."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path}: no pairs")
    return PairScores(
        np.array([float(r["score"]) if r["score"] else np.nan for r in rows]),
        np.array([r["label"] == "1" for r in rows]),
        np.array([int(r.get("fold") or 1) for r in rows]),
        tuple(r.get("path1", "") for r in rows),
        tuple(r.get("path2", "") for r in rows),
    )


def accepted_at(pairs: PairScores, point: OperatingPoint) -> np.ndarray:
    """Per pair, whether the held-out threshold of ``point`` accepts it (a missing score never)."""
    scores = np.where(np.isnan(pairs.scores), -np.inf, pairs.scores)
    accepted = np.zeros(len(scores), bool)
    for fold, threshold in zip(np.unique(pairs.folds), point.fold_thresholds, strict=True):
        if threshold is not None:
            test = pairs.folds == fold
            accepted[test] = scores[test] >= threshold
    return accepted


@dataclass(frozen=True)
class Recommendation:
    """The answer to one question a reader asks, with the test that backs it.

    Attributes:
        question: e.g. "most accurate".
        pipeline: the answer (``None``: no pipeline qualifies, ``text`` says why).
        text: one sentence with the figures.
        significant: whether the answer differs significantly from the alternative it is set
            against (``None`` when there is no alternative).
    """

    question: str
    pipeline: str | None
    text: str
    significant: bool | None = None


def _comparison(result: BenchmarkResult, a: str, b: str) -> Comparison | None:
    for c in result.comparisons:
        if {c.first, c.second} == {a, b}:
            return c
    return None


def _versus(result: BenchmarkResult, a: PipelineResult, b: PipelineResult) -> tuple[bool | None, str]:
    found = _comparison(result, a.pipeline, b.pipeline)
    if found is None:
        return None, "not tested (different pairs)"
    significant = found.p_value < 0.05
    return significant, (
        f"{'significant' if significant else 'not significant'} (exact McNemar p = {found.p_value:.2g}, "
        f"{found.only_first_correct} vs {found.only_second_correct} discordant pairs)"
    )


def _cost_text(run: PipelineResult) -> str:
    parts = []
    if run.total_ms_p50 is not None:
        parts.append(f"{run.total_ms_p50:.3g} ms per image (p50)")
    if run.peak_rss_mb is not None:
        parts.append(f"{run.peak_rss_mb:.0f} MB peak memory")
    if run.size_mb is not None:
        parts.append(f"{run.size_mb:.3g} MB of weights")
    if run.gflops is not None:
        parts.append(f"{run.gflops:.3g} GFLOPs")
    return ", ".join(parts) or "cost not measured"


def _by_dataset(result: BenchmarkResult) -> dict[str, list[PipelineResult]]:
    groups: dict[str, list[PipelineResult]] = {}
    for run in result.runs:
        groups.setdefault(run.dataset, []).append(run)
    return groups


def recommendations(
    result: BenchmarkResult, pair_scores: dict[str, PairScores], far: float = 1e-3
) -> list[Recommendation]:
    """Per dataset: the most accurate pipeline, the fastest within `FAST_MARGIN` of it, the smallest
    within `SMALL_MARGIN`, and the one to ship at ``far`` (highest held-out TAR), each saying
    whether its difference from the alternative is significant."""
    out: list[Recommendation] = []
    for dataset, runs in _by_dataset(result).items():
        prefix = f"{dataset}: " if len(_by_dataset(result)) > 1 else ""
        ranked = sorted(runs, key=lambda r: -r.accuracy_mean)
        best = ranked[0]
        if len(ranked) > 1:
            significant, how = _versus(result, best, ranked[1])
            text = (
                f"{best.pipeline} ({100 * best.accuracy_mean:.2f} %); its lead of "
                f"{100 * (best.accuracy_mean - ranked[1].accuracy_mean):.2f} points over {ranked[1].pipeline} "
                f"is {how}."
            )
        else:
            significant, text = (
                None,
                f"{best.pipeline} ({100 * best.accuracy_mean:.2f} %), the only pipeline.",
            )
        out.append(Recommendation(f"{prefix}most accurate", best.pipeline, text, significant))

        for question, margin, key, unit in (
            ("fastest", FAST_MARGIN, "total_ms_p50", "ms per image"),
            ("smallest", SMALL_MARGIN, "size_mb", "MB"),
        ):
            label = f"{prefix}{question} within {100 * margin:.1f} points of the best"
            near = [
                r for r in runs if r.accuracy_mean >= best.accuracy_mean - margin - 1e-12 and getattr(r, key)
            ]
            if not near:
                out.append(Recommendation(label, None, f"no pipeline has a measured {key}."))
                continue
            pick = min(near, key=lambda r: (getattr(r, key), -r.accuracy_mean))
            if pick is best:
                text = f"{best.pipeline} itself ({getattr(best, key):.3g} {unit})."
                out.append(Recommendation(label, pick.pipeline, text, None))
                continue
            significant, how = _versus(result, pick, best)
            text = (
                f"{pick.pipeline}: {getattr(pick, key):.3g} {unit} against {getattr(best, key) or float('nan'):.3g} "
                f"for the best, at {100 * pick.accuracy_mean:.2f} % ("
                f"{100 * (pick.accuracy_mean - best.accuracy_mean):+.2f} points, {how})."
            )
            out.append(Recommendation(label, pick.pipeline, text, significant))

        label = f"{prefix}ship at FAR {far:g}"
        points = {}
        for run in runs:
            if run.pipeline in pair_scores:
                (point,) = pair_scores[run.pipeline].operating_points((far,))
                if point.measurable:
                    points[run.pipeline] = point
        if not points:
            impostors = max((p.impostors for p in pair_scores.values()), default=0)
            out.append(
                Recommendation(
                    label,
                    None,
                    f"not measurable: a FAR of {far:g} needs at least {int(np.ceil(1 / far))} impostor pairs "
                    f"in the folds a threshold is chosen on (these runs have {impostors} in all).",
                )
            )
            continue
        order = sorted(points, key=lambda name: (-(points[name].tar or 0.0), name))
        chosen = next(r for r in runs if r.pipeline == order[0])
        point = points[chosen.pipeline]
        text = (
            f"{chosen.pipeline}: threshold {point.threshold:.4f} (chosen on the other folds) accepts "
            f"{100 * (point.tar or 0):.2f} % of genuine pairs at a held-out FAR of {point.far:.2g} "
            f"({point.false_accepts} of {point.impostors} impostors); it costs {_cost_text(chosen)}."
        )
        significant = None
        if len(order) > 1:
            runner = order[1]
            genuine = pair_scores[chosen.pipeline].is_same
            mine = accepted_at(pair_scores[chosen.pipeline], point)[genuine]
            theirs = accepted_at(pair_scores[runner], points[runner])[genuine]
            if len(mine) == len(theirs):
                only_mine, only_theirs, p = mcnemar_exact(mine, theirs)
                significant = p < 0.05
                text += (
                    f" Against {runner} ({100 * (points[runner].tar or 0):.2f} %) the difference in genuine pairs "
                    f"accepted is {'significant' if significant else 'not significant'} (exact McNemar "
                    f"p = {p:.2g}, {only_mine} vs {only_theirs})."
                )
        out.append(Recommendation(label, chosen.pipeline, text, significant))
    return out


def warnings(result: BenchmarkResult, pair_scores: dict[str, PairScores]) -> list[str]:
    """What makes the numbers weaker than they look: a single fold, too few pairs to separate the
    pipelines, latencies not measured here, unexpected errors, rescued faces."""
    out: list[str] = []
    for dataset, runs in _by_dataset(result).items():
        single = [r.pipeline for r in runs if len(r.fold_accuracy) <= 1]
        if single:
            out.append(
                f"{dataset}: a single fold was used by {', '.join(single)}: each threshold was chosen on the "
                "very pairs it was tested on, so accuracy is optimistic (use several folds)."
            )
        pairs = max(r.pairs for r in runs)
        if len(runs) > 1:
            names = {r.pipeline for r in runs}
            tests = [c for c in result.comparisons if c.first in names and c.second in names]
            if tests and not any(c.p_value < 0.05 for c in tests):
                out.append(
                    f"{dataset}: no two of the {len(runs)} pipelines differ significantly on these {pairs} pairs "
                    "(exact McNemar, p < 0.05): the pair count is too small to separate them; their ranking "
                    "is not evidence."
                )
            ranked = sorted(runs, key=lambda r: -r.accuracy_mean)
            found = _comparison(result, ranked[0].pipeline, ranked[1].pipeline)
            if found is not None and found.p_value >= 0.05 and any(c.p_value < 0.05 for c in tests):
                out.append(
                    f"{dataset}: the top two, {ranked[0].pipeline} and {ranked[1].pipeline}, cannot be told "
                    f"apart on {pairs} pairs (p = {found.p_value:.2g})."
                )
        impostors = max(
            (pair_scores[r.pipeline].impostors for r in runs if r.pipeline in pair_scores), default=0
        )
        if impostors and impostors * 1e-3 < 1:
            out.append(
                f"{dataset}: {impostors} impostor pairs cannot measure FAR 1e-3 (needs ≥ 1,000); those "
                "operating points and TAR columns are n/a."
            )
    unmeasured = [
        r.pipeline for r in result.runs if "none" in (r.detect_latency.source, r.embed_latency.source)
    ]
    if unmeasured:
        out.append(
            f"latency not measured in this environment for {', '.join(unmeasured)}: their latency columns are n/a."
        )
    errors = [f for f in result.failures if f.cause == "error"]
    if errors:
        out.append(
            f"{len(errors)} image(s) failed with an unexpected error (errors.csv); they count as missed faces."
        )
    rescued = [r.pipeline for r in result.runs if r.rescued_pairs]
    if rescued:
        out.append(
            f"faces supplied by a no-face policy touch pairs of {', '.join(rescued)}; the success rate stays "
            "the detector's own."
        )
    return out
