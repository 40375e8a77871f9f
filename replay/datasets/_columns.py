"""Mapping a file's column names to incident fields: snake_case, camelCase, user mappings.

Internal module. Columns that are no field and no flattened ``attributes.<key>`` column
are metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from replay.datasets._problems import short_repr
from replay.errors import DatasetError

__all__ = ["FIELDS", "ColumnPlan", "normalize_name", "plan_columns"]

FIELDS = (
    "incident_id",
    "time",
    "book_name",
    "title",
    "details",
    "message_link",
    "attributes",
    "root_cause",
    "root_cause_component",
    "root_cause_category",
    "root_cause_keywords",
    "root_cause_component_aliases",
    "human_verdict",
)

# other spellings that name the same field
_FIELD_ALIASES = {"root_cause_aliases": "root_cause_component_aliases"}

_ATTRIBUTE_PREFIX = "attributes."
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s\-]+")
_MAX_LISTED_COLUMNS = 30


@dataclass(slots=True)
class ColumnPlan:
    """Sources of the fields: ``fields`` and ``attribute_columns`` map each to a file column."""

    fields: dict[str, str] = field(default_factory=dict)
    attribute_columns: dict[str, str] = field(default_factory=dict)
    metadata: list[str] = field(default_factory=list)


def normalize_name(name: str) -> str:
    """Convert a column name such as ``rootCauseCategory`` or ``Root Cause`` to snake_case."""
    snake = _CAMEL_BOUNDARY.sub("_", name.strip())
    snake = _SEPARATORS.sub("_", snake).lower()
    return _FIELD_ALIASES.get(snake, snake)


def plan_columns(
    path: Path,
    header: list[str],
    column_map: Mapping[str, str] | None,
    has_default_book: bool,
) -> ColumnPlan:
    """Decide which file column feeds each field, and check that required fields exist.

    Args:
        path: the dataset, named in errors.
        header: the file's column names.
        column_map: target field -> source column, applied before name matching.
        has_default_book: whether a default book makes the book_name column optional.

    Raises:
        DatasetError: for a mapping to an unknown field or from a missing column, two
            columns that feed one field, or a missing required column.
    """
    plan = ColumnPlan()
    mapped_sources: set[str] = set()

    # explicit mappings first: they win over a column that is named like the field
    for target, source in (column_map or {}).items():
        field_name = _target_field(path, target)
        if source not in header:
            raise DatasetError(
                f"{path}: the column mapping {target}={source} names the column {source!r}, "
                f"which the file does not have; available columns: {_list_columns(header)}",
                path=str(path),
            )
        if field_name.startswith(_ATTRIBUTE_PREFIX):
            plan.attribute_columns[field_name[len(_ATTRIBUTE_PREFIX) :]] = source
        else:
            plan.fields[field_name] = source
        mapped_sources.add(source)

    native: dict[str, str] = {}
    for name in header:
        if name in mapped_sources:
            continue
        if name.lower().startswith(_ATTRIBUTE_PREFIX) and len(name) > len(_ATTRIBUTE_PREFIX):
            plan.attribute_columns.setdefault(name[len(_ATTRIBUTE_PREFIX) :], name)
            continue
        field_name = normalize_name(name)
        if field_name not in FIELDS:
            plan.metadata.append(name)
        elif field_name in plan.fields:
            # a mapping replaced this column; it is left out rather than kept twice
            continue
        elif field_name in native:
            raise DatasetError(
                f"{path}: the columns {native[field_name]!r} and {name!r} both give the field "
                f"{field_name}; remove one, or rename it so that it is kept as metadata",
                path=str(path),
            )
        else:
            native[field_name] = name
    plan.fields.update(native)

    _check_required(path, header, plan, has_default_book)
    return plan


def _target_field(path: Path, target: str) -> str:
    if target.lower().startswith(_ATTRIBUTE_PREFIX) and len(target) > len(_ATTRIBUTE_PREFIX):
        return _ATTRIBUTE_PREFIX + target[len(_ATTRIBUTE_PREFIX) :]
    field_name = normalize_name(target)
    if field_name not in FIELDS:
        raise DatasetError(
            f"{path}: the column mapping names the unknown field {target!r}; map one of "
            f"{', '.join(FIELDS)} or attributes.<key>, as in --column root_cause=summary",
            path=str(path),
        )
    return field_name


def _check_required(path: Path, header: list[str], plan: ColumnPlan, has_default_book: bool) -> None:
    missing = [name for name in ("incident_id", "root_cause") if name not in plan.fields]
    if "book_name" not in plan.fields and not has_default_book:
        missing.append("book_name (or pass --book NAME)")
    if "time" not in plan.fields and "message_link" not in plan.fields:
        missing.append("time (or message_link)")
    if not missing:
        return

    hint = ""
    if len(header) == 1:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in header[0]:
                hint = f" The header looks separated by {label}: save the file with commas as delimiters."
                break
    raise DatasetError(
        f"{path}: missing required column(s): {', '.join(missing)}. Found columns: "
        f"{_list_columns(header)}. Rename the columns (snake_case or camelCase such as "
        f"incidentId), or map them with --column FIELD=SOURCE, as in --column root_cause=summary."
        f"{hint}",
        path=str(path),
    )


def _list_columns(header: list[str]) -> str:
    listed = ", ".join(short_repr(name, 40) for name in header[:_MAX_LISTED_COLUMNS])
    if len(header) > _MAX_LISTED_COLUMNS:
        listed += f" and {len(header) - _MAX_LISTED_COLUMNS} more"
    return listed or "(none)"
