"""Reading a dataset file (CSV, JSONL, Parquet, optionally gzipped) into plain columns.

Internal module. It handles file formats only, not incidents, and every file-level
failure becomes a ``DatasetError`` naming the file and the fix.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from replay.errors import DatasetError
from replay.datasets._problems import RowProblem, short_repr

__all__ = ["SUPPORTED_FORMATS", "RawTable", "read_table"]

SUPPORTED_FORMATS = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")

_SUFFIX_FORMATS = {
    ".csv": ("csv", False),
    ".csv.gz": ("csv", True),
    ".jsonl": ("jsonl", False),
    ".ndjson": ("jsonl", False),
    ".jsonl.gz": ("jsonl", True),
    ".ndjson.gz": ("jsonl", True),
    ".parquet": ("parquet", False),
    ".pq": ("parquet", False),
}

# the csv module's own default cap on one field, stated in messages
_CSV_FIELD_LIMIT = csv.field_size_limit()


@dataclass(slots=True)
class RawTable:
    """A file's header and column values, before any validation.

    ``columns`` maps each column name to one value per data row (``None`` or "" when
    empty). ``lines`` holds the physical line where each row starts, for text formats.
    ``broken_rows`` maps a 0-based row index to the problem that made the whole row
    unreadable (a wrong field count, a line that is not a JSON object).
    """

    format: str
    header: list[str]
    columns: dict[str, list[Any]]
    n_rows: int
    lines: list[int] | None = None
    broken_rows: dict[int, RowProblem] = field(default_factory=dict)


def read_table(path: Path, content: bytes) -> RawTable:
    """Parse ``content`` (the bytes of ``path``) according to the file name's extension.

    Raises:
        DatasetError: for an unknown extension or a file that cannot be parsed.
    """
    kind, is_gzipped = _detect_format(path)
    if is_gzipped:
        content = _gunzip(path, content)
    if kind == "parquet":
        table = _read_parquet(path, content)
    else:
        text = _decode(path, content)
        table = _read_csv(path, text) if kind == "csv" else _read_jsonl(path, text)
    if table.n_rows == 0:
        what = "a header but no data rows" if kind == "csv" else "no incidents"
        raise DatasetError(f"{path}: the file has {what}; add at least one incident", path=str(path))
    return table


def _detect_format(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    for suffix in sorted(_SUFFIX_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIX_FORMATS[suffix]
    raise DatasetError(
        f"{path}: unknown dataset format {''.join(path.suffixes) or '(no extension)'!r}; "
        f"supported formats are {', '.join(SUPPORTED_FORMATS)}. Rename the file to match its format",
        path=str(path),
    )


def _gunzip(path: Path, content: bytes) -> bytes:
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{path}: not a valid gzip file ({exc}); compress it with gzip or drop the .gz extension",
            path=str(path),
        ) from exc


def _decode(path: Path, content: bytes) -> str:
    if b"\x00" in content:
        raise DatasetError(
            f"{path}: the file contains NUL bytes, so it is binary or UTF-16 text rather than "
            "UTF-8 text; save it as UTF-8 CSV or JSONL, or give a Parquet file the .parquet extension",
            path=str(path),
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"{path}: line {line} is not UTF-8 text (byte {content[exc.start]:#04x} at offset "
            f"{exc.start}); re-save the file as UTF-8, for example with iconv -f latin1 -t utf-8",
            path=str(path),
        ) from exc
    if not text.strip():
        raise DatasetError(f"{path}: the file is empty; add a header and incidents", path=str(path))
    return text


def _read_csv(path: Path, text: str) -> RawTable:
    # The stdlib C reader is used instead of pandas.read_csv: pandas silently drops
    # extra fields (or moves them into the index) and does not report on which physical line
    # a record starts, and both are needed to report every bad row.
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    broken: dict[int, RowProblem] = {}
    previous_line = 0
    try:
        for record in reader:
            start, previous_line = previous_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            width = len(header)
            if len(record) > width and not any(cell.strip() for cell in record[width:]):
                record = record[:width]
            if len(record) != width:
                broken[len(rows)] = RowProblem(
                    row=len(rows) + 1,
                    incident_id=None,
                    column=None,
                    value=short_repr(",".join(record)),
                    message=f"the row has {len(record)} fields but the header has {width}",
                    fix="quote values that contain commas or line breaks, and check for a missing delimiter",
                    code="field_count",
                    line=start,
                )
                record = (record + [""] * width)[:width]
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise DatasetError(
            f"{path}: line {reader.line_num} cannot be parsed as CSV ({exc}); values longer than "
            f"{_CSV_FIELD_LIMIT:,} characters are not supported, so check for an unclosed quote",
            path=str(path),
        ) from exc
    if header is None:
        # for example a file that holds only a quote character: the reader found no record
        raise DatasetError(
            f"{path}: the file has no header row that the CSV reader can parse; "
            "the first line must name the columns, such as incident_id,time,book_name,root_cause",
            path=str(path),
        )

    values = [list(cells) for cells in zip(*rows)] if rows else [[] for _ in header]
    columns: dict[str, list[Any]] = {}
    for position, (name, cells) in enumerate(zip(header, values), start=1):
        if not name:
            # spreadsheets often export an empty unnamed column: drop it, but name one with values
            if not any(cell.strip() for cell in cells):
                continue
            name = f"column_{position}"
        if name in columns:
            raise _duplicate_column(path, name)
        columns[name] = cells
    return RawTable("csv", list(columns), columns, len(rows), lines, broken)


def _check_unique(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _duplicate_column(path, name)
        seen.add(name)


def _duplicate_column(path: Path, name: str) -> DatasetError:
    return DatasetError(
        f"{path}: the column {short_repr(name)} appears more than once in the header; "
        "rename or remove the duplicate",
        path=str(path),
    )


def _read_jsonl(path: Path, text: str) -> RawTable:
    objects: list[dict[str, Any]] = []
    lines: list[int] = []
    broken: dict[int, RowProblem] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            parsed = json.loads(line)
        except (ValueError, RecursionError) as exc:
            message = f"the line is not valid JSON ({getattr(exc, 'msg', type(exc).__name__)})"
            parsed = None
        else:
            message = f"the line is a JSON {type(parsed).__name__}, not an object"
        if not isinstance(parsed, dict):
            broken[len(objects)] = RowProblem(
                row=len(objects) + 1,
                incident_id=None,
                column=None,
                value=short_repr(line),
                message=message,
                fix='write one JSON object per line, such as {"incident_id": "INC-1", ...}',
                code="invalid_json",
                line=number,
            )
            parsed = {}
        objects.append(parsed)
        lines.append(number)

    header: dict[str, None] = {}
    for obj in objects:
        for key in obj:
            header.setdefault(str(key), None)
    columns = {name: [obj.get(name) for obj in objects] for name in header}
    return RawTable("jsonl", list(header), columns, len(objects), lines, broken)


def _read_parquet(path: Path, content: bytes) -> RawTable:
    if content[:4] != b"PAR1":
        raise DatasetError(
            f"{path}: not a Parquet file (it does not start with the PAR1 marker); "
            "check that the file is complete and that its extension matches its format",
            path=str(path),
        )
    try:
        # read from the path, not from the bytes already in memory: an Arrow buffer that wraps
        # a Python bytes object may be released on an Arrow worker thread during interpreter
        # shutdown, which aborts the process ("terminate called without an active exception")
        table = pq.read_table(str(path))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetError(
            f"{path}: the Parquet file cannot be read ({exc}); re-export it", path=str(path)
        ) from exc
    _check_unique(path, table.column_names)

    columns: dict[str, list[Any]] = {}
    for name in table.column_names:
        column = table.column(name)
        try:
            if pa.types.is_timestamp(column.type) and column.type.unit != "us":
                # nanosecond values would come back as pandas Timestamps, not datetimes
                column = column.cast(pa.timestamp("us", tz=column.type.tz), safe=False)
            columns[name] = column.to_pylist()
        except (pa.ArrowException, ValueError, OverflowError) as exc:
            raise DatasetError(
                f"{path}: column {name!r} of type {column.type} cannot be read ({exc}); "
                "store times as timestamp[us, UTC] or ISO 8601 text",
                path=str(path),
            ) from exc
    return RawTable("parquet", list(table.column_names), columns, table.num_rows)
