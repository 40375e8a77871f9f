"""Records that flow through a replay: incidents, labels, execution results and scores.

Hot-path records are frozen, slotted dataclasses: a run may hold 100,000 of them and
scorers are called once per (execution, scorer) pair.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "ERROR_STATUSES",
    "STATUSES",
    "VERDICTS",
    "ActionResult",
    "ActionableMitigation",
    "ExecutionResult",
    "GadgetHighlight",
    "Incident",
    "Label",
    "Score",
    "Status",
    "Verdict",
]

Status = Literal[
    "ok",
    "playbook_error",
    "no_data",
    "http_error",
    "timeout",
    "invalid_response",
    "invalid_input",
    "cancelled",
]
"""Terminal status of one execution. Exactly one per execution.

- ``ok``: HTTP 200 without ``error``; ``highlights`` contains the playbook's conclusion.
- ``playbook_error``: the API answered with an ``error`` field (HTTP 200 or 500).
- ``no_data``: the API's error says the observability backends hold no data for the
  incident's time window; kept apart from a wrong answer.
- ``http_error``: a non-retryable or retry-exhausted HTTP status (400, 401, 403, 404, 5xx...).
- ``timeout``: every attempt timed out or hit a connection error.
- ``invalid_response``: the body was not JSON or did not match the contract.
- ``invalid_input``: the dataset row failed validation and was never sent.
- ``cancelled``: the run was stopped before this execution finished.
"""

STATUSES: tuple[Status, ...] = get_args(Status)

# statuses that count as failures of the execution itself (not of the answer)
ERROR_STATUSES: frozenset[str] = frozenset(STATUSES) - {"ok", "invalid_input", "cancelled"}

Verdict = Literal["correct", "partial", "incorrect", "unscored"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)


@dataclass(frozen=True, slots=True)
class Label:
    """The labeled root cause of an incident, as people recorded it."""

    root_cause: str
    component: str | None = None
    category: str | None = None
    keywords: tuple[str, ...] = ()
    component_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Incident:
    """One validated dataset row.

    ``time`` is timezone-aware UTC. ``row`` is the 1-based data row number in the source
    file (the header is not counted), used in messages.
    """

    incident_id: str
    time: dt.datetime | None
    label: Label
    book_name: str | None = None
    title: str | None = None
    details: str | None = None
    message_link: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    human_verdict: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    row: int = 0


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One entry of the API's ``actionResults``."""

    title: str | None = None
    short_answer: str | None = None
    most_important_link: str | None = None


@dataclass(frozen=True, slots=True)
class GadgetHighlight:
    """One entry of the API's ``gadgetsHighlights``; ``args_json`` is the JSON text of ``args``."""

    title: str
    highlights: str | None = None
    args_json: str | None = None


@dataclass(frozen=True, slots=True)
class ActionableMitigation:
    """One entry of the API's ``actionableMitigations``; ``action_json`` is JSON text."""

    tool_name: str
    custom_name: str | None = None
    url: str | None = None
    action_json: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The outcome of one execution: (incident, book, repeat).

    Durations are in seconds. ``latency_s`` is the service time of the final attempt;
    ``queue_s`` is time spent waiting for a concurrency slot or a rate-limit slot and
    ``backoff_s`` the time slept between attempts.
    """

    execution_key: str
    incident_id: str
    book_name: str
    repeat: int
    status: Status
    attempts: int = 0
    http_status: int | None = None
    latency_s: float | None = None
    queue_s: float = 0.0
    backoff_s: float = 0.0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    error: str | None = None
    highlights: str | None = None
    action_results: tuple[ActionResult, ...] = ()
    gadgets_highlights: tuple[GadgetHighlight, ...] = ()
    actionable_mitigations: tuple[ActionableMitigation, ...] = ()
    enrichment_link: str | None = None
    response_body: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """A scorer's judgement of one execution.

    ``value`` is in [0, 1], or None when ``verdict`` is ``unscored`` (``explanation``
    then gives the reason). ``extracted`` is the root-cause statement the scorer looked at.
    """

    value: float | None
    verdict: Verdict
    explanation: str = ""
    extracted: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def unscored(cls, reason: str) -> Score:
        """Build the explicit "could not score" state."""
        return cls(value=None, verdict="unscored", explanation=reason)
