"""The API client: request bodies and response classification, over a mock transport."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from replay.auth import StaticToken
from replay.client import ExecutionClient, build_request_body
from tests.helpers import make_incident

RESULT = {
    "highlights": "Root cause: pool exhaustion. Immediate action: raise the pool size.",
    "actionResults": [{"title": "Check metrics", "shortAnswer": "CPU 85%", "mostImportantLink": "https://g.example/d"}],
    "gadgetsHighlights": [{"title": "logs", "args": {"q": "error"}, "highlights": "many timeouts"}],
    "actionableMitigations": [{"toolName": "scale", "url": "https://ops.example/scale", "action": {"n": 2}}],
}


def _call(handler, body=None, *, batch=None, token="secret-token"):
    async def main():
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(base_url="http://api.test", transport=transport) as http:
            client = ExecutionClient(http, StaticToken(token), timeout=5)
            if batch is not None:
                return await client.execute_batch(batch)
            return await client.execute(body or {"bookName": "b", "time": "2026-07-01T00:00:00Z"})

    return anyio.run(main)


def test_body_never_posts() -> None:
    body = build_request_body(make_incident(), "incident-triage")
    assert body["liveRun"] is False
    assert "channelId" not in body
    assert body["time"] == "2026-07-01T01:00:00Z"
    assert body["bookName"] == "incident-triage"


def test_body_omits_missing_fields() -> None:
    body = build_request_body(make_incident(title=None, attributes={}), "b")
    assert "title" not in body
    assert "attributes" not in body
    assert None not in body.values()


def test_ok_result_parsed() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json=RESULT)

    outcome = _call(handler)
    assert outcome.kind == "ok"
    assert seen["auth"] == "Bearer secret-token"
    assert outcome.fields["highlights"].startswith("Root cause")
    assert outcome.fields["action_results"][0].most_important_link == "https://g.example/d"
    assert json.loads(outcome.fields["gadgets_highlights"][0].args_json) == {"q": "error"}
    assert outcome.fields["actionable_mitigations"][0].tool_name == "scale"


def test_200_with_error_is_playbook_error() -> None:
    outcome = _call(lambda r: httpx.Response(200, json={"error": "Failed to execute playbook: timeout"}))
    assert outcome.kind == "playbook_error"
    assert outcome.error == "Failed to execute playbook: timeout"
    assert not outcome.retryable


def test_no_data_error_kept_apart() -> None:
    outcome = _call(lambda r: httpx.Response(200, json={"error": "No data available for the requested time window"}))
    assert outcome.kind == "no_data"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses(status: int) -> None:
    outcome = _call(lambda r: httpx.Response(status, json={"error": "nope"}))
    assert outcome.kind == "auth"
    assert outcome.http_status == status


def test_400_not_retryable() -> None:
    outcome = _call(lambda r: httpx.Response(400, json={"error": [{"path": ["body", "time"], "message": "Required"}]}))
    assert outcome.kind == "http_error"
    assert not outcome.retryable
    assert "Required" in outcome.error


def test_429_retryable_with_retry_after() -> None:
    outcome = _call(lambda r: httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow down"}))
    assert outcome.retryable
    assert outcome.retry_after == 3.0


def test_malformed_json_is_invalid_response() -> None:
    outcome = _call(lambda r: httpx.Response(200, content=b'{"highlights": "Root'))
    assert outcome.kind == "invalid_response"
    assert outcome.retryable


def test_wrong_field_type_is_invalid_response() -> None:
    outcome = _call(lambda r: httpx.Response(200, json={"highlights": 42}))
    assert outcome.kind == "invalid_response"
    assert "highlights" in outcome.error


def test_connection_error_is_retryable_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    outcome = _call(handler)
    assert outcome.kind == "timeout"
    assert outcome.retryable


def test_batch_maps_results_in_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.url.path == "/playbook/execution/batch"
        assert body["liveRun"] is False
        assert "channelId" not in body
        return httpx.Response(200, json=[{"highlights": f"Root cause: {i['title']}"} for i in body["inputList"]])

    outcomes = _call(handler, batch=[{"bookName": "b", "title": "one"}, {"bookName": "b", "title": "two"}])
    assert [o.fields["highlights"] for o in outcomes] == ["Root cause: one", "Root cause: two"]


def test_batch_short_array_not_mapped() -> None:
    outcome = _call(lambda r: httpx.Response(200, json=[{"highlights": "x"}]), batch=[{"title": "a"}, {"title": "b"}])
    assert not isinstance(outcome, list)
    assert outcome.error.startswith("batch length")


def test_token_not_in_outcome() -> None:
    outcome = _call(lambda r: httpx.Response(401, json={"error": "bad token"}), token="tok-SECRET-123")
    assert "tok-SECRET-123" not in repr(outcome)


def test_echoed_token_redacted() -> None:
    token = "tok-SECRET-echo-4242"

    def handler(request: httpx.Request) -> httpx.Response:
        echoed = request.headers["authorization"]
        return httpx.Response(200, json={"highlights": f"Root cause: you sent {echoed}"})

    outcome = _call(handler, token=token)
    assert outcome.kind == "ok"
    assert token not in outcome.fields["highlights"]
    assert token not in outcome.body_text
    assert "[redacted]" in outcome.fields["highlights"]


def test_oversized_body_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    import replay.client

    monkeypatch.setattr(replay.client, "MAX_RESPONSE_BYTES", 1000)

    async def main():
        transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"highlights": "x" * 5000}))
        async with httpx.AsyncClient(base_url="http://api.test", transport=transport) as http:
            client = ExecutionClient(http, StaticToken("t"), timeout=5, transport=transport)
            return await client.execute({"bookName": "b", "time": "2026-07-01T00:00:00Z"})

    outcome = anyio.run(main)
    assert outcome.kind == "invalid_response"
    assert "larger than 1000 bytes" in outcome.error


def test_body_pads_early_year() -> None:
    import datetime as dt

    incident = make_incident(time=dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc))
    assert build_request_body(incident, "b")["time"] == "0001-01-01T00:00:00Z"
