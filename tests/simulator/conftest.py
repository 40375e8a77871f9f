"""Builders for the simulator tests: worlds of incidents and an in-process client."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from replay.client import build_request_body
from replay.models import Incident, Label
from replay.simulator import SimulatorConfig, World, create_app

TOKEN = "test-token"
START = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)

# (category, component, root cause) per kind of incident; cycled to build larger worlds
CASES: tuple[tuple[str, str, str], ...] = (
    (
        "connection_pool_exhaustion",
        "orders-db",
        "Connection pool of orders-db exhausted after a traffic spike",
    ),
    ("bad_deploy", "checkout-api", "A faulty release of checkout-api caused null pointer errors"),
    ("certificate_expiry", "edge-proxy", "The TLS certificate of edge-proxy expired overnight"),
    ("dns_failure", "coredns", "CoreDNS pods crashed and name resolution failed for all services"),
    (
        "lock_contention",
        "billing-db",
        "Long transactions in billing-db held row locks and blocked writes",
    ),
    ("config_change", "search-api", "A config change set the search-api timeout to 10 ms"),
    ("memory_leak", "image-worker", "A memory leak in image-worker caused repeated OOM kills"),
    ("schema_migration", "users-db", "A schema migration on users-db locked the accounts table"),
)


def make_incident(number: int, *, with_label_details: bool = True, **overrides: Any) -> Incident:
    """Build incident ``number`` of the cycled cases, one hour after the previous one."""
    category, component, root_cause = CASES[number % len(CASES)]
    label = (
        Label(root_cause=root_cause, component=component, category=category, keywords=(component,))
        if with_label_details
        else Label(root_cause=root_cause)
    )
    fields: dict[str, Any] = {
        "incident_id": f"INC-{number:04d}",
        "time": START + dt.timedelta(hours=number),
        "label": label,
        "book_name": "incident-triage",
        "title": f"Alert {number} on {component}",
        "details": f"Error rate above threshold for {component}",
        "attributes": {"environment": "production", "service": component},
        "row": number + 1,
    }
    fields.update(overrides)
    return Incident(**fields)


def make_world(count: int = 16, **overrides: Any) -> tuple[World, list[Incident]]:
    """Build a world of ``count`` incidents and return it with the incidents."""
    incidents = [make_incident(number, **overrides) for number in range(count)]
    return World.from_incidents(incidents), incidents


def body_for(incident: Incident, book: str = "incident-triage") -> dict[str, Any]:
    """Return the request body the replay client sends for ``incident``."""
    return build_request_body(incident, book)


class AppClient:
    """Synchronous client that calls an app in-process through ``httpx.ASGITransport``."""

    def __init__(self, app: Any, token: str | None = TOKEN) -> None:
        self.app = app
        self.token = token

    @property
    def log(self) -> list[dict[str, Any]]:
        """The app's request log entries."""
        return self.app.state.request_log.entries

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        is_authorized: bool = True,
    ) -> httpx.Response:
        """Send one POST and return the response."""
        sent = dict(headers or {})
        if is_authorized and self.token is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://simulator"
            ) as client:
                if content is not None:
                    return await client.post(path, content=content, headers=sent)
                return await client.post(path, json=json, headers=sent)

        return asyncio.run(send())

    def get(self, path: str) -> httpx.Response:
        """Send one GET without credentials and return the response."""

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://simulator"
            ) as client:
                return await client.get(path)

        return asyncio.run(send())

    def execute(self, body: Any, **kwargs: Any) -> httpx.Response:
        """POST to the single-execution endpoint."""
        return self.post("/playbook/execution", body, **kwargs)

    def batch(self, body: Any, **kwargs: Any) -> httpx.Response:
        """POST to the batch endpoint."""
        return self.post("/playbook/execution/batch", body, **kwargs)


def make_client(**settings: Any) -> AppClient:
    """Build an instant-latency simulator with ``settings`` and a client for it."""
    settings.setdefault("latency_scale", 0.0)
    settings.setdefault("token", TOKEN)
    return AppClient(create_app(SimulatorConfig(**settings)))


@pytest.fixture
def world() -> World:
    """A world of 16 labeled incidents."""
    return make_world(16)[0]
