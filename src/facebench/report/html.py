"""One self-contained, interactive HTML report: plotly.js is inlined, so it works offline, with no CDN."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from facebench.atomic import atomic_write_text
from facebench.bench.results import BenchmarkResult
from facebench.report.charts import pareto_front
from facebench.report.tables import html_table, read_scores, scores_file

__all__ = ["write_html_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f3f3f3; cursor: pointer; }
td:first-child, th:first-child { text-align: left; }
.note { color: #666; font-size: 0.85rem; }
"""

_SORT_SCRIPT = """
document.querySelectorAll('th').forEach(function (header, column) {
  header.addEventListener('click', function () {
    var body = header.closest('table').querySelector('tbody');
    var rows = Array.from(body.rows);
    var ascending = header.dataset.ascending !== 'true';
    header.dataset.ascending = ascending;
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
      var nx = parseFloat(x), ny = parseFloat(y);
      var order = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def write_html_report(result: BenchmarkResult, out_dir: Path) -> Path:
    """``out_dir/report.html`` from a result (its per-pair scores, or the scores/ folder beside it)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    from facebench.metrics.roc import roc_curve

    payload = result.to_dict()
    runs = payload["runs"]
    latency = [float((r["detect_ms_p50"] or 0) + (r["embed_ms_p50"] or 0)) for r in runs]
    accuracy = [100 * r["accuracy_mean"] for r in runs]
    front = pareto_front(latency, accuracy)
    scatter = go.Figure()
    scatter.add_trace(
        go.Scatter(
            x=latency,
            y=accuracy,
            mode="markers",
            text=[r["pipeline"] for r in runs],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [100 * r["accuracy_ci95"][1] - a for r, a in zip(runs, accuracy, strict=True)],
                "arrayminus": [a - 100 * r["accuracy_ci95"][0] for r, a in zip(runs, accuracy, strict=True)],
            },
            hovertemplate="%{text}<br>%{y:.2f}% at %{x:.1f} ms<extra></extra>",
            name="pipelines (95% CI)",
        )
    )
    scatter.add_trace(
        go.Scatter(
            x=[latency[i] for i in front],
            y=[accuracy[i] for i in front],
            mode="lines",
            name="Pareto front",
            line={"dash": "dash"},
        )
    )
    scatter.update_layout(
        title="Accuracy against latency",
        xaxis_title="detect + embed ms (median, batch 1)",
        yaxis_title="accuracy %",
    )

    roc = go.Figure()
    for run in runs:
        scores, same = read_scores(scores_file(out_dir, run["pipeline"]))  # written before the report
        fpr, tpr, _ = roc_curve(scores, same)
        step = max(1, len(fpr) // 600)  # keep the page light: a few hundred points per curve
        roc.add_trace(
            go.Scatter(x=np.maximum(fpr[::step], 1e-5), y=tpr[::step], mode="lines", name=run["pipeline"])
        )
    roc.update_layout(
        title="ROC", xaxis={"type": "log", "title": "false accept rate"}, yaxis_title="true accept rate"
    )

    environment = payload.get("environment", {})
    figures = "".join(
        pio.to_html(figure, include_plotlyjs=(index == 0), full_html=False)
        for index, figure in enumerate((scatter, roc))
    )
    comparisons = [c for c in payload.get("comparisons", []) if c["p_value"] < 0.05]
    comparison_items = "".join(
        f"<li>{html.escape(c['first'])} vs {html.escape(c['second'])}: p = {c['p_value']:.2g}</li>"
        for c in comparisons
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>facebench report</title><style>{_STYLE}</style></head>
<body>
<h1>facebench benchmark</h1>
<p class="note">{html.escape(str(environment.get("cpu", "")))}, {environment.get("cores", "?")} cores,
threads={environment.get("threads", "?")}; {html.escape(json.dumps(environment.get("versions", {})))}</p>
<h2>Pipelines</h2>
<p class="note">Click a column to sort. Accuracy: LFW protocol, threshold chosen on the other folds.</p>
{html_table(result.runs)}
{figures}
<h2>Significant differences (exact McNemar, p &lt; 0.05)</h2>
<ul>{comparison_items or "<li>none</li>"}</ul>
<script>{_SORT_SCRIPT}</script>
</body></html>
"""
    path = out_dir / "report.html"
    atomic_write_text(path, page)
    return path
