"""Every results table (README.md, results.csv, report.html) rendered from one column spec, `METRICS`."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import numpy as np

from facebench.atomic import atomic_open
from facebench.bench.results import METRICS, BenchmarkResult, Metric, PipelineResult, flat_rows
from facebench.datasets.lfw import VerificationPairs

__all__ = ["html_table", "markdown_report", "read_scores", "scores_file", "write_csv", "write_scores"]


def scores_file(out_dir: Path, pipeline_name: str) -> Path:
    """``OUT/scores/<pipeline>.csv``, with a checkpoint path's separators made filename-safe."""
    return out_dir / "scores" / f"{re.sub(r'[^A-Za-z0-9_.+=@-]', '_', pipeline_name)}.csv"


def write_scores(path: Path, run: PipelineResult, pairs: VerificationPairs) -> None:
    """One row per pair: both image paths, the fold, the label, the score, the fold's threshold
    (chosen on the other folds) and the decision it gives (``same``/``different``), and whether
    that decision is right. A pair without a score (a face is missing) is decided ``different``."""
    assert run.scores is not None
    folds = np.unique(pairs.fold).tolist()
    threshold_of = dict(zip(folds, run.fold_thresholds, strict=False)) if run.fold_thresholds else {}
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["pair", "fold", "path1", "path2", "label", "score", "threshold", "decision", "correct"]
        )
        for index, (first, second, fold, same, value) in enumerate(
            zip(pairs.first, pairs.second, pairs.fold, pairs.is_same, run.scores, strict=True)
        ):
            threshold = threshold_of.get(int(fold))
            decided = None if threshold is None else bool(not np.isnan(value) and value >= threshold)
            writer.writerow(
                [
                    index,
                    int(fold),
                    str(first),
                    str(second),
                    int(same),
                    "" if np.isnan(value) else f"{value:.6f}",
                    "" if threshold is None else f"{threshold:.6f}",
                    "" if decided is None else ("same" if decided else "different"),
                    "" if decided is None else int(decided == bool(same)),
                ]
            )


def read_scores(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(scores, is_same) from a scores/<pipeline>.csv file (empty score means no face: NaN)."""
    from facebench.report.analysis import read_pair_scores

    pairs = read_pair_scores(path)
    return pairs.scores, pairs.is_same


def write_csv(result: BenchmarkResult, path: Path) -> None:
    rows = flat_rows(result.runs)
    if not rows:
        return
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)


def _latency_note(result: BenchmarkResult) -> str:
    sources = sorted(
        {run.detect_latency.source for run in result.runs} | {r.embed_latency.source for r in result.runs}
    )
    batches = sorted({run.embed_latency.batch for run in result.runs})
    return (
        f"Latencies: per image (detect) and per face (embed, in batches of {', '.join(map(str, batches))}), "
        f"{'; '.join(sources)} in this environment (fingerprint {result.environment.get('fingerprint', '?')})."
    )


def columns_for(runs: tuple[PipelineResult, ...], summary: bool = False) -> list[Metric]:
    """The `METRICS` a table of ``runs`` shows: optional ones (rank-k) only where a run has a value."""
    return [
        m
        for m in METRICS
        if (m.summary or not summary) and not (m.optional and all(m.value(run) is None for run in runs))
    ]


def markdown_report(result: BenchmarkResult) -> str:
    """The README.md of a benchmark folder: the summary columns of `METRICS`, skips, tests, failures."""
    env = result.environment
    columns = columns_for(result.runs, summary=True)
    lines = [
        "# facebench benchmark",
        "",
        f"Machine: {env.get('cpu')}, {env.get('cores')} cores, threads={env.get('threads')}.",
        "",
        "| " + " | ".join(m.header for m in columns) + " |",
        "|" + "|".join("---" if m.key == "pipeline" else "---:" for m in columns) + "|",
    ]
    for run in sorted(result.runs, key=lambda r: -r.accuracy_mean):
        lines.append("| " + " | ".join(m.text(run) for m in columns) + " |")
    for skip in result.skipped:
        lines.append(f"| {skip.pipeline} | skipped: {skip.reason} |" + " |" * (len(columns) - 2))
    lines += ["", _latency_note(result)] if result.runs else []
    failing = [r for r in result.runs if r.failures.total]
    if failing:
        lines += ["", "Images without an embedding, by cause:"]
        for run in failing:
            f = run.failures
            lines.append(
                f"- {run.pipeline}: {f.no_face} no face, {f.align_failed} alignment failed, "
                f"{f.unreadable} unreadable, {f.error} errors"
            )
    policies = [r for r in result.runs if r.no_face_policy != "fail"]
    if policies:
        lines += ["", "No-face policies (images the detector found no face in, and the pairs they touched):"]
        for run in policies:
            by_source = ", ".join(
                f"{count} by {source}" for source, count in sorted(run.rescued_images.items())
            )
            rescued = sum(run.rescued_images.values())
            lines.append(
                f"- {run.pipeline}: --on-no-face {run.no_face_policy} gave {rescued} image(s) a face"
                f"{f' ({by_source})' if by_source else ''}, touching {run.rescued_pairs} pair(s); "
                f"{run.failures.no_face} image(s) still have none"
            )
    significant = [c for c in result.comparisons if c.p_value < 0.05]
    lines += [
        "",
        f"Pairwise exact McNemar tests: {len(significant)} of {len(result.comparisons)} differ at p < 0.05.",
    ]
    for c in significant:
        lines.append(
            f"- {c.first} vs {c.second}: {c.only_first_correct} vs {c.only_second_correct} discordant pairs, "
            f"p = {c.p_value:.2g}"
        )
    for cause, label in (("unreadable", "could not be read"), ("error", "failed with an unexpected error")):
        listed = [f for f in result.failures if f.cause == cause]
        if listed:
            lines += ["", f"{len(listed)} image(s) {label} (counted as missed faces; listed in errors.csv):"]
            lines += [f"- {f.image}: {f.reason}" for f in listed[:50]]
            if len(listed) > 50:
                lines.append(f"- … and {len(listed) - 50} more in errors.csv")
    return "\n".join(lines) + "\n"


def html_table(runs: tuple[PipelineResult, ...], table_id: str = "pipelines") -> str:
    """Every column of `METRICS`, with units; each cell carries its raw value for sorting."""
    columns = columns_for(runs)
    head = "".join(
        f'<th title="{"higher is better" if m.higher_is_better else "lower is better" if m.higher_is_better is False else ""}">'
        f"{html.escape(m.header)}</th>"
        for m in columns
    )
    rows = []
    for run in runs:
        cells = []
        for metric in columns:
            value = metric.value(run)
            raw = "" if value is None else value
            cells.append(f'<td data-value="{html.escape(str(raw))}">{html.escape(metric.text(run))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
