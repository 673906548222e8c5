"""One self-contained, offline, interactive HTML report a reader can decide from.

plotly.js is embedded once, gzip-compressed (a third of its size) and unpacked by the browser's
own ``DecompressionStream``, so the page loads nothing from elsewhere. Everything a decision
needs that is not a chart (recommendations, warnings, operating points, the McNemar matrix, the
error analysis, provenance) is plain HTML and reads without JavaScript.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facebench.atomic import atomic_write_text
from facebench.bench.results import BenchmarkResult, Metric, PipelineResult
from facebench.report.analysis import (
    OPERATING_FARS,
    PairScores,
    read_pair_scores,
    recommendations,
    warnings,
)
from facebench.report.evidence import HardPair, PipelineEvidence, Thumbnail, gather_evidence
from facebench.report.tables import columns_for, html_table, scores_file

__all__ = ["EVIDENCE_PIPELINES", "write_html_report"]

#: error analysis (thumbnails) for at most this many pipelines, the most accurate first: it is
#: most of the page's weight
EVIDENCE_PIPELINES = 8
#: the trade-off chart's axes: costs (x, lower is better) and qualities (y)
TRADEOFF_X = ("total_ms_p50", "detect_ms_p50", "embed_ms_p50", "size_mb", "gflops", "peak_rss_mb", "params_m")
TRADEOFF_Y = (
    "accuracy_mean",
    "tar_at_far:0.001",
    "tar_at_far:0.01",
    "tar_at_far:0.0001",
    "eer",
    "auc",
    "rank1",
    "success_rate",
)
CURVE_POINTS = 300

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1400px; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f3f3f3; }
#pipelines th { cursor: pointer; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: 0.85rem; }
.decide li { margin: 0.3rem 0; }
.sig { color: #1a7f37; font-weight: 600; } .nosig { color: #9a6700; font-weight: 600; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; padding: 0.5rem 1rem; }
.better { background: #dafbe1; } .worse { background: #ffebe9; }
.pair { display: inline-block; border: 1px solid #ccc; margin: 0.25rem; padding: 0.25rem; font-size: 0.75rem;
  width: 210px; vertical-align: top; }
.pair img, .noface img { width: 96px; height: 96px; object-fit: contain; background: #eee; }
.error { border: 2px solid #cf222e; }
.scroll { overflow-x: auto; }
select, input { font-size: 0.9rem; margin: 0 0.5rem 0.5rem 0; }
"""

_SCRIPT = r"""
const DATA = JSON.parse(document.getElementById('report-data').textContent);
const METRIC = Object.fromEntries(DATA.metrics.map(m => [m.key, m]));
const label = k => METRIC[k].unit ? `${METRIC[k].label} (${METRIC[k].unit})` : METRIC[k].label;

function sortable(table) {
  table.querySelectorAll('th').forEach(function (header, column) {
    header.addEventListener('click', function () {
      const body = table.querySelector('tbody');
      const rows = Array.from(body.rows);
      const ascending = header.dataset.ascending !== 'true';
      header.dataset.ascending = ascending;
      rows.sort(function (a, b) {
        const x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
        const nx = parseFloat(x), ny = parseFloat(y);
        if (isNaN(nx) && isNaN(ny)) return ascending ? x.localeCompare(y) : y.localeCompare(x);
        if (isNaN(nx)) return 1;   // n/a last, either way
        if (isNaN(ny)) return -1;
        return ascending ? nx - ny : ny - nx;
      });
      rows.forEach(row => body.appendChild(row));
    });
  });
}

function filterRows() {
  const needle = document.getElementById('filter').value.toLowerCase();
  document.querySelectorAll('#pipelines tbody tr').forEach(row => {
    row.style.display = row.textContent.toLowerCase().includes(needle) ? '' : 'none';
  });
}

function fillSelect(id, keys) {
  const select = document.getElementById(id);
  keys.forEach(k => { const o = document.createElement('option'); o.value = k; o.textContent = label(k); select.appendChild(o); });
}

function drawTradeoff() {
  const xk = document.getElementById('x-axis').value, yk = document.getElementById('y-axis').value;
  const runs = DATA.runs.filter(r => r.values[xk] !== null && r.values[yk] !== null);
  const x = runs.map(r => r.values[xk]), y = runs.map(r => r.values[yk]);
  const sign = METRIC[yk].higher === false ? -1 : 1;
  const order = runs.map((_, i) => i).sort((a, b) => (x[a] - x[b]) || sign * (y[b] - y[a]));
  const front = []; let best = -Infinity;
  for (const i of order) { if (sign * y[i] > best) { front.push(i); best = sign * y[i]; } }
  const points = {x: x, y: y, text: runs.map(r => r.pipeline), mode: 'markers+text', type: 'scatter',
    // labels point inwards, so the rightmost pipeline's name is not cut off by the plot's edge
    textposition: x.map(v => v > (Math.min(...x) + Math.max(...x)) / 2 ? 'top left' : 'top right'),
    textfont: {size: 9}, name: 'pipelines',
    hovertemplate: '%{text}<br>' + label(yk) + ': %{y}<br>' + label(xk) + ': %{x}<extra></extra>'};
  if (yk === 'accuracy_mean') {
    points.error_y = {type: 'data', symmetric: false, array: runs.map(r => r.ci[1] - r.values[yk]),
      arrayminus: runs.map(r => r.values[yk] - r.ci[0])};
    points.name = 'pipelines (95% CI)';
  }
  const line = {x: front.map(i => x[i]), y: front.map(i => y[i]), mode: 'lines+markers', type: 'scatter',
    marker: {symbol: 'circle-open', size: 12},
    name: 'Pareto front', line: {dash: 'dash', color: '#cf222e'}};
  const missing = DATA.runs.length - runs.length;
  Plotly.react('tradeoff', [points, line], {title: {text: label(yk) + ' against ' + label(xk) +
      (missing ? ` (${missing} pipeline(s) without both values left out)` : '')},
    xaxis: {title: {text: label(xk) + ' — lower is better'}},
    yaxis: {title: {text: label(yk) + (METRIC[yk].higher === false ? ' — lower is better' : ' — higher is better')}},
    height: 520, margin: {t: 50}});
}

function drawBars() {
  const k = document.getElementById('metric').value;
  const have = DATA.runs.filter(r => r.values[k] !== null);
  const sign = METRIC[k].higher === false ? 1 : -1;
  have.sort((a, b) => sign * (a.values[k] - b.values[k]));
  const none = DATA.runs.filter(r => r.values[k] === null).map(r => r.pipeline);
  Plotly.react('bars', [{type: 'bar', orientation: 'h', y: have.map(r => r.pipeline), x: have.map(r => r.values[k]),
      text: have.map(r => r.text[k]), textposition: 'auto', hovertemplate: '%{y}: %{text}<extra></extra>'}],
    {title: {text: label(k) + (METRIC[k].higher === null ? '' : METRIC[k].higher ? ' (higher is better; best on top)' : ' (lower is better; best on top)')},
     yaxis: {autorange: 'reversed', automargin: true}, height: 160 + 26 * have.length, margin: {t: 50}});
  document.getElementById('bars-missing').textContent = none.length ? 'n/a for: ' + none.join(', ') : '';
}

function drawCurves() {
  const curves = DATA.curves;
  if (!curves.length) return;
  const low = Math.max(...curves.map(c => c.min_far));
  const roc = curves.map(c => ({x: c.far, y: c.tar, mode: 'lines', type: 'scatter', name: c.pipeline}));
  Plotly.newPlot('roc', roc, {title: {text: 'ROC over the measurable FAR range'},
    xaxis: {type: 'log', range: [Math.log10(low), 0], title: {text: 'false accept rate'}},
    yaxis: {title: {text: 'true accept rate'}}, height: 480});
  const det = curves.map(c => ({x: c.det_far, y: c.det_frr, mode: 'lines', type: 'scatter', name: c.pipeline}));
  Plotly.newPlot('det', det, {title: {text: 'DET over the measurable range'},
    xaxis: {type: 'log', range: [Math.log10(low), 0], title: {text: 'false accept rate'}},
    yaxis: {type: 'log', title: {text: 'false reject rate'}}, height: 480});
}

function showEvidence() {
  const chosen = document.getElementById('evidence-pipeline').value;
  document.querySelectorAll('.evidence').forEach(e => { e.style.display = e.dataset.pipeline === chosen ? '' : 'none'; });
}

async function loadPlotly() {
  const packed = document.getElementById('plotly-gz').textContent.trim();
  const bytes = Uint8Array.from(atob(packed), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const script = document.createElement('script');
  script.textContent = await new Response(stream).text();
  document.head.appendChild(script);
}

sortable(document.getElementById('pipelines'));
document.getElementById('filter').addEventListener('input', filterRows);
const evidence = document.getElementById('evidence-pipeline');
if (evidence) { evidence.addEventListener('change', showEvidence); showEvidence(); }
fillSelect('x-axis', DATA.x_axes); fillSelect('y-axis', DATA.y_axes); fillSelect('metric', DATA.bar_metrics);
loadPlotly().then(function () {
  drawTradeoff(); drawBars(); drawCurves();
  ['x-axis', 'y-axis'].forEach(id => document.getElementById(id).addEventListener('change', drawTradeoff));
  document.getElementById('metric').addEventListener('change', drawBars);
  document.body.dataset.charts = 'ready';
}).catch(function (error) {
  document.getElementById('charts-status').textContent = 'The charts could not be drawn in this browser: ' + error;
});
"""


@functools.cache
def _packed_plotly() -> str:
    """plotly.min.js, gzip-compressed and base64-encoded (base64 holds no ``<``, so it is safe
    inside a script element)."""
    from importlib.resources import files

    source = files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    return base64.b64encode(gzip.compress(source, 9, mtime=0)).decode()


def _metric_entry(metric: Metric) -> dict[str, Any]:
    return {"key": metric.key, "label": metric.label, "unit": metric.unit, "higher": metric.higher_is_better}


def _shown(metric: Metric, run: PipelineResult) -> float | None:
    value = metric.value(run)
    if value is None or isinstance(value, str):
        return None
    return round(float(value) * metric.scale, 6)


def _curve(run: PipelineResult, pairs: PairScores) -> dict[str, Any]:
    """ROC and DET points at FAR ≥ 1/impostors (below that the impostors cannot measure a rate),
    thinned to about `CURVE_POINTS` on a log grid."""
    from facebench.metrics.roc import roc_curve

    fpr, tpr, _ = roc_curve(pairs.scores, pairs.is_same)
    min_far = 1.0 / max(pairs.impostors, 1)
    grid = np.logspace(np.log10(min_far), 0, CURVE_POINTS)
    keep = np.unique(np.clip(np.searchsorted(fpr, grid, side="right") - 1, 0, len(fpr) - 1))
    keep = keep[fpr[keep] >= min_far - 1e-15]
    frr = 1.0 - tpr[keep]
    det = frr > 0  # a false-reject rate of 0 has no place on a log axis
    return {
        "pipeline": run.pipeline,
        "min_far": min_far,
        "impostors": pairs.impostors,
        "far": fpr[keep].round(8).tolist(),
        "tar": tpr[keep].round(6).tolist(),
        "det_far": fpr[keep][det].round(8).tolist(),
        "det_frr": frr[det].round(6).tolist(),
    }


def _page_data(result: BenchmarkResult, pair_scores: dict[str, PairScores]) -> dict[str, Any]:
    columns = [m for m in columns_for(result.runs) if m.key != "pipeline"]
    keys = {m.key for m in columns}
    numeric = [m for m in columns if any(_shown(m, r) is not None for r in result.runs)]
    return {
        "metrics": [_metric_entry(m) for m in columns],
        "runs": [
            {
                "pipeline": run.pipeline,
                "dataset": run.dataset,
                "values": {m.key: _shown(m, run) for m in columns},
                "text": {m.key: m.text(run) for m in columns},
                "ci": [round(100 * run.ci_low, 4), round(100 * run.ci_high, 4)],
            }
            for run in result.runs
        ],
        "x_axes": [k for k in TRADEOFF_X if k in keys and k in {m.key for m in numeric}],
        "y_axes": [k for k in TRADEOFF_Y if k in keys and k in {m.key for m in numeric}],
        "bar_metrics": [m.key for m in numeric],
        "curves": [
            _curve(run, pair_scores[run.pipeline]) for run in result.runs if run.pipeline in pair_scores
        ],
    }


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _decide_section(result: BenchmarkResult, pair_scores: dict[str, PairScores]) -> str:
    items = []
    for item in recommendations(result, pair_scores):
        badge = ""
        if item.significant is True:
            badge = ' <span class="sig">significant</span>'
        elif item.significant is False:
            badge = ' <span class="nosig">not significant</span>'
        items.append(f"<li><b>{_esc(item.question)}</b>: {_esc(item.text)}{badge}</li>")
    cautions = warnings(result, pair_scores)
    caution = (
        '<div class="warn" id="warnings"><b>Read with care</b><ul>'
        + "".join(f"<li>{_esc(w)}</li>" for w in cautions)
        + "</ul></div>"
        if cautions
        else '<p class="note" id="warnings">No warnings: several folds, pipelines separated by the paired tests, '
        "latencies measured in this environment.</p>"
    )
    return f'<h2>What to ship</h2><ul class="decide" id="recommendations">{"".join(items)}</ul>{caution}'


def _operating_points_section(result: BenchmarkResult, pair_scores: dict[str, PairScores]) -> str:
    head = "".join(
        f"<th>threshold @ {far:g}</th><th>TAR @ {far:g}</th><th>held-out FAR</th>" for far in OPERATING_FARS
    )
    rows = []
    for run in sorted(result.runs, key=lambda r: -r.accuracy_mean):
        if run.pipeline not in pair_scores:
            continue
        cells = [f"<td>{_esc(run.pipeline)}</td>"]
        for point in pair_scores[run.pipeline].operating_points():
            if point.measurable and point.threshold is not None:
                cells += [
                    f"<td>{point.threshold:.4f}</td>",
                    f"<td>{100 * (point.tar or 0):.2f} %</td>",
                    f'<td title="{point.false_accepts} of {point.impostors} impostor pairs">{point.far:.2g}</td>',
                ]
            else:
                needed = int(np.ceil(1 / point.target_far))
                cells.append(
                    f'<td colspan="3" title="needs at least {needed} impostor pairs in the folds a threshold is '
                    f'chosen on">not measurable</td>'
                )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table_section(
        "Operating points",
        "For each target false-accept rate, the threshold is chosen on the other folds (the lowest that "
        "keeps their FAR at or below the target) and applied to the held-out fold; TAR and FAR are those of "
        "the held-out folds pooled, what a deployment with that threshold would see. The threshold shown "
        "is the mean over folds.",
        "operating-points",
        head,
        rows,
    )


def _table_section(title: str, note: str, table_id: str, head: str, rows: list[str]) -> str:
    """A headed section: an explanation, then a scrollable table whose first column is the pipeline."""
    return (
        f'<h2>{title}</h2><p class="note">{note}</p>'
        f'<div class="scroll"><table id="{table_id}"><thead><tr><th>pipeline</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _mcnemar_section(result: BenchmarkResult) -> str:
    runs = sorted(result.runs, key=lambda r: -r.accuracy_mean)
    lookup = {(c.first, c.second): c for c in result.comparisons}
    head = "".join(f'<th title="{_esc(r.pipeline)}">{index + 1}</th>' for index, r in enumerate(runs))
    rows = []
    for index, row in enumerate(runs):
        cells = [f"<td>{index + 1}. {_esc(row.pipeline)}</td>"]
        for column in runs:
            if column is row:
                cells.append("<td>—</td>")
                continue
            c = lookup.get((row.pipeline, column.pipeline)) or lookup.get((column.pipeline, row.pipeline))
            if c is None:
                cells.append('<td title="scored on different pairs">n/a</td>')
                continue
            mine, theirs = (
                (c.only_first_correct, c.only_second_correct)
                if c.first == row.pipeline
                else (c.only_second_correct, c.only_first_correct)
            )
            style = ("better" if mine > theirs else "worse") if c.p_value < 0.05 else ""
            cells.append(
                f'<td class="{style}" title="{mine} pairs only {_esc(row.pipeline)} decided right, {theirs} only '
                f'{_esc(column.pipeline)}">p={c.p_value:.2g}<br>{mine}/{theirs}</td>'
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table_section(
        "Paired tests",
        "Exact McNemar test of each pair of pipelines on the same pairs (row vs column): p-value, then the "
        "discordant pairs only the row / only the column decided right. Green: the row is significantly "
        "better (p &lt; 0.05); red: significantly worse.",
        "mcnemar",
        head,
        rows,
    )


def _thumb(image: Thumbnail) -> str:
    if not image.uri:
        return f'<div title="{_esc(image.note)}">{_esc(image.name)}<br>({_esc(image.note)})</div>'
    return f'<img src="{image.uri}" alt="{_esc(image.name)}" title="{_esc(image.name)}: {_esc(image.note)}">'


def _pair_card(pair: HardPair) -> str:
    verdict = ""
    if pair.threshold is not None and pair.score is not None:
        relation = "≥" if pair.score >= pair.threshold else "<"
        outcome = ("false accept" if not pair.same else "false reject") if pair.error else "right"
        verdict = f"score {pair.score:.3f} {relation} threshold {pair.threshold:.3f}: {outcome}"
    names = f"{_esc(pair.first.name)}<br>{_esc(pair.second.name)}"
    return (
        f'<div class="pair{" error" if pair.error else ""}">{_thumb(pair.first)}{_thumb(pair.second)}'
        f"<br>pair {pair.index}: {verdict}<br>{names}</div>"
    )


def _evidence_section(items: Sequence[PipelineEvidence], total: int) -> str:
    if not items:
        return "<h2>Error analysis</h2><p class='note'>No per-pair scores: nothing to show.</p>"
    options = "".join(f'<option value="{_esc(e.pipeline)}">{_esc(e.pipeline)}</option>' for e in items)
    blocks = []
    for e in items:
        no_face = (
            "".join(f'<span class="noface">{_thumb(t)}</span>' for t in e.no_face)
            + (
                f" … {e.no_face_total - len(e.no_face)} more in errors.csv"
                if e.no_face_total > len(e.no_face)
                else ""
            )
            if e.no_face
            else "none"
        )
        blocks.append(
            f'<div class="evidence" data-pipeline="{_esc(e.pipeline)}">'
            f"<h3>Highest-scoring different-person pairs ({e.false_accepts} false accepts at the fold thresholds)</h3>"
            + "".join(_pair_card(p) for p in e.impostors)
            + f"<h3>Lowest-scoring same-person pairs ({e.false_rejects} false rejects, pairs without a face included)</h3>"
            + "".join(_pair_card(p) for p in e.genuine)
            + f"<h3>Images with no face found ({e.no_face_total})</h3>{no_face}</div>"
        )
    more = (
        f" Shown for the {len(items)} most accurate of {total} pipelines; merge fewer runs with `facebench report` for the others."
        if total > len(items)
        else ""
    )
    return (
        "<h2>Error analysis</h2>"
        '<p class="note">Aligned as the recognizer saw them (the face each image kept in the benchmark\'s store); '
        f"errors framed in red; file names under each pair.{_esc(more)}</p>"
        f'<label>pipeline <select id="evidence-pipeline">{options}</select></label>{"".join(blocks)}'
    )


def _provenance_section(result: BenchmarkResult) -> str:
    env = result.environment
    versions = ", ".join(f"{k} {v}" for k, v in sorted(env.get("versions", {}).items()))
    facts = [
        ("machine", f"{env.get('cpu', '?')}, {env.get('cores', '?')} cores, {env.get('platform', '')}"),
        ("threads", env.get("threads", "?")),
        ("libraries", f"Python {env.get('python', '?')}; {versions}"),
        (
            "facebench",
            f"{env.get('facebench', '?')} at commit {env.get('commit') or 'unknown (not a git checkout)'}",
        ),
        ("written", env.get("run_at", "?")),
        ("environment fingerprint", env.get("fingerprint", "?")),
    ]
    rows = []
    for run in result.runs:
        for stage, latency in (("detect", run.detect_latency), ("embed", run.embed_latency)):
            here = latency.environment == env.get("fingerprint")
            rows.append(
                f"<tr><td>{_esc(run.pipeline)}</td><td>{stage}</td><td>{_esc(latency.source)}</td>"
                f"<td>{latency.samples}</td><td>{latency.batch}</td><td>{_esc(latency.measured_at or 'n/a')}</td>"
                f"<td>{_esc(latency.environment or 'n/a')}{'' if here or not latency.environment else ' (another environment)'}</td></tr>"
            )
    return (
        "<h2>Environment and provenance</h2><table id='environment'>"
        + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
        + "</table><h3>Where each latency comes from</h3><div class='scroll'><table id='latency-provenance'>"
        "<thead><tr><th>pipeline</th><th>stage</th><th>source</th><th>samples</th><th>batch</th>"
        "<th>measured (UTC)</th><th>environment</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def write_html_report(
    result: BenchmarkResult,
    out_dir: Path,
    store_folders: Sequence[Path] | None = None,
    worst: int = 4,
) -> Path:
    """``out_dir/report.html`` from a result and the scores/ folder beside it.

    ``store_folders`` are the benchmark folders whose stores hold the runs' faces (default: the
    result's own); ``worst`` is how many pairs of each kind the error analysis shows.
    """
    pair_scores = {
        run.pipeline: read_pair_scores(scores_file(out_dir, run.pipeline))
        for run in result.runs
        if scores_file(out_dir, run.pipeline).is_file()
    }
    folders = (
        list(store_folders) if store_folders is not None else [p for p in (result.out_dir,) if p is not None]
    )
    chosen = [r for r in sorted(result.runs, key=lambda r: -r.accuracy_mean) if r.pipeline in pair_scores]
    evidence = [
        gather_evidence(run, pair_scores[run.pipeline], folders, worst) for run in chosen[:EVIDENCE_PIPELINES]
    ]
    data = json.dumps(_page_data(result, pair_scores), allow_nan=False).replace("</", "<\\/")
    low = max((c.impostors for c in pair_scores.values()), default=0)
    curve_note = (
        f"Curves stop at FAR = 1/{low} ≈ {1 / low:.1g}: with {low} impostor pairs no smaller rate can be "
        "measured, so nothing is drawn below it."
        if low
        else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>facebench report</title><style>{_STYLE}</style></head>
<body>
<h1>facebench benchmark</h1>
<p class="note">{len(result.runs)} pipeline(s) on {_esc(", ".join(sorted({r.dataset for r in result.runs})))};
{_esc(result.environment.get("cpu", "?"))}, {_esc(result.environment.get("cores", "?"))} cores,
threads={_esc(result.environment.get("threads", "?"))}; commit {_esc(result.environment.get("commit") or "unknown")}.
Accuracy: verification protocol, each fold's threshold chosen on the other folds.</p>
{_decide_section(result, pair_scores)}
{_operating_points_section(result, pair_scores)}
<h2>Trade-off</h2>
<p id="charts-status" class="note"></p>
<label>x <select id="x-axis"></select></label><label>y <select id="y-axis"></select></label>
<div id="tradeoff"></div>
<h2>Pipelines</h2>
<p class="note">Click a column to sort; type to filter. Latencies: median and 95th percentile per image
(embed: per face), in this environment unless the provenance table says otherwise.</p>
<input id="filter" placeholder="filter pipelines"><div class="scroll">{html_table(result.runs, table_id="pipelines")}</div>
<h2>One metric over all pipelines</h2>
<label>metric <select id="metric"></select></label><div id="bars"></div><p id="bars-missing" class="note"></p>
<h2>ROC and DET</h2>
<p class="note">{_esc(curve_note)}</p>
<div id="roc"></div><div id="det"></div>
{_mcnemar_section(result)}
{_evidence_section(evidence, len(chosen))}
{_provenance_section(result)}
<script id="report-data" type="application/json">{data}</script>
<script id="plotly-gz" type="application/octet-stream">{_packed_plotly()}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
    path = out_dir / "report.html"
    atomic_write_text(path, page)
    return path
