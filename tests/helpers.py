"""Builders shared by the tests."""

from __future__ import annotations

import datetime as dt

from replay.models import Incident, Label


def make_incident(number: int = 1, **overrides: object) -> Incident:
    """Build a valid incident with a labeled root cause."""
    fields: dict[str, object] = {
        "incident_id": f"INC-{number:04d}",
        "time": dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=number),
        "label": Label(root_cause="Connection pool exhaustion in orders-db after a traffic spike",
                       component="orders-db", category="connection_pool_exhaustion",
                       keywords=("connection pool", "exhaustion")),
        "book_name": "incident-triage",
        "title": f"High error rate on checkout-api #{number}",
        "attributes": {"environment": "production"},
        "row": number,
    }
    fields.update(overrides)
    return Incident(**fields)  # type: ignore[arg-type]
