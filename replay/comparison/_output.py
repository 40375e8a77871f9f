"""Presentation of a comparison: a plain-text summary, the report dict and the HTML file."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from replay.comparison._compare import Comparison, Metric

__all__ = ["comparison_report_dict", "default_report_path", "format_comparison", "write_comparison_report"]

# incident ids printed per list in the text summary; the HTML report lists them all
LISTED_IDS = 10
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_LISTS = (
    ("regression", "regressions (correct with A, not with B)"),
    ("fix", "fixes (correct with B, not with A)"),
    ("still_wrong", "still wrong (correct with neither)"),
    ("unscored", "not scored on both sides"),
    ("only_a", "only in A"),
    ("only_b", "only in B"),
)
_REPORT_LISTS = (("regression", "regressions"), ("fix", "fixes"), ("still_wrong", "still_wrong"),
                 ("unscored", "unscored"), ("only_a", "only_a"), ("only_b", "only_b"))


def format_comparison(comparison: Comparison) -> str:
    """Return a plain-text summary: sides, metrics with intervals, McNemar's test and the lists."""
    a, b = comparison.a, comparison.b
    lines = [
        f"A: {a.label}" + (f"  (run {a.run_id})" if a.run_id else ""),
        f"B: {b.label}" + (f"  (run {b.run_id})" if b.run_id else ""),
        (f"scorer {comparison.scorer or 'n/a'}, repeats counted by {comparison.repeats}; "
         f"{comparison.n_pairs} incidents on both sides, {comparison.n_scored_pairs} scored on both"),
        "",
        f"  {'metric':<16}{'A':>10}{'B':>10}{'B - A':>12}   95% interval",
    ]
    for metric in comparison.metrics:
        interval = (f"[{_value(metric.delta_low, metric.unit, True)}, {_value(metric.delta_high, metric.unit, True)}]"
                    if not math.isnan(metric.delta_low) else "")
        lines.append(f"  {metric.name:<16}{_value(metric.a, metric.unit):>10}{_value(metric.b, metric.unit):>10}"
                     f"{_value(metric.delta, metric.unit, True):>12}   {interval}")
    test = comparison.mcnemar
    mcnemar = f"McNemar exact test: {test.regressions} regressions, {test.fixes} fixes, p = {_p_value(test.p_value)}"
    lines += ["", mcnemar, ""]
    for outcome, title in _LISTS:
        ids = comparison.incident_ids(outcome)
        if not ids and outcome in ("unscored", "only_a", "only_b"):
            continue
        shown = ", ".join(ids[:LISTED_IDS]) + (f", and {len(ids) - LISTED_IDS} more" if len(ids) > LISTED_IDS else "")
        lines.append(f"{title}: {len(ids)}" + (f"\n  {shown}" if ids else ""))
    for note in comparison.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def comparison_report_dict(comparison: Comparison) -> dict[str, Any]:
    """Build the dict that ``replay.report.paired_comparison`` renders."""
    report: dict[str, Any] = {
        "a": _side(comparison.a),
        "b": _side(comparison.b),
        "scorer": comparison.scorer,
        "repeats": "majority vote" if comparison.repeats == "majority" else "share of correct repeats",
        "n_pairs": comparison.n_pairs,
        "metrics": [_metric(metric) for metric in comparison.metrics],
        "mcnemar": {"regressions": comparison.mcnemar.regressions, "fixes": comparison.mcnemar.fixes,
                    "p_value": comparison.mcnemar.p_value},
        "notes": list(comparison.notes),
    }
    pairs = comparison.pairs
    for outcome, key in _REPORT_LISTS:
        rows = pairs[pairs["outcome"] == outcome]
        report[key] = [_entry(row) for row in rows.to_dict("records")]
    return report


def write_comparison_report(comparison: Comparison, path: str | Path) -> Path:
    """Render the comparison into one self-contained HTML file and return its path.

    Raises:
        ReportError: When the file cannot be written.
    """
    from replay.report.paired_comparison import render_paired_comparison_report

    return render_paired_comparison_report(comparison=comparison_report_dict(comparison), path=Path(path))


def default_report_path(comparison: Comparison, reports_dir: str | Path = "reports") -> Path:
    """Return ``reports_dir/compare-<A>-vs-<B>.html``, named after the runs and books."""
    a, b = comparison.a, comparison.b
    if a.run_id == b.run_id:
        name = f"compare-{a.run_id}-{a.book_name}-vs-{b.book_name}"
    else:
        name = f"compare-{a.run_id}-{a.book_name}-vs-{b.run_id}-{b.book_name}"
    return Path(reports_dir) / (_UNSAFE_FILE_CHARS.sub("_", name) + ".html")


def _side(side: Any) -> dict[str, Any]:
    return {"label": side.label, "run_id": side.run_id, "book_name": side.book_name}


def _metric(metric: Metric) -> dict[str, Any]:
    return {"name": metric.name, "unit": metric.unit, "a": metric.a, "b": metric.b, "delta": metric.delta,
            "delta_low": metric.delta_low, "delta_high": metric.delta_high,
            "lower_is_better": metric.is_lower_better}


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = {"incident_id": row["incident_id"]}
    for key in ("title", "root_cause", "message_link"):
        entry[key] = _present(row.get(key))
    for side in ("a", "b"):
        statuses = _present(row.get(f"statuses_{side}"))
        verdict = _present(row.get(f"verdict_{side}"))
        highlights = _present(row.get(f"highlights_{side}"))
        if verdict is None and statuses is not None:
            verdict = "unscored"
        if highlights is None and statuses is not None:
            # an execution without highlights shows its status (timeout, no_data...) in their place
            highlights = f"(no answer: {statuses})"
        entry[f"{side}_verdict"] = verdict
        entry[f"{side}_score"] = _present(row.get(f"score_{side}"))
        entry[f"{side}_highlights"] = highlights
    return entry


def _present(value: Any) -> Any:
    """Return None for a missing value (None, NaN, pandas NA), else ``value``."""
    return None if value is None or pd.isna(value) else value


def _value(value: float, unit: str, is_delta: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    scale, digits, suffix = {"fraction": (100, 1, " pts" if is_delta else "%"), "seconds": (1, 3, " s")}.get(
        unit, (1, 3, ""))
    # rounding to the printed digits first keeps a tiny negative difference from printing as "-0.000"
    shown = round(value * scale, digits) or 0.0
    sign = "+" if is_delta and shown > 0 else ""
    return f"{sign}{shown:.{digits}f}{suffix}"


def _p_value(p_value: float) -> str:
    return f"{p_value:.2g}" if p_value < 0.001 else f"{p_value:.3f}"
