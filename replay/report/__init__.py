"""Self-contained HTML reports: one file per run and one per comparison.

Rendering only: the numbers come from ``replay.scoring`` and the frames from the run's
Parquet files. Nothing here calls the API or reads a run directory.
"""

from __future__ import annotations

from replay.report.comparison import render_comparison_report
from replay.report.run import render_run_report

__all__ = ["render_comparison_report", "render_run_report"]
