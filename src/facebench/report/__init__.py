"""Reports built from a benchmark's results: PNG charts and one self-contained interactive HTML page."""

from facebench.report.charts import pareto_front as pareto_front
from facebench.report.charts import write_charts as write_charts
from facebench.report.html import write_html_report as write_html_report

__all__ = ["pareto_front", "write_charts", "write_html_report"]
