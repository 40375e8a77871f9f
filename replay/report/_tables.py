"""Internal: the run report's server-rendered tables.

They cover header facts, summaries, status counts, verdict stability over repeats and the
scorers' agreement with human verdicts.

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
    "calibration_table",
    "count_rows",
    "header_facts",
    "ordered_statuses",
    "settings_rows",
    "stability_table",
    "status_table",
    "summary_table",
]

# the order of verdicts in a confusion table; calibration.json keys its counts by these
CONFUSION_VERDICTS = ("correct", "partial", "incorrect")


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


def stability_table(stability: pd.DataFrame) -> dict[str, Any]:
    """Format a stability frame (one row per book) for the Repeats section."""
    groups = [
        column
        for column in frames.group_columns(stability, frames.STABILITY_METRICS)
        if column != "scorer"
    ]
    rows = []
    for record in frames.records(stability):
        metric = {name: frames.as_float(record.get(name)) for name in frames.STABILITY_METRICS}
        rows.append(
            {
                "groups": [frames.as_text(record.get(column)) or "(none)" for column in groups],
                "n_incidents": _count(metric["n_incidents"]),
                "repeats": _count(metric["repeats"]),
                "consistency": _percent(metric["consistency"]),
                "consistency_interval": _interval(
                    metric["consistency_low"], metric["consistency_high"], True
                ),
                "n_unstable": _count(metric["n_unstable"]),
                "unstable_rate": _percent(metric["unstable_rate"]),
                "is_unstable": bool(metric["n_unstable"]),
                "majority_accuracy": _percent(metric["majority_accuracy"]),
                "pass_at_1": _percent(metric["pass_at_1"]),
                "pass_at_k": _percent(metric["pass_at_k"]),
            }
        )
    return {"groups": groups, "rows": rows}


def calibration_table(calibration: Mapping[str, Any], primary: str | None) -> dict[str, Any]:
    """Format a stored calibration (``calibration.json``) for the scorer agreement section.

    The confusion table shown first is that of ``primary``, the scorer whose verdicts the
    executions table shows, or of the first calibrated scorer when ``primary`` was not
    calibrated. Missing keys show as "n/a", so an older or edited file still renders.
    """
    entries = [
        entry for entry in frames.as_items(calibration.get("scorers")) if isinstance(entry, Mapping)
    ]
    names = [frames.as_text(entry.get("scorer")) or "(unnamed)" for entry in entries]
    first_shown = names.index(primary) if primary in names else 0
    rows = []
    for name, entry in zip(names, entries, strict=True):
        threshold_accuracy = frames.as_float(entry.get("best_threshold_accuracy"))
        rows.append(
            {
                "scorer": name,
                "is_primary": name == primary,
                "n": _count(frames.as_float(entry.get("n"))),
                "n_unscored": _count(frames.as_float(entry.get("n_unscored"))),
                "accuracy": _percent(frames.as_float(entry.get("accuracy"))),
                "kappa": _decimal(frames.as_float(entry.get("kappa"))),
                "binary_kappa": _decimal(frames.as_float(entry.get("binary_kappa"))),
                "best_threshold": _threshold(
                    frames.as_float(entry.get("best_threshold")), threshold_accuracy
                ),
                "best_threshold_accuracy": _percent(threshold_accuracy),
            }
        )
    confusions = [
        _confusion(name, entry.get("confusion")) for name, entry in zip(names, entries, strict=True)
    ]
    return {
        "source": frames.as_text(calibration.get("source")) or "n/a",
        "created_at": frames.as_text(calibration.get("created_at")) or "n/a",
        "n_verdicts": _count(frames.as_float(calibration.get("n_verdicts"))),
        "n_labeled_incidents": _count(frames.as_float(calibration.get("n_labeled_incidents"))),
        "n_unmatched_labels": frames.as_int(calibration.get("n_unmatched_labels")) or 0,
        "rows": rows,
        "confusion": confusions[first_shown] if confusions else None,
        "other_confusions": [
            table for index, table in enumerate(confusions) if index != first_shown
        ],
    }


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
        "reason": frames.as_text(manifest.get("reason")) or "",
        "planned": _count(frames.as_float(manifest.get("planned_executions"))) if manifest.get("planned_executions")
        is not None else "",
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


def _threshold(threshold: float | None, accuracy: float | None) -> str:
    # calibration.json stores an infinite cut as null. It means that calling no execution
    # correct agreed best with people, so no score earns a "correct"
    if threshold is None:
        return "n/a" if accuracy is None else "none"
    return _decimal(threshold)


def _confusion(scorer: str, counts: Any) -> dict[str, Any]:
    """Lay out human verdicts (rows) against the scorer's verdicts (columns)."""
    counts = counts if isinstance(counts, Mapping) else {}
    rows = []
    for human in CONFUSION_VERDICTS:
        by_machine = counts.get(human) if isinstance(counts.get(human), Mapping) else {}
        values = [frames.as_int(by_machine.get(machine)) or 0 for machine in CONFUSION_VERDICTS]
        rows.append(
            {
                "human": human,
                "cells": [
                    {"count": f"{value:,}", "is_match": human == machine}
                    for machine, value in zip(CONFUSION_VERDICTS, values, strict=True)
                ],
                "total": f"{sum(values):,}",
            }
        )
    return {"scorer": scorer, "verdicts": list(CONFUSION_VERDICTS), "rows": rows}


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1.0 else f"{value:.2f} s"
