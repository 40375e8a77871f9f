"""Authentication, validation and contract behaviour of the simulator app, in-process."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from replay.errors import ConfigError
from replay.simulator import SimulatorConfig, World, create_app

from .conftest import START, TOKEN, body_for, make_client, make_incident, make_world

VALID = {
    "bookName": "incident-triage",
    "time": "2026-07-01T00:00:00Z",
    "title": "t",
    "liveRun": False,
}


def test_missing_header_is_401() -> None:
    client = make_client()
    response = client.execute(VALID, is_authorized=False)
    assert response.status_code == 401
    assert isinstance(response.json()["error"], str)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_is_401() -> None:
    client = make_client()
    response = client.execute(VALID, headers={"Authorization": "Bearer other"})
    assert response.status_code == 401


def test_basic_scheme_is_401() -> None:
    client = make_client()
    response = client.execute(VALID, headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401


def test_any_bearer_without_token() -> None:
    client = make_client(token=None)
    assert client.execute(VALID, headers={"Authorization": "Bearer anything"}).status_code == 200
    assert client.execute(VALID, headers={"Authorization": "Bearer "}).status_code == 401
    assert client.execute(VALID, is_authorized=False).status_code == 401


def test_forbidden_is_403() -> None:
    client = make_client(is_forbidden=True)
    response = client.execute(VALID)
    assert response.status_code == 403
    assert response.json() == {"error": "Client ID not configured for organization"}


def test_malformed_json_string_error() -> None:
    client = make_client()
    response = client.execute(None, content=b'{"bookName": ')
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


def test_empty_body_string_error() -> None:
    response = make_client().execute(None, content=b"")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_wrong_types_list_issues() -> None:
    body = {**VALID, "title": 5, "liveRun": "no", "attributes": {"host": 1}}
    response = make_client().execute(body)
    assert response.status_code == 400
    issues = response.json()["error"]
    paths = [issue["path"] for issue in issues]
    assert ["body", "title"] in paths
    assert ["body", "liveRun"] in paths
    assert ["body", "attributes", "host"] in paths
    assert all(isinstance(issue["message"], str) for issue in issues)


def test_body_not_object_is_issue() -> None:
    response = make_client().execute([1, 2])
    assert response.status_code == 400
    assert response.json()["error"][0]["path"] == ["body"]


def test_time_or_link_required() -> None:
    response = make_client().execute({"bookName": "incident-triage", "title": "t"})
    assert response.status_code == 400
    assert response.json()["error"][0]["path"] == ["body", "time"]


def test_link_alone_is_enough() -> None:
    response = make_client().execute({"messageLink": "https://slack.com/archives/C1/p1"})
    assert response.status_code == 200


def test_title_required_without_book() -> None:
    response = make_client().execute({"time": "2026-07-01T00:00:00Z", "details": "d"})
    assert response.status_code == 400
    assert response.json()["error"][0]["path"] == ["body", "title"]


def test_book_and_time_alone_ok() -> None:
    response = make_client().execute({"bookName": "db-checks", "time": "2026-07-01T00:00:00Z"})
    assert response.status_code == 200
    assert "highlights" in response.json()


@pytest.mark.parametrize(
    "text", ["yesterday", "2026-07-01", "2026-13-01T00:00:00Z", "2026-07-01T00:00:00"]
)
def test_invalid_time_rejected(text: str) -> None:
    response = make_client().execute({**VALID, "time": text})
    assert response.status_code == 400
    assert response.json()["error"][0]["path"] == ["body", "time"]


@pytest.mark.parametrize(
    "text", ["2026-07-01T00:00:00+02:00", "2026-07-01t00:00:00.123456789z", "2016-12-31T23:59:60Z"]
)
def test_rfc3339_times_accepted(text: str) -> None:
    assert make_client().execute({**VALID, "time": text}).status_code == 200


def test_unknown_fields_tolerated() -> None:
    response = make_client().execute({**VALID, "priority": "P1", "extra": {"nested": [1]}})
    assert response.status_code == 200


def test_batch_size_limits() -> None:
    client = make_client()
    assert client.batch({"inputList": []}).status_code == 400
    too_many = client.batch({"inputList": [VALID] * 11})
    assert too_many.status_code == 400
    assert too_many.json()["error"][0]["path"] == ["body", "inputList"]
    full = client.batch({"inputList": [VALID] * 10, "liveRun": False})
    assert full.status_code == 200
    assert len(full.json()) == 10


def test_batch_requires_input_list() -> None:
    response = make_client().batch({"liveRun": False})
    assert response.status_code == 400
    assert response.json()["error"][0] == {"path": ["body", "inputList"], "message": "Required"}


def test_batch_item_issue_path() -> None:
    response = make_client().batch({"inputList": [VALID, {"title": "no time"}]})
    assert response.status_code == 400
    assert response.json()["error"][0]["path"] == ["body", "inputList", "1", "time"]


def test_batch_results_follow_inputs() -> None:
    world, incidents = make_world(4)
    client = make_client(world=world)
    response = client.batch(
        {"inputList": [body_for(incident) for incident in incidents], "liveRun": False}
    )
    assert response.status_code == 200
    assert len(response.json()) == 4
    matched = [item["incident_id"] for item in client.log[-1]["answers"]]
    assert matched == [incident.incident_id for incident in incidents]


def test_unknown_book_single_and_batch() -> None:
    client = make_client()
    for _ in range(2):
        response = client.execute({**VALID, "bookName": "perf-checks"})
        assert response.status_code == 200
        assert response.json() == {"error": "Playbook 'perf-checks' not found"}
    batch = client.batch({"inputList": [VALID, {**VALID, "bookName": "perf-checks"}]})
    results = batch.json()
    assert "highlights" in results[0]
    assert results[1] == {"error": "Playbook 'perf-checks' not found"}
    assert client.log[-1]["answers"][1]["kind"] == "unknown_book"


def test_missing_book_uses_default() -> None:
    client = make_client(default_book="db-checks")
    client.execute({"time": "2026-07-01T00:00:00Z", "title": "t"})
    assert client.log[-1]["answers"][0]["book"] == "db-checks"


def test_unknown_default_book_rejected() -> None:
    with pytest.raises(ConfigError, match="default book 'nope'"):
        create_app(SimulatorConfig(default_book="nope"))


def test_enrichment_link_needs_channel(caplog: pytest.LogCaptureFixture) -> None:
    world, incidents = make_world(2)
    client = make_client(world=world)
    plain = client.execute(body_for(incidents[0])).json()
    assert "enrichmentLink" not in plain

    caplog.set_level(logging.WARNING, logger="replay.simulator")
    posted = client.execute({**body_for(incidents[0]), "channelId": "C123"}).json()
    assert posted["enrichmentLink"].startswith("https://slack.com/archives/C123/p")
    assert any("channelId" in record.getMessage() for record in caplog.records)

    batch = client.batch({"inputList": [body_for(incidents[1])], "channelId": "C9"}).json()
    assert batch[0]["enrichmentLink"].startswith("https://slack.com/archives/C9/")


def test_live_run_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="replay.simulator")
    client = make_client()
    assert client.execute({**VALID, "liveRun": True}).status_code == 200
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert any("liveRun" in record.getMessage() for record in warnings)


def test_quiet_for_replay_bodies(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="replay.simulator")
    world, incidents = make_world(1)
    make_client(world=world).execute(body_for(incidents[0]))
    assert not caplog.records


def test_unmatched_is_no_anomaly() -> None:
    world, _ = make_world(3)
    client = make_client(world=world)
    response = client.execute({**VALID, "title": "never happened"})
    body = response.json()
    assert response.status_code == 200
    assert "error" not in body
    assert body["highlights"].startswith("No anomaly found")
    assert client.log[-1]["answers"][0]["kind"] == "no_match"


def test_matches_despite_time_format() -> None:
    world, incidents = make_world(1)
    client = make_client(world=world)
    body = body_for(incidents[0])
    body["time"] = (START.astimezone(dt.timezone(dt.timedelta(hours=2)))).isoformat()
    client.execute(body)
    assert client.log[-1]["answers"][0]["incident_id"] == incidents[0].incident_id


def test_old_time_is_no_data() -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    world, incidents = make_world(1)
    client = make_client(world=world, retention_days=30, now=now)
    response = client.execute(body_for(incidents[0]))
    assert response.status_code == 200
    assert response.json()["error"].startswith("No data available for the requested time window")
    assert client.log[-1]["answers"][0]["kind"] == "no_data"
    recent = client.execute({**VALID, "time": "2026-11-20T00:00:00Z"}).json()
    assert "error" not in recent


def test_unlimited_retention_keeps_old() -> None:
    response = make_client().execute({**VALID, "time": "1999-01-01T00:00:00Z"})
    assert "error" not in response.json()


def test_request_log_file(tmp_path) -> None:
    path = tmp_path / "log" / "requests.jsonl"
    world, incidents = make_world(2)
    client = make_client(world=world, request_log_path=path)
    client.execute(body_for(incidents[0]))
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    client.batch({"inputList": [body_for(incident) for incident in incidents]})
    client.execute(VALID, is_authorized=False)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert entries == json.loads(json.dumps(client.log))
    assert [entry["status"] for entry in entries] == [200, 200, 401]
    assert entries[1]["endpoint"] == "/playbook/execution/batch"
    assert entries[1]["items"] == 2
    assert {item["kind"] for item in entries[1]["answers"]} <= {
        "correct",
        "partial",
        "wrong",
        "inconclusive",
    }
    assert all(entry["latency_s"] >= 0 for entry in entries)
    client.app.state.request_log.close()


def test_openapi_route() -> None:
    document = make_client().get("/openapi.json").json()
    assert set(document["paths"]) == {"/playbook/execution", "/playbook/execution/batch"}


def test_get_is_405() -> None:
    assert make_client().get("/playbook/execution").status_code == 405


def test_message_link_breaks_ties() -> None:
    twin_a = make_incident(0, incident_id="A", message_link="https://slack.com/archives/C1/p1")
    twin_b = make_incident(0, incident_id="B", message_link="https://slack.com/archives/C1/p2")
    client = make_client(world=World.from_incidents([twin_a, twin_b]))
    client.execute(body_for(twin_b))
    assert client.log[-1]["answers"][0]["incident_id"] == "B"
