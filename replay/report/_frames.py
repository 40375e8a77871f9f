"""Internal: turn the run's pandas frames into plain Python values for the templates.

Parquet round trips return numpy arrays for list columns, ``pd.NA`` or ``NaN`` for missing
values and ``Timestamp`` for times. The helpers here map all of them to JSON-ready
``None``, ``str``, ``int``, ``float``, ``list`` and ``dict``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from replay.errors import ReportError

__all__ = [
    "STABILITY_METRICS",
    "SUMMARY_METRICS",
    "as_float",
    "as_int",
    "as_items",
    "as_mapping",
    "as_text",
    "check_columns",
    "group_columns",
    "is_missing",
    "records",
]

# metric columns of a summary frame; every other column is a group column
SUMMARY_METRICS: tuple[str, ...] = (
    "n_executions",
    "n_scored",
    "n_correct",
    "n_partial",
    "n_incorrect",
    "n_unscored",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "mean_score",
    "mean_score_low",
    "mean_score_high",
    "error_rate",
    "timeout_rate",
    "no_data_rate",
    "latency_p50_s",
    "latency_p90_s",
    "latency_p99_s",
)

# metric columns of a stability frame (``replay.scoring.summarize_stability``)
STABILITY_METRICS: tuple[str, ...] = (
    "n_incidents",
    "repeats",
    "consistency",
    "consistency_low",
    "consistency_high",
    "n_unstable",
    "unstable_rate",
    "majority_accuracy",
    "pass_at_1",
    "pass_at_k",
)


def check_columns(frame: pd.DataFrame, required: Iterable[str], name: str) -> None:
    """Raise ReportError naming every required column that ``frame`` lacks."""
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ReportError(
            f"The {name} frame has no column {', '.join(repr(c) for c in missing)}; "
            f"it has {', '.join(repr(str(c)) for c in frame.columns) or 'no columns'}. "
            f"Pass the {name} table of the run as written by replay, or add the columns."
        )


def group_columns(summary: pd.DataFrame, metrics: Iterable[str] = SUMMARY_METRICS) -> list[str]:
    """Return the columns of a summary frame that name the group rather than a metric."""
    metric_names = set(metrics)
    return [str(column) for column in summary.columns if column not in metric_names]


def records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Yield each row of ``frame`` as a dict keyed by column name."""
    columns = [str(column) for column in frame.columns]
    for values in frame.itertuples(index=False, name=None):
        yield dict(zip(columns, values, strict=True))


def is_missing(value: Any) -> bool:
    """Tell whether a scalar is None, NaN, NaT or pd.NA; arrays and lists are never missing."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_text(value: Any) -> str | None:
    """Convert a cell to text: times to ISO 8601, missing values to None."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (np.ndarray, list, tuple)):
        return ", ".join(text for text in (as_text(item) for item in value) if text is not None)
    return str(value)


def as_float(value: Any) -> float | None:
    """Convert a cell to a finite float or None."""
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """Convert a cell to an int or None."""
    number = as_float(value)
    return None if number is None else int(number)


def as_items(value: Any) -> list[Any]:
    """Convert a list cell (list, tuple, numpy array or missing) to a list."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return list(value.items())
    return []


def as_mapping(value: Any) -> dict[str, str]:
    """Convert a map cell (dict, or list of key/value pairs as pyarrow returns it) to a dict."""
    if isinstance(value, Mapping):
        return {str(key): as_text(item) or "" for key, item in value.items()}
    pairs = as_items(value)
    result: dict[str, str] = {}
    for pair in pairs:
        if isinstance(pair, (tuple, list, np.ndarray)) and len(pair) == 2:
            result[str(pair[0])] = as_text(pair[1]) or ""
    return result
