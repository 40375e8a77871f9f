"""The comparison page with every incident accounted for.

It extends ``render_comparison_report`` with three more incident lists (found on one
side only, and not scored on both sides), the direction of metrics where lower is better,
and notes. The page reuses the comparison template and its helpers, so both look alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from replay.errors import ReportError
from replay.report import comparison as base
from replay.report._html import render_page

__all__ = ["render_paired_comparison_report"]

EXTRA_SECTIONS = (
    ("unscored", "Not scored on both sides",
     "Executed on both sides, but every execution failed, timed out or returned no data on at least one."),
    ("only_a", "Only in A", "Executed with A only; left out of the paired metrics."),
    ("only_b", "Only in B", "Executed with B only; left out of the paired metrics."),
)


def render_paired_comparison_report(*, comparison: Mapping[str, Any], path: Path) -> Path:
    """Render a comparison that also lists incidents left out of the paired metrics.

    Args:
        comparison: The dict ``render_comparison_report`` takes, plus these optional
            keys: ``unscored``, ``only_a`` and ``only_b`` (incident lists shaped like
            ``regressions``); ``notes`` (a list of sentences shown under the metrics);
            ``repeats`` (how repeats were counted, shown beside the scorer); and
            ``lower_is_better`` (bool) on a metric, which decides whether its change is
            marked better or worse.
        path: Where to write the HTML file; parent directories are created.

    Returns:
        ``path``.

    Raises:
        ReportError: A required key is missing, or the file cannot be written.
    """
    missing = [key for key in base.REQUIRED_KEYS if key not in comparison]
    if missing:
        raise ReportError(
            f"Cannot render the comparison report {path}: the comparison has no "
            f"{', '.join(repr(key) for key in missing)} key. Pass the dict that "
            "replay.comparison.comparison_report_dict returns."
        )

    side_a, side_b = base._side(comparison["a"], "A"), base._side(comparison["b"], "B")
    sections = [_section(comparison, key, title, meaning)
                for key, title, meaning in (*base.LIST_SECTIONS, *EXTRA_SECTIONS)]
    scorer = base._text(comparison.get("scorer")) or "n/a"
    repeats = base._text(comparison.get("repeats"))
    context = {
        "script_name": None,
        "page_title": f"replay comparison: {side_a['label']} vs {side_b['label']}",
        "a": side_a,
        "b": side_b,
        "scorer": f"{scorer} (repeats: {repeats})" if repeats else scorer,
        "n_pairs": base._count(comparison.get("n_pairs")),
        "metrics": [_metric(metric) for metric in base._dicts(comparison["metrics"])],
        "mcnemar": base._mcnemar(comparison.get("mcnemar")),
        "sections": sections,
        "notes": [str(note) for note in comparison.get("notes") or []],
    }
    return render_page("paired_comparison.html.j2", context, path)


def _section(comparison: Mapping[str, Any], key: str, title: str, meaning: str) -> dict[str, Any]:
    entries = base._dicts(comparison.get(key) or [])
    return {
        "key": key,
        "title": title,
        "meaning": meaning,
        "count": len(entries),
        "hidden": max(0, len(entries) - base.MAX_LISTED_INCIDENTS),
        "entries": [base._entry(entry) for entry in entries[: base.MAX_LISTED_INCIDENTS]],
    }


def _metric(metric: Mapping[str, Any]) -> dict[str, Any]:
    shown = base._metric(metric)
    if "lower_is_better" not in metric:
        return shown
    low, high = base._number(metric.get("delta_low")), base._number(metric.get("delta_high"))
    direction = "same"
    if low is not None and high is not None and (low > 0 or high < 0):
        went_up = low > 0
        direction = "worse" if went_up == bool(metric["lower_is_better"]) else "better"
    return {**shown, "direction": direction}
