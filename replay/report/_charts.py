"""Internal: geometry for the report's inline SVG charts.

Python computes every coordinate, and the templates only draw them, so no chart needs a
script or a library. Text goes into the SVG through Jinja autoescaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["accuracy_chart", "latency_histograms"]

CHART_WIDTH = 640
LABEL_WIDTH = 200
VALUE_WIDTH = 110
BAR_ROW_HEIGHT = 26
HISTOGRAM_BINS = 24
HISTOGRAM_HEIGHT = 90
MAX_LABEL_CHARS = 30


def accuracy_chart(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Lay out horizontal accuracy bars with Wilson interval whiskers, one per summary row.

    Each row needs ``label``, ``accuracy``, ``accuracy_low``, ``accuracy_high`` (fractions
    or None) and ``n_scored``. Returns None when no row has an accuracy.
    """
    if not any(row.get("accuracy") is not None for row in rows):
        return None

    plot_width = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, row in enumerate(rows):
        top = 8 + index * BAR_ROW_HEIGHT
        accuracy = row.get("accuracy")
        low, high = row.get("accuracy_low"), row.get("accuracy_high")
        label = str(row["label"])
        bar: dict[str, Any] = {
            "label": _shorten(label),
            "title": f"{label}: {_percent(accuracy)} of {row.get('n_scored') or 0} scored",
            "y": top,
            "text_y": top + 14,
            "value": _percent(accuracy),
            "width": 0.0 if accuracy is None else round(accuracy * plot_width, 1),
            "whisker": None,
        }
        if low is not None and high is not None:
            bar["whisker"] = {
                "x1": round(LABEL_WIDTH + low * plot_width, 1),
                "x2": round(LABEL_WIDTH + high * plot_width, 1),
                "y": top + 9,
                "interval": f"95% interval {_percent(low)} to {_percent(high)}",
            }
        bars.append(bar)

    height = 8 + len(rows) * BAR_ROW_HEIGHT + 22
    ticks = [
        {"x": round(LABEL_WIDTH + fraction * plot_width, 1), "label": f"{int(fraction * 100)}%"}
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    return {
        "width": CHART_WIDTH,
        "height": height,
        "label_width": LABEL_WIDTH,
        "plot_width": plot_width,
        "value_x": LABEL_WIDTH + plot_width + 8,
        "axis_y": height - 22,
        "ticks": ticks,
        "bars": bars,
    }


def latency_histograms(latencies_by_book: dict[str, list[float]]) -> dict[str, Any] | None:
    """Lay out one latency histogram per book on a shared axis.

    The axis ends at the largest 99th percentile among the books so that one slow
    outlier does not squash every bar into the first bin; slower executions are counted
    in the last bin, which is labelled as open-ended.
    """
    arrays = {
        book: np.asarray(values, dtype=float)
        for book, values in sorted(latencies_by_book.items())
        if len(values) > 0
    }
    if not arrays:
        return None

    upper = max(float(np.percentile(values, 99)) for values in arrays.values())
    if upper <= 0.0:
        upper = max(float(values.max()) for values in arrays.values()) or 1.0
    edges = np.linspace(0.0, upper, HISTOGRAM_BINS + 1)
    plot_width = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bin_width = plot_width / HISTOGRAM_BINS

    panels = []
    for book, values in arrays.items():
        counts, _ = np.histogram(np.clip(values, 0.0, upper), bins=edges)
        tallest = int(counts.max()) or 1
        bars = []
        for index, count in enumerate(counts):
            height = round(float(count) / tallest * (HISTOGRAM_HEIGHT - 10), 1)
            closing = "+" if index == HISTOGRAM_BINS - 1 else ""
            bars.append(
                {
                    "x": round(LABEL_WIDTH + index * bin_width + 0.5, 1),
                    "y": round(HISTOGRAM_HEIGHT - height, 1),
                    "width": round(bin_width - 1.0, 1),
                    "height": height,
                    "title": (
                        f"{_seconds(edges[index])} to {_seconds(edges[index + 1])}{closing}: "
                        f"{int(count)} executions"
                    ),
                }
            )
        panels.append(
            {
                "label": _shorten(book),
                "title": book,
                "count": int(values.size),
                "median": _seconds(float(np.median(values))),
                "bars": bars,
            }
        )

    ticks = [
        {"x": round(LABEL_WIDTH + fraction * plot_width, 1), "label": _seconds(fraction * upper)}
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    return {
        "width": CHART_WIDTH,
        "panel_height": HISTOGRAM_HEIGHT + 6,
        "height": len(panels) * (HISTOGRAM_HEIGHT + 6) + 24,
        "label_width": LABEL_WIDTH,
        "value_x": LABEL_WIDTH + plot_width + 8,
        "baseline": HISTOGRAM_HEIGHT,
        "ticks": ticks,
        "panels": panels,
    }


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{fraction * 100:.1f}%"


def _seconds(value: float) -> str:
    if value < 1.0:
        return f"{value * 1000:.0f} ms"
    if value < 100.0:
        return f"{value:.1f} s"
    return f"{value:.0f} s"
