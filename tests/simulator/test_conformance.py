"""Conformance of the served simulator to its own OpenAPI document, over real loopback HTTP.

The simulator runs under uvicorn on 127.0.0.1 with the bundled sample as its world and a
required token. Schemathesis sends positive and negative cases to both endpoints, and the
explicit tests below check that every kind of real answer validates against the documented
response schema.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.openapi.checks import JsonSchemaError
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from replay.client import build_request_body
from replay.datasets import load_incidents
from replay.models import Incident
from replay.simulator import FaultConfig, SimulatorConfig, World, create_app, serve_in_thread

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "q3.parquet"
TOKEN = "conformance-token"
EXECUTION = "/playbook/execution"
BATCH = "/playbook/execution/batch"
# a fixed "now" and retention, so that generated times older than a year get the no-data error
# and later ones reach the world
NOW = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
RETENTION_DAYS = 365.0
ANSWER_KINDS = ("correct", "partial", "wrong", "inconclusive")


def _sample_incidents() -> list[Incident]:
    return load_incidents(SAMPLE).incidents


def _config(**overrides: Any) -> SimulatorConfig:
    fields: dict[str, Any] = {
        "world": World.from_incidents(_sample_incidents()),
        "token": TOKEN,
        "latency_scale": 0.0,
        "retention_days": RETENTION_DAYS,
        "now": NOW,
    }
    fields.update(overrides)
    return SimulatorConfig(**fields)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Any]]:
    """A simulator of the bundled sample on loopback: its base URL and its app."""
    app = create_app(_config())
    with serve_in_thread(app) as base_url:
        yield base_url, app


def _load_schema() -> Any:
    text = resources.files("replay.simulator").joinpath("openapi.json").read_text(encoding="utf-8")
    loaded = schemathesis.openapi.from_dict(json.loads(text))
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


# NOTE: loaded from the package, not from the server: schemathesis 4.32 ``from_fixture`` fails
# under pytest 9.2 ('Function' object has no attribute '_nodeid'). test_served_document_is_packaged
# checks that the server publishes this same document.
served_schema = _load_schema()


@pytest.fixture(scope="module")
def api_schema() -> Any:
    """The simulator's OpenAPI document, for validating responses by hand."""
    return served_schema


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_served_document_is_packaged(served: tuple[str, Any]) -> None:
    base_url, _ = served
    response = httpx.get(f"{base_url}/openapi.json", timeout=10.0)

    assert response.status_code == 200
    assert response.json() == served_schema.raw_schema


@served_schema.parametrize()
@settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_served_conformance(case: Any, served: tuple[str, Any]) -> None:
    base_url, _ = served
    case.call_and_validate(base_url=base_url, headers=_auth())


def test_served_cases_reach_world(served: tuple[str, Any]) -> None:
    # runs after the generated cases (pytest keeps file order), so the log shows what they hit
    _, app = served
    entries = app.state.request_log.entries
    if not entries:
        pytest.skip("run together with test_served_conformance, whose cases it inspects")
    statuses = {entry["status"] for entry in entries}
    kinds = {item["kind"] for entry in entries for item in entry["answers"]}
    endpoints = {entry["endpoint"] for entry in entries}

    assert {200, 400, 401} <= statuses, statuses
    assert {EXECUTION, BATCH} <= endpoints
    assert {"no_data", "unknown_book", "no_match"} <= kinds, kinds


# Real answers, labelled by the request log, validated against the documented schema.


def _post(base_url: str, path: str, body: Any) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        return client.post(path, json=body, headers=_auth())


def _kinds_of(app: Any, since: int) -> list[str]:
    entries = app.state.request_log.entries[since:]
    return [item["kind"] for entry in entries for item in entry["answers"]]


@pytest.fixture(scope="module")
def answered() -> Iterator[dict[str, list[tuple[dict[str, Any], httpx.Response]]]]:
    """One real single-request response per answer kind, from a fresh simulator of the sample."""
    app = create_app(_config())
    found: dict[str, list[tuple[dict[str, Any], httpx.Response]]] = {}
    with serve_in_thread(app) as base_url:
        for incident in _sample_incidents():
            body = build_request_body(incident, "incident-triage")
            before = len(app.state.request_log.entries)
            response = _post(base_url, EXECUTION, body)
            (kind,) = _kinds_of(app, before)
            found.setdefault(kind, []).append((body, response))
            if all(name in found for name in ANSWER_KINDS):
                break

        body = build_request_body(_sample_incidents()[0], "no-such-book")
        found["unknown_book"] = [(body, _post(base_url, EXECUTION, body))]

        body = build_request_body(_sample_incidents()[0], "incident-triage")
        body["time"] = "2020-01-01T00:00:00Z"
        found["no_data"] = [(body, _post(base_url, EXECUTION, body))]
    yield found


@pytest.mark.parametrize("kind", [*ANSWER_KINDS, "unknown_book", "no_data"])
def test_answer_matches_schema(answered, api_schema: Any, kind: str) -> None:
    assert kind in answered, f"the sample produced no {kind} answer: {sorted(answered)}"
    _, response = answered[kind][0]

    assert response.status_code == 200
    api_schema[EXECUTION]["POST"].validate_response(response)


def test_answer_bodies_differ_by_kind(answered) -> None:
    bodies = {kind: answered[kind][0][1].json() for kind in answered}

    for kind in ANSWER_KINDS:
        assert "highlights" in bodies[kind], kind
        assert "error" not in bodies[kind], kind
    assert bodies["unknown_book"]["error"] == "Playbook 'no-such-book' not found"
    assert "no data" in bodies["no_data"]["error"].lower()


def test_batch_answers_match_schema(answered, served: tuple[str, Any], api_schema: Any) -> None:
    base_url, _ = served
    items = [answered[kind][0][0] for kind in (*ANSWER_KINDS, "unknown_book", "no_data")]
    response = _post(base_url, BATCH, {"inputList": items, "liveRun": False})

    assert response.status_code == 200
    assert len(response.json()) == len(items)
    api_schema[BATCH]["POST"].validate_response(response)


def test_failed_investigation_matches_schema(api_schema: Any) -> None:
    # an HTTP 200 with only ``error``: the simulator's stand-in for a failed investigation
    app = create_app(_config(faults=FaultConfig(error_200_rate=1.0)))
    body = build_request_body(_sample_incidents()[0], "incident-triage")
    with serve_in_thread(app) as base_url:
        single = _post(base_url, EXECUTION, body)
        batch = _post(base_url, BATCH, {"inputList": [body, body], "liveRun": False})

    assert "error" in single.json()
    api_schema[EXECUTION]["POST"].validate_response(single)
    api_schema[BATCH]["POST"].validate_response(batch)


def test_schema_rejects_broken_answer(answered, api_schema: Any) -> None:
    # the validation above can fail: the same answer with a wrongly typed field does not pass
    _, response = answered["correct"][0]
    body = response.json()
    body["highlights"] = 42
    broken = httpx.Response(200, json=body, request=response.request)
    broken.read()
    broken.elapsed = response.elapsed

    with pytest.raises(JsonSchemaError, match="42 is not of type"):
        api_schema[EXECUTION]["POST"].validate_response(broken)
