"""The comparison report: two sets of executions paired by incident."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["render_comparison_report"]


def render_comparison_report(*, comparison: Mapping[str, Any], path: Path) -> Path:
    """Render a comparison of two books or runs into one self-contained HTML file."""
    raise NotImplementedError("The comparison report is not written yet.")
