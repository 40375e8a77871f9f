"""Loading a dataset file into validated incidents plus a list of every row problem.

Internal module: ``load_incidents`` and ``LoadedDataset`` are re-exported by
``replay.datasets``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replay.datasets._columns import ColumnPlan, plan_columns
from replay.datasets._problems import InvalidRow, RowProblem, format_problems, short_repr
from replay.datasets._read import RawTable, read_table
from replay.datasets._values import (
    InvalidValue,
    as_attributes,
    as_link,
    as_list,
    as_metadata,
    as_text,
    as_time,
    as_verdict,
)
from replay.errors import ConfigError, DatasetError
from replay.models import Incident, Label

__all__ = ["LoadedDataset", "load_incidents"]

logger = logging.getLogger(__name__)

_EXAMPLE_TIME = "2026-07-14T03:12:00Z"


@dataclass(frozen=True, slots=True)
class LoadedDataset:
    """The outcome of loading a dataset: valid incidents and every problem found.

    ``sha256`` is the hex digest of the file's bytes. ``n_rows`` counts all data rows,
    valid or not. ``invalid_rows`` has one entry per row with problems, in file order.
    """

    path: Path
    sha256: str
    format: str
    n_rows: int
    incidents: list[Incident]
    problems: list[RowProblem]
    invalid_rows: list[InvalidRow]
    metadata_columns: list[str]

    @property
    def has_problems(self) -> bool:
        """Whether any row failed validation."""
        return bool(self.problems)

    def raise_for_problems(self, limit: int = 50) -> None:
        """Raise a DatasetError listing the problems, if there are any.

        Raises:
            DatasetError: with ``format_problems`` text and the problems attached.
        """
        if self.problems:
            raise DatasetError(
                format_problems(self.problems, self.path, limit=limit),
                path=str(self.path),
                problems=list(self.problems),
            )


def load_incidents(
    path: str | Path,
    *,
    column_map: Mapping[str, str] | None = None,
    default_zone: str | None = None,
    allow_partial_dates: bool = False,
    default_book: str | None = None,
) -> LoadedDataset:
    """Read a dataset and validate every row, collecting all problems instead of stopping.

    Args:
        path: a ``.csv``, ``.csv.gz``, ``.jsonl``, ``.jsonl.gz`` or ``.parquet`` file.
        column_map: target field -> source column, such as ``{"root_cause": "summary"}``.
        default_zone: IANA zone name given to times without an offset.
        allow_partial_dates: run ``YYYY``, ``YYYY-MM`` and ``YYYY-MM-DD`` values at the
            first instant of that period (in ``default_zone``, else UTC).
        default_book: book name for rows whose ``book_name`` is empty or absent.

    Returns:
        The valid incidents, and one ``RowProblem`` per invalid cell.

    Raises:
        DatasetError: the file is missing, of an unknown format, unreadable, or lacks a
            required column.
        ConfigError: ``default_zone`` is no known time zone.
    """
    path = Path(path)
    zone = _zone(default_zone)
    try:
        content = path.read_bytes()
    except OSError as exc:
        reason = "not found" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
        raise DatasetError(f"{path}: the dataset file is {reason}; check the path", path=str(path)) from exc
    sha256 = hashlib.sha256(content).hexdigest()

    table = read_table(path, content)
    plan = plan_columns(path, table.header, column_map, has_default_book=bool(default_book))
    validator = _RowValidator(table, plan, zone, allow_partial_dates, default_book)
    incidents, problems, invalid_rows = validator.validate()

    logger.info(
        "loaded %d incidents from %s (%d rows, %d invalid)",
        len(incidents), path, table.n_rows, len(invalid_rows),
    )
    return LoadedDataset(
        path=path,
        sha256=sha256,
        format=table.format,
        n_rows=table.n_rows,
        incidents=incidents,
        problems=problems,
        invalid_rows=invalid_rows,
        metadata_columns=list(plan.metadata),
    )


def _zone(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC"
        ) from exc


class _RowValidator:
    """Validates the rows of one table against one column plan."""

    def __init__(
        self,
        table: RawTable,
        plan: ColumnPlan,
        zone: dt.tzinfo | None,
        allow_partial_dates: bool,
        default_book: str | None,
    ) -> None:
        self.table = table
        self.plan = plan
        self.zone = zone
        self.allow_partial_dates = allow_partial_dates
        self.default_book = default_book or None
        self.empty: list[Any] = [None] * table.n_rows

    def column(self, field_name: str) -> list[Any]:
        source = self.plan.fields.get(field_name)
        return self.table.columns[source] if source is not None else self.empty

    def validate(self) -> tuple[list[Incident], list[RowProblem], list[InvalidRow]]:
        incidents: list[Incident] = []
        problems: list[RowProblem] = []
        invalid_rows: list[InvalidRow] = []
        first_rows: dict[str, int] = {}
        lines = self.table.lines

        ids = self.column("incident_id")
        for index in range(self.table.n_rows):
            row = index + 1
            line = lines[index] if lines is not None else None
            errors: list[tuple[str, Any, InvalidValue]] = []

            incident_id = self._convert(errors, "incident_id", ids[index], as_text)

            # a row whose fields cannot be told apart gets one problem, not one per column
            broken = self.table.broken_rows.get(index)
            if broken is not None:
                if errors:
                    incident_id = None
                problem = _with_id(broken, incident_id)
                problems.append(problem)
                invalid_rows.append(InvalidRow(row, incident_id, problem.message))
                continue

            if incident_id is not None:
                first = first_rows.setdefault(incident_id, row)
                if first != row:
                    errors.append(("incident_id", ids[index], InvalidValue(
                        "duplicate_id",
                        f"incident_id duplicates row {first}, which has the same id",
                        "give every incident a unique incident_id",
                    )))

            incident = self._build(index, row, incident_id, errors)
            if errors:
                row_problems = [self._problem(row, line, incident_id, *error) for error in errors]
                problems.extend(row_problems)
                invalid_rows.append(InvalidRow(row, incident_id, row_problems[0].message))
            elif incident is not None:
                incidents.append(incident)
        return incidents, problems, invalid_rows

    def _build(
        self, index: int, row: int, incident_id: str | None, errors: list[tuple[str, Any, InvalidValue]]
    ) -> Incident | None:
        convert = self._convert
        if incident_id is None and not _has_error(errors, "incident_id"):
            errors.append(("incident_id", None, _missing("incident_id", "give every incident a unique id")))

        time_value = self.column("time")[index]
        time = self._convert(errors, "time", time_value, as_time, self.zone, self.allow_partial_dates)
        message_link = convert(errors, "message_link", self.column("message_link")[index], as_link)
        if time is None and message_link is None and not _has_error(errors, "time"):
            errors.append(("time", time_value, _missing(
                "time", f"write an ISO 8601 time such as {_EXAMPLE_TIME}, or a message_link",
                "time is empty and there is no message_link",
            )))

        book_name = convert(errors, "book_name", self.column("book_name")[index], as_text)
        if book_name is None and not _has_error(errors, "book_name"):
            book_name = self.default_book
            if book_name is None:
                errors.append(("book_name", None, _missing("book_name", "write the book name, or pass --book NAME")))

        root_cause = convert(errors, "root_cause", self.column("root_cause")[index], as_text)
        if root_cause is None and not _has_error(errors, "root_cause"):
            errors.append(("root_cause", None, _missing("root_cause", "write the labeled root cause of the incident")))

        attributes = convert(errors, "attributes", self.column("attributes")[index], as_attributes) or {}
        for key, source in self.plan.attribute_columns.items():
            text = convert(errors, source, self.table.columns[source][index], as_metadata)
            if text is not None:
                attributes[key] = text

        label = Label(
            root_cause=root_cause or "",
            component=convert(errors, "root_cause_component", self.column("root_cause_component")[index], as_text),
            category=convert(errors, "root_cause_category", self.column("root_cause_category")[index], as_text),
            keywords=convert(errors, "root_cause_keywords", self.column("root_cause_keywords")[index], as_list) or (),
            component_aliases=convert(
                errors, "root_cause_component_aliases", self.column("root_cause_component_aliases")[index], as_list
            ) or (),
        )
        metadata = {
            name: convert(errors, name, self.table.columns[name][index], as_metadata)
            for name in self.plan.metadata
        }
        incident = Incident(
            incident_id=incident_id or "",
            time=time,
            label=label,
            book_name=book_name,
            title=convert(errors, "title", self.column("title")[index], as_text),
            details=convert(errors, "details", self.column("details")[index], as_text),
            message_link=message_link,
            attributes=attributes,
            human_verdict=convert(errors, "human_verdict", self.column("human_verdict")[index], as_verdict),
            metadata=metadata,
            row=row,
        )
        return None if errors else incident

    @staticmethod
    def _convert(
        errors: list[tuple[str, Any, InvalidValue]],
        column: str,
        value: Any,
        converter: Callable[..., Any],
        *args: Any,
    ) -> Any:
        try:
            return converter(value, column, *args)
        except InvalidValue as exc:
            errors.append((column, value, exc))
            return None

    def _problem(
        self, row: int, line: int | None, incident_id: str | None, column: str, value: Any, error: InvalidValue
    ) -> RowProblem:
        source = self.plan.fields.get(column)
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


def _has_error(errors: list[tuple[str, Any, InvalidValue]], column: str) -> bool:
    return any(error[0] == column for error in errors)


def _with_id(problem: RowProblem, incident_id: str | None) -> RowProblem:
    if incident_id is None:
        return problem
    return RowProblem(
        row=problem.row, incident_id=incident_id, column=problem.column, value=problem.value,
        message=problem.message, fix=problem.fix, code=problem.code, line=problem.line,
    )
