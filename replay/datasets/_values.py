"""Conversion of one cell into the value an Incident holds: text, lists, attributes, times.

Internal module. Each converter raises ``InvalidValue`` with a message and a fix; the row
validator turns that into a ``RowProblem``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

__all__ = [
    "MAX_TEXT_CHARS",
    "VERDICTS",
    "InvalidValue",
    "as_attributes",
    "as_link",
    "as_list",
    "as_metadata",
    "as_text",
    "as_time",
    "as_verdict",
]

# A guard against runaway cells (a broken quote that swallows the rest of a file); long
# incident details or log excerpts stay far below it.
MAX_TEXT_CHARS = 100_000

VERDICTS = ("correct", "partial", "incorrect")

_EXAMPLE_TIME = "2026-07-14T03:12:00Z"
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class InvalidValue(Exception):  # noqa: N818 - a signal between modules, never shown raw
    """A cell failed conversion; ``message`` names the column, ``fix`` is the action that repairs it."""

    def __init__(self, code: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix


def as_text(value: Any, column: str) -> str | None:
    """Convert a scalar cell to stripped text; empty and missing cells become None."""
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
        if len(text) <= MAX_TEXT_CHARS:
            return text or None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        if math.isnan(value):
            return None
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    elif isinstance(value, (dt.datetime, dt.date)):
        text = value.isoformat()
    elif isinstance(value, bytes):
        try:
            text = value.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InvalidValue(
                "not_text", f"{column} holds bytes that are not UTF-8 text", "store it as UTF-8 text"
            ) from None
    elif isinstance(value, (list, tuple, dict)):
        kind = "an object" if isinstance(value, dict) else "a list"
        raise InvalidValue("not_text", f"{column} is {kind}, not text", f"write {column} as plain text")
    else:
        text = str(value).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidValue(
            "too_long",
            f"{column} has {len(text):,} characters, more than the limit of {MAX_TEXT_CHARS:,}",
            "shorten the value, or check for an unclosed quote that swallowed later rows",
        )
    return text or None


def as_metadata(value: Any, column: str) -> str | None:
    """Convert a metadata cell to text; lists and objects become their JSON text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, dict)):
        value = json.dumps(value, default=str, ensure_ascii=False)
    elif isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return as_text(value, column)


def as_list(value: Any, column: str) -> tuple[str, ...]:
    """Convert a list cell (a list, a JSON array text or ';'-separated text) to unique items."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                value = text.split(";")
            if not isinstance(value, list):
                value = [text]
        else:
            value = text.split(";")
    elif isinstance(value, dict) or not isinstance(value, (list, tuple)):
        raise InvalidValue(
            "invalid_list",
            f"{column} is neither a list nor ';'-separated text",
            f"write {column} as items separated by ';', such as 'timeout;connection pool'",
        )
    items: dict[str, None] = {}
    for item in value:
        text = as_text(item, column)
        if text:
            items[text] = None
    return tuple(items)


def as_attributes(value: Any, column: str) -> dict[str, str]:
    """Convert an attributes cell (JSON object text, object, or Parquet map pairs) to str -> str."""
    if value is None:
        return {}
    pairs: Any = value
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            pairs = json.loads(value)
        except (ValueError, RecursionError):
            pairs = None
    if isinstance(pairs, dict):
        items = list(pairs.items())
    elif isinstance(pairs, list) and not any(type(p) is not tuple or len(p) != 2 for p in pairs):
        items = pairs
    else:
        raise InvalidValue(
            "invalid_attributes",
            f"{column} is not a JSON object",
            'write a JSON object of strings, such as {"host": "web-1", "region": "eu-west-1"}',
        )
    attributes: dict[str, str] = {}
    for key, item in items:
        if type(item) is str and len(item) <= MAX_TEXT_CHARS:
            text: str | None = item.strip() or None
        else:
            text = as_metadata(item, f"{column}.{key}")
        if text is not None:
            attributes[str(key)] = text
    return attributes


def as_verdict(value: Any, column: str) -> str | None:
    """Convert a human verdict to lower case and check it is correct, partial or incorrect."""
    text = as_text(value, column)
    if text is None:
        return None
    verdict = text.lower()
    if verdict not in VERDICTS:
        raise InvalidValue(
            "invalid_verdict",
            f"{column} is not one of correct, partial, incorrect",
            "write correct, partial or incorrect, or leave the cell empty",
        )
    return verdict


def as_link(value: Any, column: str) -> str | None:
    """Convert a message link and check that it is an http or https URL."""
    text = as_text(value, column)
    if text is not None and not text.lower().startswith(("http://", "https://")):
        raise InvalidValue(
            "invalid_link",
            f"{column} is not an http or https URL",
            "write the full link, such as https://example.slack.com/archives/C123/p1720926720",
        )
    return text


def as_time(
    value: Any, column: str, zone: dt.tzinfo | None, allow_partial_dates: bool
) -> dt.datetime | None:
    """Convert an ISO 8601 text, datetime or date cell to an aware UTC datetime.

    A zone-less value takes ``zone`` and fails without one. A date-only or partial value
    (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) becomes the start of that period in ``zone``
    (UTC when None), and fails unless ``allow_partial_dates`` is set.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _to_utc(value, value.isoformat(), column, zone)
    if isinstance(value, dt.date):
        return _partial(value, column, zone, allow_partial_dates)
    if not isinstance(value, str):
        raise InvalidValue(
            "invalid_time",
            f"{column} is a {type(value).__name__}, not an ISO 8601 timestamp",
            f"write the time as text such as {_EXAMPLE_TIME}",
        )
    text = value.strip()
    if not text:
        return None

    partial = _PARTIAL_DATE.fullmatch(text)
    if partial:
        parts = [int(p) for p in partial.groups() if p is not None]
        try:
            start = dt.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
        except ValueError:
            raise _invalid_time(column) from None
        return _partial(start, column, zone, allow_partial_dates)

    if text.endswith("z"):
        text = text[:-1] + "Z"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _invalid_time(column) from None
    return _to_utc(parsed, text, column, zone)


def _to_utc(value: dt.datetime, text: str, column: str, zone: dt.tzinfo | None) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        if zone is None:
            raise InvalidValue(
                "zoneless_time",
                f"{column} has no time zone",
                f"add a zone offset such as {_EXAMPLE_TIME}, or pass --time-zone Europe/Berlin",
            )
        value = value.replace(tzinfo=zone)
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise InvalidValue(
            "invalid_time", f"{column} is outside the years 1 to 9999 in UTC", f"write a time such as {_EXAMPLE_TIME}"
        ) from None


def _partial(start: dt.date, column: str, zone: dt.tzinfo | None, allow_partial_dates: bool) -> dt.datetime:
    zone_name = str(zone) if zone is not None else "UTC"
    if not allow_partial_dates:
        raise InvalidValue(
            "partial_time",
            f"{column} is a date without a time of day",
            f"pass --allow-partial-dates to run date-only rows at midnight {zone_name}, "
            f"or write a full timestamp such as {_EXAMPLE_TIME}",
        )
    midnight = dt.datetime(start.year, start.month, start.day)
    return _to_utc(midnight, midnight.isoformat(), column, zone or dt.timezone.utc)


def _invalid_time(column: str) -> InvalidValue:
    return InvalidValue(
        "invalid_time",
        f"{column} is not an ISO 8601 timestamp",
        f"write the time like {_EXAMPLE_TIME} (or with an offset such as +02:00)",
    )
