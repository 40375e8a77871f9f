"""Comparison of two playbook versions, paired by incident.

``compare_runs`` reads two books of one run, or one book of each of two runs, and
returns a ``Comparison``. It has accuracy, mean score, failure rates and latency of each
side with paired bootstrap intervals of the difference, McNemar's exact test, and the
regressions, fixes and incidents still wrong. Importing it loads pandas and scipy.
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
from replay.comparison._statistics import (
    mcnemar_exact_test,
    paired_bootstrap_interval,
    paired_quantile_interval,
)

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
    "pair_incidents",
    "paired_bootstrap_interval",
    "paired_quantile_interval",
    "write_comparison_report",
]

