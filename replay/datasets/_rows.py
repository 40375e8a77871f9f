"""Row validation: converting a table's columns into Incident records and RowProblems.

Internal module. Cells are converted column by column (one tight loop per column), then
rows are assembled and checked across fields: ids, times, books and labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from replay.datasets._columns import FIELDS, ColumnPlan
from replay.datasets._problems import InvalidRow, RowProblem, short_repr
from replay.datasets._read import RawTable
from replay.datasets._values import (
    MAX_TEXT_CHARS,
    InvalidValue,
    as_attributes,
    as_link,
    as_list,
    as_metadata,
    as_text,
    as_time,
    as_verdict,
)
from replay.models import Incident, Label

__all__ = ["validate_rows"]

_EXAMPLE_TIME = "2026-07-14T03:12:00Z"

_CONVERTERS: dict[str, Callable[..., Any]] = {
    "incident_id": as_text,
    "time": as_time,
    "book_name": as_text,
    "title": as_text,
    "details": as_text,
    "message_link": as_link,
    "attributes": as_attributes,
    "root_cause": as_text,
    "root_cause_component": as_text,
    "root_cause_category": as_text,
    "root_cause_keywords": as_list,
    "root_cause_component_aliases": as_list,
    "human_verdict": as_verdict,
}

# one (column, raw value, error) entry per failed cell of a row
_CellError = tuple[str, Any, InvalidValue]


def validate_rows(
    table: RawTable,
    plan: ColumnPlan,
    zone: dt.tzinfo | None,
    allow_partial_dates: bool,
    default_book: str | None,
) -> tuple[list[Incident], list[RowProblem], list[InvalidRow]]:
    """Convert every row of ``table``; return valid incidents, all problems and the invalid rows."""
    n_rows = table.n_rows
    empty: list[Any] = [None] * n_rows
    raw = {name: table.columns[source] for name, source in plan.fields.items()}
    cell_errors: dict[int, list[_CellError]] = {}

    # convert each column in one pass; failed cells become None plus an error of their row
    values: dict[str, list[Any]] = {}
    for name in FIELDS:
        if name not in raw:
            values[name] = empty if name not in ("root_cause_keywords", "root_cause_component_aliases") else [()] * n_rows
            continue
        extra = (zone, allow_partial_dates) if name == "time" else ()
        values[name] = _convert_column(raw[name], _CONVERTERS[name], name, extra, cell_errors)
    attribute_values = {
        key: _convert_column(table.columns[source], as_metadata, source, (), cell_errors)
        for key, source in plan.attribute_columns.items()
    }
    metadata_values = {
        name: _convert_column(table.columns[name], as_metadata, name, (), cell_errors) for name in plan.metadata
    }

    rank = {name: position for position, name in enumerate([*FIELDS, *plan.attribute_columns.values(), *plan.metadata])}
    incidents: list[Incident] = []
    problems: list[RowProblem] = []
    invalid_rows: list[InvalidRow] = []
    first_rows: dict[str, int] = {}
    lines = table.lines
    ids, times, links = values["incident_id"], values["time"], values["message_link"]
    books, causes = values["book_name"], values["root_cause"]

    for index in range(n_rows):
        row = index + 1
        errors = cell_errors.get(index, [])
        incident_id = ids[index]

        # a row whose fields cannot be separated reliably gets one problem, not one per column
        broken = table.broken_rows.get(index)
        if broken is not None:
            if any(error[0] == "incident_id" for error in errors):
                incident_id = None
            problem = _with_id(broken, incident_id)
            problems.append(problem)
            invalid_rows.append(InvalidRow(row, incident_id, problem.message))
            continue

        failed = {error[0] for error in errors}
        if incident_id is not None:
            first = first_rows.setdefault(incident_id, row)
            if first != row:
                errors.append(("incident_id", raw["incident_id"][index], InvalidValue(
                    "duplicate_id",
                    f"incident_id duplicates row {first}, which has the same id",
                    "give every incident a unique incident_id",
                )))
        elif "incident_id" not in failed:
            errors.append(("incident_id", None, _missing("incident_id", "give every incident a unique id")))
        if times[index] is None and links[index] is None and not failed & {"time", "message_link"}:
            errors.append(("time", raw.get("time", empty)[index], _missing(
                "time", f"write an ISO 8601 time such as {_EXAMPLE_TIME}, or a message_link",
                "time is empty and there is no message_link",
            )))
        book_name = books[index] or default_book
        if book_name is None and "book_name" not in failed:
            errors.append(("book_name", None, _missing("book_name", "write the book name, or pass --book NAME")))
        if causes[index] is None and "root_cause" not in failed:
            errors.append(("root_cause", None, _missing("root_cause", "write the labeled root cause of the incident")))

        if errors:
            errors.sort(key=lambda error: rank.get(error[0], len(rank)))
            line = lines[index] if lines is not None else None
            row_problems = [_problem(plan, row, line, incident_id, *error) for error in errors]
            problems.extend(row_problems)
            invalid_rows.append(InvalidRow(row, incident_id, row_problems[0].message))
            continue

        attributes = values["attributes"][index] or {}
        for key, column in attribute_values.items():
            if column[index] is not None:
                attributes[key] = column[index]
        incidents.append(Incident(
            incident_id=incident_id,
            time=times[index],
            label=Label(
                root_cause=causes[index],
                component=values["root_cause_component"][index],
                category=values["root_cause_category"][index],
                keywords=values["root_cause_keywords"][index],
                component_aliases=values["root_cause_component_aliases"][index],
            ),
            book_name=book_name,
            title=values["title"][index],
            details=values["details"][index],
            message_link=links[index],
            attributes=attributes,
            human_verdict=values["human_verdict"][index],
            metadata={name: column[index] for name, column in metadata_values.items()},
            row=row,
        ))
    return incidents, problems, invalid_rows


def _convert_column(
    cells: list[Any],
    converter: Callable[..., Any],
    column: str,
    extra: tuple[Any, ...],
    cell_errors: dict[int, list[_CellError]],
) -> list[Any]:
    if converter is as_text or converter is as_metadata:
        fast = _strip_all(cells)
        if fast is not None:
            return fast

    converted: list[Any] = []
    append = converted.append
    for index, value in enumerate(cells):
        try:
            append(converter(value, column, *extra))
        except InvalidValue as exc:
            cell_errors.setdefault(index, []).append((column, value, exc))
            append(None)
    return converted


def _strip_all(cells: list[Any]) -> list[str | None] | None:
    """Strip a column that holds only short text or None; return None to take the slow path."""
    try:
        stripped = [None if cell is None else cell.strip() or None for cell in cells]
    except (AttributeError, TypeError):
        return None
    if any(type(cell) is not str for cell in cells if cell is not None):
        return None
    if max(map(len, filter(None, stripped)), default=0) > MAX_TEXT_CHARS:
        return None
    return stripped


def _problem(
    plan: ColumnPlan, row: int, line: int | None, incident_id: str | None, column: str, value: Any, error: InvalidValue
) -> RowProblem:
    source = plan.fields.get(column)
    return RowProblem(
        row=row,
        incident_id=incident_id,
        column=column,
        value=None if value is None or value == "" else short_repr(value),
        message=error.message,
        fix=error.fix,
        code=error.code,
        line=line,
        source_column=source if source is not None and source != column else None,
    )


def _missing(column: str, fix: str, message: str | None = None) -> InvalidValue:
    return InvalidValue("missing_value", message or f"{column} is empty", fix)


def _with_id(problem: RowProblem, incident_id: str | None) -> RowProblem:
    if incident_id is None:
        return problem
    return RowProblem(
        row=problem.row, incident_id=incident_id, column=problem.column, value=problem.value,
        message=problem.message, fix=problem.fix, code=problem.code, line=problem.line,
    )
