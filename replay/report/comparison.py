"""The comparison report: two sets of executions (A and B) paired by incident.

Rendering only: the paired statistics and the lists arrive in the ``comparison`` dict,
whose keys are documented on ``render_comparison_report``. The page has no script.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from replay.errors import ReportError
from replay.report._html import render_page, truncate_text

__all__ = ["render_comparison_report"]

logger = logging.getLogger(__name__)

# Incidents listed per section. Longer lists are cut with a count of the rest, because
# every listed incident carries three texts and the page has no paging.
MAX_LISTED_INCIDENTS = 500
LIST_SECTIONS = (
    ("regressions", "Regressions", "Correct with A, not correct with B."),
    ("fixes", "Fixes", "Not correct with A, correct with B."),
    ("still_wrong", "Still wrong", "Not correct with either."),
)
REQUIRED_KEYS = ("a", "b", "metrics")


def render_comparison_report(*, comparison: Mapping[str, Any], path: Path) -> Path:
    """Render a paired comparison of two books or runs into one self-contained HTML file.

    Args:
        comparison: the comparison, with these keys (missing optional keys show "n/a"):
            ``a``, ``b``: each a dict with ``label`` and optionally ``run_id`` and
            ``book_name``. ``scorer``: the scorer whose verdicts were paired.
            ``n_pairs``: incidents paired. ``metrics``: a list of dicts with ``name``,
            ``unit`` (``fraction``, ``score``, ``seconds`` or ``count``), ``a``, ``b``,
            ``delta`` (B minus A), ``delta_low`` and ``delta_high`` (a 95% interval of
            the delta, for example a paired bootstrap). ``mcnemar``: a dict with
            ``regressions`` (A right, B wrong), ``fixes`` (A wrong, B right) and
            ``p_value`` (exact test). ``regressions``, ``fixes``, ``still_wrong``: lists
            of dicts with ``incident_id`` and optionally ``title``, ``root_cause``,
            ``a_verdict``, ``b_verdict``, ``a_score``, ``b_score``, ``a_highlights``,
            ``b_highlights`` and ``message_link``.
        path: where to write the HTML file; parent directories are created.

    Returns:
        ``path``.

    Raises:
        ReportError: a required key is missing, or the file cannot be written.
    """
    missing = [key for key in REQUIRED_KEYS if key not in comparison]
    if missing:
        raise ReportError(
            f"Cannot render the comparison report {path}: the comparison has no "
            f"{', '.join(repr(key) for key in missing)} key. Pass the dict that the "
            "comparison step returns, with 'a', 'b' and 'metrics'."
        )

    side_a, side_b = _side(comparison["a"], "A"), _side(comparison["b"], "B")
    sections = []
    for key, title, meaning in LIST_SECTIONS:
        entries = list(comparison.get(key) or [])
        sections.append(
            {
                "key": key,
                "title": title,
                "meaning": meaning,
                "count": len(entries),
                "hidden": max(0, len(entries) - MAX_LISTED_INCIDENTS),
                "entries": [_entry(entry) for entry in entries[:MAX_LISTED_INCIDENTS]],
            }
        )

    context = {
        "script_name": None,
        "page_title": f"replay comparison: {side_a['label']} vs {side_b['label']}",
        "a": side_a,
        "b": side_b,
        "scorer": _text(comparison.get("scorer")) or "n/a",
        "n_pairs": _count(comparison.get("n_pairs")),
        "metrics": [_metric(metric) for metric in _dicts(comparison["metrics"])],
        "mcnemar": _mcnemar(comparison.get("mcnemar")),
        "sections": sections,
    }
    return render_page("comparison.html.j2", context, path)


def _side(side: Any, fallback: str) -> dict[str, str]:
    side = side if isinstance(side, Mapping) else {}
    return {
        "label": _text(side.get("label")) or _text(side.get("book_name")) or fallback,
        "run_id": _text(side.get("run_id")) or "",
        "book_name": _text(side.get("book_name")) or "",
    }


def _metric(metric: Mapping[str, Any]) -> dict[str, Any]:
    unit = _text(metric.get("unit")) or "score"
    delta = _number(metric.get("delta"))
    low, high = _number(metric.get("delta_low")), _number(metric.get("delta_high"))
    is_error_like = "error" in (_text(metric.get("name")) or "") or unit == "seconds"
    direction = "same"
    if low is not None and high is not None and (low > 0 or high < 0):
        # an interval clear of zero is a real change; for errors and latency lower is better
        is_up = low > 0
        direction = "worse" if is_up == is_error_like else "better"
    return {
        "name": (_text(metric.get("name")) or "metric").replace("_", " "),
        "a": _format(_number(metric.get("a")), unit, False),
        "b": _format(_number(metric.get("b")), unit, False),
        "delta": _format(delta, unit, True),
        "interval": ""
        if low is None or high is None
        else f"{_format(low, unit, True)} to {_format(high, unit, True)}",
        "direction": direction,
    }


def _mcnemar(test: Any) -> dict[str, str] | None:
    if not isinstance(test, Mapping):
        return None
    p_value = _number(test.get("p_value"))
    return {
        "regressions": _count(test.get("regressions")),
        "fixes": _count(test.get("fixes")),
        "p_value": "n/a"
        if p_value is None
        else (f"{p_value:.2g}" if p_value < 0.001 else f"{p_value:.3f}"),
    }


def _entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "incident_id": _text(entry.get("incident_id")) or "(no id)",
        "title": truncate_text(_text(entry.get("title"))) or "",
        "root_cause": truncate_text(_text(entry.get("root_cause"))) or "(no label)",
        "a_verdict": _text(entry.get("a_verdict")) or "",
        "b_verdict": _text(entry.get("b_verdict")) or "",
        "a_score": _format(_number(entry.get("a_score")), "score", False),
        "b_score": _format(_number(entry.get("b_score")), "score", False),
        "a_highlights": truncate_text(_text(entry.get("a_highlights"))) or "(no highlights)",
        "b_highlights": truncate_text(_text(entry.get("b_highlights"))) or "(no highlights)",
        "message_link": _text(entry.get("message_link")) or "",
    }


def _dicts(items: Any) -> list[Mapping[str, Any]]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _count(value: Any) -> str:
    number = _number(value)
    return "n/a" if number is None else f"{int(number):,}"


def _format(value: float | None, unit: str, is_delta: bool) -> str:
    if value is None:
        return "n/a"
    sign = "+" if is_delta and value > 0 else ""
    if unit == "fraction":
        return f"{sign}{value * 100:.1f}{' pts' if is_delta else '%'}"
    if unit == "seconds":
        return f"{sign}{value:.2f} s"
    if unit == "count":
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.3f}"
