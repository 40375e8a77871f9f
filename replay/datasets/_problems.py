"""Row problems found while validating a dataset, and their rendering for the command line.

Internal module: the public names are re-exported by ``replay.datasets``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["InvalidRow", "RowProblem", "format_problems", "short_repr"]

MAX_REPR_CHARS = 60


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with one cell (or a whole row) of a dataset.

    ``column`` is the dataset field (``time``, ``root_cause``...) or, for metadata and
    flattened attribute columns, the column name in the file. ``source_column`` is the
    file's column name when a mapping or camelCase name differs from ``column``.
    ``line`` is the physical line in the file (CSV and JSONL) where the row starts.
    """

    row: int
    incident_id: str | None
    column: str | None
    value: str | None
    message: str
    fix: str
    code: str = "invalid_value"
    line: int | None = None
    source_column: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}"
        if self.line is not None and self.line != self.row + 1:
            where += f" (line {self.line})"
        if self.incident_id is not None:
            where += f", incident {_clip(self.incident_id)}"
        if self.column is not None:
            where += f", column {_column_label(self)}"
        value = f" (value {self.value})" if self.value is not None else ""
        return f"{where}: {self.message}{value}. Fix: {self.fix}"


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row that failed validation: its number, its id if readable, its first problem."""

    row: int
    incident_id: str | None
    message: str


def short_repr(value: object, limit: int = MAX_REPR_CHARS) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, marking the cut with "..."."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def format_problems(problems: Sequence[RowProblem], path: str | Path, limit: int | None = 50) -> str:
    """Render row problems for a terminal, grouped by column and kind of problem.

    Each group prints its fix once (when all its problems share it). About ``limit`` problem
    lines are listed in total, shared between the groups so that every group shows at least
    three examples; the rest are counted. ``limit=None`` lists every problem.

    Args:
        problems: the problems returned by ``load_incidents``.
        path: the dataset file, named in the first line.
        limit: how many problem lines to list before only counting; None for all.

    Returns:
        Multi-line text without a trailing newline.
    """
    if not problems:
        return f"{path}: no problems"
    n_rows = len({problem.row for problem in problems})
    noun = "problem" if len(problems) == 1 else "problems"
    row_noun = "row" if n_rows == 1 else "rows"
    lines = [f"{path}: {len(problems)} {noun} in {n_rows} {row_noun}"]

    # group in order of first appearance so the output follows the file
    groups: dict[tuple[str | None, str], list[RowProblem]] = {}
    for problem in problems:
        groups.setdefault((problem.column, problem.code), []).append(problem)

    per_group = None if limit is None else max(3, limit // len(groups))
    for members in groups.values():
        first = members[0]
        same_message = all(p.message == first.message for p in members)
        same_fix = all(p.fix == first.fix for p in members)
        count = f"{len(members)} row" + ("" if len(members) == 1 else "s")
        title = first.message if same_message else _CODE_TITLES.get(first.code, first.code)
        label = _column_label(first) if first.column is not None else "whole row"
        lines.append("")
        lines.append(f"{label}: {title} ({count})")
        if same_fix:
            lines.append(f"  fix: {first.fix}")
        listed = members if per_group is None else members[:per_group]
        for problem in listed:
            lines.append("  " + _problem_line(problem, same_message, same_fix))
        hidden = len(members) - len(listed)
        if hidden:
            lines.append(f"  ... and {hidden} more not shown ('replay validate --all' lists every row)")
    return "\n".join(lines)


_CODE_TITLES = {
    "missing_value": "missing value",
    "duplicate_id": "duplicate incident_id",
    "zoneless_time": "time without a time zone",
    "partial_time": "date without a time of day",
    "invalid_time": "invalid time",
    "not_text": "value is not text",
    "too_long": "value too long",
    "invalid_attributes": "invalid attributes",
    "invalid_list": "invalid list",
    "invalid_verdict": "invalid human_verdict",
    "invalid_link": "invalid message_link",
    "field_count": "wrong number of fields",
    "invalid_json": "invalid JSON line",
}


def _problem_line(problem: RowProblem, same_message: bool, same_fix: bool) -> str:
    where = f"row {problem.row}"
    if problem.line is not None and problem.line != problem.row + 1:
        where += f" (line {problem.line})"
    if problem.incident_id is not None:
        where += f" {_clip(problem.incident_id)}"
    text = where
    if problem.value is not None:
        text += f": {problem.value}"
    if not same_message:
        text += f" - {problem.message}"
    if not same_fix:
        text += f" (fix: {problem.fix})"
    return text


def _column_label(problem: RowProblem) -> str:
    if problem.source_column is not None and problem.source_column != problem.column:
        return f"{problem.column} (column {problem.source_column!r})"
    return str(problem.column)


def _clip(text: str) -> str:
    # ids come from the file: keep terminals safe from control characters and huge values
    if text.isprintable() and len(text) <= MAX_REPR_CHARS:
        return text
    return short_repr(text)
