"""Internal: the run report's server-rendered tables: header facts, summaries, status counts.

Numbers arrive computed; this module only formats them as text for the templates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from replay.models import STATUSES
from replay.report import _frames as frames

__all__ = [
    "count_rows",
    "header_facts",
    "ordered_statuses",
    "settings_rows",
    "status_table",
    "summary_table",
]


def summary_table(summary: pd.DataFrame) -> dict[str, Any]:
    groups = frames.group_columns(summary)
    rows = []
    chart_rows = []
    for record in frames.records(summary):
        group_values = [frames.as_text(record.get(column)) or "(none)" for column in groups]
        metric = {name: frames.as_float(record.get(name)) for name in frames.SUMMARY_METRICS}
        rows.append(
            {
                "groups": group_values,
                "n_executions": _count(metric["n_executions"]),
                "n_scored": _count(metric["n_scored"]),
                "verdicts": " / ".join(
                    _count(metric[name]) for name in ("n_correct", "n_partial", "n_incorrect")
                ),
                "accuracy": _percent(metric["accuracy"]),
                "accuracy_interval": _interval(
                    metric["accuracy_low"], metric["accuracy_high"], True
                ),
                "mean_score": _decimal(metric["mean_score"]),
                "mean_score_interval": _interval(
                    metric["mean_score_low"], metric["mean_score_high"], False
                ),
                "error_rate": _percent(metric["error_rate"]),
                "timeout_rate": _percent(metric["timeout_rate"]),
                "no_data_rate": _percent(metric["no_data_rate"]),
                "latency_p50": _seconds(metric["latency_p50_s"]),
                "latency_p90": _seconds(metric["latency_p90_s"]),
                "latency_p99": _seconds(metric["latency_p99_s"]),
            }
        )
        chart_rows.append(
            {
                "label": " · ".join(group_values) or "all",
                "accuracy": metric["accuracy"],
                "accuracy_low": metric["accuracy_low"],
                "accuracy_high": metric["accuracy_high"],
                "n_scored": frames.as_int(metric["n_scored"]),
            }
        )
    return {"groups": groups, "rows": rows, "chart_rows": chart_rows}


def ordered_statuses(status_counts: dict[str, Counter[str]]) -> list[str]:
    """Return the statuses present, known ones in their documented order, then unknown ones."""
    present = {status for counts in status_counts.values() for status in counts}
    return [s for s in STATUSES if s in present] + sorted(present - set(STATUSES))


def status_table(status_counts: dict[str, Counter[str]]) -> dict[str, Any]:
    statuses = ordered_statuses(status_counts)
    rows = [
        {
            "book": book,
            "counts": [status_counts[book].get(status, 0) for status in statuses],
            "total": sum(status_counts[book].values()),
        }
        for book in sorted(status_counts)
    ]
    return {"statuses": statuses, "rows": rows}


def header_facts(manifest: Mapping[str, Any]) -> dict[str, str]:
    started = frames.as_text(manifest.get("started_at"))
    finished = frames.as_text(manifest.get("finished_at"))
    return {
        "run_id": frames.as_text(manifest.get("run_id")) or "n/a",
        "label": frames.as_text(manifest.get("label")) or "",
        "dataset_path": frames.as_text(manifest.get("dataset_path")) or "n/a",
        "dataset_sha256": frames.as_text(manifest.get("dataset_sha256")) or "n/a",
        "started_at": started or "n/a",
        "finished_at": finished or "n/a",
        "duration": _duration(started, finished),
        "status": frames.as_text(manifest.get("status")) or "n/a",
        "replay_version": frames.as_text(manifest.get("replay_version")) or "n/a",
    }


def settings_rows(settings: Any) -> list[tuple[str, str]]:
    if not isinstance(settings, Mapping):
        return []
    return [
        (str(key), value if isinstance(value, str) else json.dumps(value, default=str))
        for key, value in sorted(settings.items(), key=lambda item: str(item[0]))
    ]


def count_rows(counts: Any) -> list[tuple[str, str]]:
    if not isinstance(counts, Mapping):
        return []
    return [(str(key), _count(frames.as_float(value))) for key, value in counts.items()]


def _duration(started: str | None, finished: str | None) -> str:
    if not started or not finished:
        return "n/a"
    try:
        elapsed = _parse_time(finished) - _parse_time(started)
    except (ValueError, TypeError):
        return "n/a"
    minutes, rest = divmod(int(round(elapsed.total_seconds())), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {rest:02d}s" if hours else f"{minutes}m {rest:02d}s"


def _parse_time(text: str) -> dt.datetime:
    # datetime.fromisoformat accepts a trailing "Z" only from Python 3.11 on
    return dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{int(value):,}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _decimal(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _interval(low: float | None, high: float | None, is_percent: bool) -> str:
    if low is None or high is None:
        return ""
    if is_percent:
        return f"{low * 100:.1f} to {high * 100:.1f}"
    return f"{low:.3f} to {high:.3f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1.0 else f"{value:.2f} s"
