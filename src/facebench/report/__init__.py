"""Everything a benchmark folder holds besides its store, written from one `BenchmarkResult`."""

from __future__ import annotations

import csv
from pathlib import Path

from facebench._log import logger
from facebench.atomic import atomic_open, atomic_write_text
from facebench.bench.results import BenchmarkResult
from facebench.datasets.lfw import VerificationPairs
from facebench.extras import has_module
from facebench.report.charts import pareto_front as pareto_front
from facebench.report.charts import write_charts as write_charts
from facebench.report.html import write_html_report as write_html_report
from facebench.report.tables import markdown_report, scores_file, write_csv, write_scores

__all__ = ["pareto_front", "scores_file", "write_all", "write_charts", "write_html_report"]


def write_all(
    result: BenchmarkResult,
    out: Path,
    *,
    pairs: VerificationPairs | None = None,
    examples: bool = False,
    charts: bool = True,
    store_folders: list[Path] | None = None,
) -> list[Path]:
    """Write results.json, results.csv, errors.csv, scores/, README.md, charts/ and report.html.

    ``pairs`` (the pairs the runs were scored on) lets per-pair scores be written; a run whose
    scores are not in memory (loaded from results.json) keeps its scores file. With
    ``examples``, aligned example sheets of the first readable images (faces from the run's
    store) go to aligned_examples/. ``store_folders``: the benchmark folders whose stores hold the
    faces the report's error analysis shows (default: the result's own folder).
    """
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.json", out / "errors.csv", out / "README.md"]
    if pairs is not None:
        for run in result.runs:
            if run.scores is not None and len(run.scores) == len(pairs):
                path = scores_file(out, run.pipeline)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_scores(path, run, pairs)
                written.append(path)
    atomic_write_text(out / "results.json", result.to_json())
    with atomic_open(out / "errors.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "cause", "reason"])
        writer.writerows([f.image, f.cause, f.reason] for f in result.failures)
    if result.runs:
        write_csv(result, out / "results.csv")
        written.append(out / "results.csv")
    atomic_write_text(out / "README.md", markdown_report(result))
    have_scores = [r for r in result.runs if scores_file(out, r.pipeline).is_file()]
    missing = [module for module in ("matplotlib", "plotly") if not has_module(module)]
    if charts and missing:
        # the core install writes every number; the pictures are the report extra's
        logger.warning(
            'charts and report.html need %s: pip install "facebench[report]" (results.json, results.csv '
            "and README.md are written)",
            " and ".join(missing),
        )
    elif charts and have_scores and len(have_scores) == len(result.runs):
        records = [run.to_record() for run in result.runs]
        written += write_charts(records, out)
        written.append(write_html_report(result, out, store_folders))
    if examples and pairs is not None:
        from facebench.report.examples import write_aligned_examples

        written += write_aligned_examples(result, pairs.images, out)
    return written
