"""Loading a dataset file into validated incidents plus a list of every row problem.

Internal module: ``load_incidents`` and ``LoadedDataset`` are re-exported by
``replay.datasets``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from replay.datasets._columns import plan_columns
from replay.datasets._problems import InvalidRow, RowProblem, format_problems
from replay.datasets._read import read_table
from replay.datasets._rows import validate_rows
from replay.errors import ConfigError, DatasetError
from replay.models import Incident

__all__ = ["LoadedDataset", "load_incidents"]

logger = logging.getLogger(__name__)


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
    incidents, problems, invalid_rows = validate_rows(table, plan, zone, allow_partial_dates, default_book or None)

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
