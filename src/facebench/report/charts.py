"""PNG charts of a benchmark (matplotlib, headless): the figures a reader looks at first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from facebench.atomic import atomic_open
from facebench.report.tables import read_scores, scores_file

__all__ = ["pareto_front", "write_charts"]


def pareto_front(cost: list[float], accuracy: list[float]) -> list[int]:
    """Indices of the points no other point beats on both lower cost and higher accuracy, by cost."""
    order = sorted(range(len(cost)), key=lambda i: (cost[i], -accuracy[i]))
    front, best = [], -np.inf
    for index in order:
        if accuracy[index] > best:
            front.append(index)
            best = accuracy[index]
    return front


def _total_ms(run: dict[str, Any]) -> float:
    return float((run["detect_ms_p50"] or 0.0) + (run["embed_ms_p50"] or 0.0))


def write_charts(runs: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """accuracy_vs_latency.png (Pareto front), roc.png, eer.png, success_rate.png and memory.png in
    ``out_dir/charts``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from facebench.metrics.roc import roc_curve

    folder = out_dir / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    names = [run["pipeline"] for run in runs]

    latency = [_total_ms(run) for run in runs]
    accuracy = [100 * run["accuracy_mean"] for run in runs]
    front = pareto_front(latency, accuracy)
    figure, axis = plt.subplots(figsize=(9, 6))
    axis.scatter(latency, accuracy, c="tab:blue", zorder=3)
    for x, y, label in zip(latency, accuracy, names, strict=True):
        axis.annotate(label, (x, y), fontsize=7, xytext=(4, 2), textcoords="offset points")
    axis.plot(
        [latency[i] for i in front], [accuracy[i] for i in front], "r--", label="Pareto front", zorder=2
    )
    axis.set_xlabel("detect + embed, median ms per image (batch 1)")
    axis.set_ylabel("verification accuracy %")
    axis.set_title("Accuracy against latency")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    written.append(folder / "accuracy_vs_latency.png")
    _save(figure, written[-1])
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(8, 6))
    lowest = 0.0
    for name in names:
        scores, same = read_scores(scores_file(out_dir, name))
        fpr, tpr, _ = roc_curve(scores, same)
        measurable = 1.0 / max(int((~same).sum()), 1)  # no smaller FAR exists with this many impostors
        lowest = max(lowest, measurable)
        keep = fpr >= measurable
        axis.plot(fpr[keep], tpr[keep], label=name, linewidth=1.2)
    axis.set_xscale("log")
    axis.set_xlim(lowest, 1)
    axis.set_xlabel("false accept rate")
    axis.set_ylabel("true accept rate")
    axis.set_title(f"ROC (FAR below 1/impostors = {lowest:.1g} cannot be measured)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    written.append(folder / "roc.png")
    _save(figure, written[-1])
    plt.close(figure)

    bars = [
        ("eer", "Equal error rate %", "eer.png", 100.0, "tab:orange"),
        ("success_rate", "Face found %", "success_rate.png", 100.0, "tab:green"),
        (
            "peak_rss_mb",
            "Peak memory, MB (detector process peak + recognizer increase)",
            "memory.png",
            1.0,
            "tab:purple",
        ),
    ]
    for key, title, filename, scale, color in bars:
        figure, axis = plt.subplots(figsize=(9, 0.5 * len(runs) + 1.5))
        values = [scale * (run.get(key) or 0.0) for run in runs]
        axis.barh(names, values, color=color)
        for y, value in enumerate(values):
            axis.text(value, y, f" {value:.2f}", va="center", fontsize=8)
        axis.set_title(title)
        axis.tick_params(axis="y", labelsize=7)
        figure.tight_layout()
        written.append(folder / filename)
        _save(figure, written[-1])
        plt.close(figure)
    return written


def _save(figure: Any, path: Path) -> None:
    """Save a figure atomically (a half-written PNG never replaces a good one)."""
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, dpi=120, format="png")
