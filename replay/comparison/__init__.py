"""Comparison of two playbook versions, paired by incident.

``compare_runs`` reads two books of one run, or one book of each of two runs, and
returns a ``Comparison``: accuracy and mean score of each side with paired bootstrap
intervals of the difference, McNemar's exact test, failure-rate and latency differences,
and the regressions, fixes and incidents still wrong. Loads pandas and scipy on import.
"""

from __future__ import annotations

from replay.comparison._compare import (
    LOWER_IS_BETTER,
    Comparison,
    McNemarTest,
    Metric,
    RepeatRule,
    compare_executions,
    compare_runs,
)
from replay.comparison._output import (
    comparison_report_dict,
    default_report_path,
    format_comparison,
    write_comparison_report,
)
from replay.comparison._pairs import EXECUTION_COLUMNS, OUTCOMES, collapse_repeats, pair_incidents
from replay.comparison._runs import Side
from replay.comparison._statistics import mcnemar_exact_test, paired_bootstrap_interval, paired_quantile_interval

__all__ = [
    "EXECUTION_COLUMNS",
    "LOWER_IS_BETTER",
    "OUTCOMES",
    "Comparison",
    "McNemarTest",
    "Metric",
    "RepeatRule",
    "Side",
    "collapse_repeats",
    "compare_executions",
    "compare_runs",
    "comparison_report_dict",
    "default_report_path",
    "format_comparison",
    "mcnemar_exact_test",
    "paired_bootstrap_interval",
    "paired_quantile_interval",
    "pair_incidents",
    "write_comparison_report",
]

