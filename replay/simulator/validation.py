"""Request validation of the simulator, with the API's two error shapes.

Schema failures become ``{"error": [{"path": [...], "message": ...}]}`` and a body that is
not JSON becomes ``{"error": "..."}``. Unknown fields are accepted and ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_BATCH",
    "ExecutionInput",
    "ValidationFailure",
    "parse_batch",
    "parse_execution",
    "parse_json",
    "parse_time",
]

MAX_BATCH = 10
"""Most inputs one batch request may carry."""

_STRING_FIELDS = ("bookName", "title", "details", "messageLink", "channelId")
# RFC 3339 date-time, as JSON Schema's "date-time" format defines it.
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


class ValidationFailure(Exception):
    """Raised for an invalid request; ``error`` is the value of the 400 body's ``error``."""

    def __init__(self, error: str | list[dict[str, Any]]) -> None:
        super().__init__(error if isinstance(error, str) else json.dumps(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class ExecutionInput:
    """One validated ``PlaybookExecutionInput``."""

    book_name: str | None = None
    time: dt.datetime | None = None
    """Timezone-aware, as sent (not yet converted to UTC)."""
    title: str | None = None
    details: str | None = None
    message_link: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    is_live_run: bool = False
    channel_id: str | None = None


def parse_json(raw: bytes) -> Any:
    """Decode a request body.

    Raises:
        ValidationFailure: The body is empty or not JSON (plain string error).
    """
    if not raw.strip():
        raise ValidationFailure("Invalid input format: the request body is empty")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValidationFailure(f"Invalid input format: body is not valid JSON ({exc})") from exc


def parse_time(text: str) -> dt.datetime | None:
    """Parse an RFC 3339 date-time; return None when ``text`` is not one."""
    found = _DATE_TIME.fullmatch(text)
    if not found:
        return None
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction = found.group(7) or ""
    # RFC 3339 allows a leap second (:60); datetime does not, so it becomes :59.
    second = min(second, 59)
    if found.group(8):
        zone = dt.timezone.utc
    else:
        hours, minutes = int(found.group(10)), int(found.group(11))
        if hours > 23 or minutes > 59:
            return None
        sign = -1 if found.group(9) == "-" else 1
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        return None


def parse_execution(body: Any, path: tuple[str, ...] = ("body",)) -> ExecutionInput:
    """Validate one ``PlaybookExecutionInput``.

    Raises:
        ValidationFailure: The input breaks the schema or the rules (list of issues).
    """
    issues: list[dict[str, Any]] = []
    parsed = _check_execution(body, list(path), issues)
    if issues or parsed is None:
        raise ValidationFailure(issues)
    return parsed


def parse_batch(body: Any) -> tuple[list[ExecutionInput], bool, str | None]:
    """Validate a batch body; return its inputs, its ``liveRun`` and its ``channelId``.

    Raises:
        ValidationFailure: The body, its ``inputList`` or any input is invalid (list of issues).
    """
    issues: list[dict[str, Any]] = []
    if not isinstance(body, Mapping):
        raise ValidationFailure([_issue(["body"], _expected("object", body))])

    inputs: list[ExecutionInput] = []
    input_list = body.get("inputList")
    if "inputList" not in body:
        issues.append(_issue(["body", "inputList"], "Required"))
    elif not isinstance(input_list, list):
        issues.append(_issue(["body", "inputList"], _expected("array", input_list)))
    elif not 1 <= len(input_list) <= MAX_BATCH:
        bound = "at least 1" if not input_list else f"at most {MAX_BATCH}"
        issues.append(_issue(["body", "inputList"], f"Array must contain {bound} element(s)"))
    else:
        for index, item in enumerate(input_list):
            parsed = _check_execution(item, ["body", "inputList", str(index)], issues)
            if parsed is not None:
                inputs.append(parsed)

    is_live_run = _optional(body, "liveRun", bool, "boolean", ["body"], issues) or False
    channel_id = _optional(body, "channelId", str, "string", ["body"], issues)
    if issues:
        raise ValidationFailure(issues)
    return inputs, bool(is_live_run), channel_id


def _check_execution(
    body: Any, path: list[str], issues: list[dict[str, Any]]
) -> ExecutionInput | None:
    if not isinstance(body, Mapping):
        issues.append(_issue(path, _expected("object", body)))
        return None
    before = len(issues)
    strings = {name: _optional(body, name, str, "string", path, issues) for name in _STRING_FIELDS}
    is_live_run = _optional(body, "liveRun", bool, "boolean", path, issues)

    time = None
    time_text = _optional(body, "time", str, "string", path, issues)
    if time_text is not None:
        time = parse_time(time_text)
        if time is None:
            issues.append(
                _issue(
                    [*path, "time"],
                    "Invalid datetime: expected ISO 8601 such as 2025-01-15T10:30:00Z",
                )
            )

    attributes: dict[str, str] = {}
    raw_attributes = body.get("attributes")
    if "attributes" in body and not isinstance(raw_attributes, Mapping):
        issues.append(_issue([*path, "attributes"], _expected("object", raw_attributes)))
    elif isinstance(raw_attributes, Mapping):
        for key, value in raw_attributes.items():
            if isinstance(value, str):
                attributes[str(key)] = value
            else:
                issues.append(_issue([*path, "attributes", str(key)], _expected("string", value)))

    # the contract's rules on top of the field types
    if "messageLink" not in body and "time" not in body:
        issues.append(_issue([*path, "time"], "Required: give time or messageLink"))
    if not any(name in body for name in ("bookName", "messageLink", "title")):
        issues.append(_issue([*path, "title"], "Required: give bookName, messageLink or title"))

    if len(issues) > before:
        return None
    return ExecutionInput(
        book_name=strings["bookName"],
        time=time,
        title=strings["title"],
        details=strings["details"],
        message_link=strings["messageLink"],
        attributes=attributes,
        is_live_run=bool(is_live_run),
        channel_id=strings["channelId"],
    )


def _optional(
    body: Mapping[str, Any],
    name: str,
    kind: type,
    kind_name: str,
    path: list[str],
    issues: list[dict[str, Any]],
) -> Any:
    if name not in body:
        return None
    value = body[name]
    # bool is an int subclass in Python but not a JSON number, and vice versa here
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        issues.append(_issue([*path, name], _expected(kind_name, value)))
        return None
    return value


def _expected(kind_name: str, value: Any) -> str:
    return f"Expected {kind_name}, received {_json_type(value)}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _issue(path: list[str], message: str) -> dict[str, Any]:
    return {"path": list(path), "message": message}
