"""Seeded faults of the simulator and its server-side rate limit, in-process."""

from __future__ import annotations

import datetime as dt
import email.utils
import json

import pytest

from replay.errors import ConfigError
from replay.simulator import FaultConfig, SimulatorConfig
from replay.simulator.faults import TokenBucket

from .conftest import body_for, make_client, make_world

VALID = {"bookName": "incident-triage", "time": "2026-07-01T00:00:00Z", "title": "t"}


def test_5xx_faults() -> None:
    client = make_client(faults=FaultConfig(error_5xx_rate=1.0))
    statuses = set()
    for _ in range(30):
        response = client.execute(VALID)
        statuses.add(response.status_code)
        assert isinstance(response.json()["error"], str)
    assert statuses == {500, 503}


def test_429_both_retry_after_forms() -> None:
    client = make_client(faults=FaultConfig(rate_429=1.0, retry_after_s=2))
    seconds, dates = 0, 0
    for _ in range(30):
        response = client.execute(VALID)
        assert response.status_code == 429
        value = response.headers["Retry-After"]
        if value.isdigit():
            assert value == "2"
            seconds += 1
        else:
            when = email.utils.parsedate_to_datetime(value)
            assert when > dt.datetime.now(dt.timezone.utc)
            dates += 1
    assert seconds and dates


def test_hang_then_answers() -> None:
    client = make_client(faults=FaultConfig(hang_rate=1.0, hang_s=0.0))
    response = client.execute(VALID)
    assert response.status_code == 200
    assert client.log[-1]["fault"] == "hang"


def test_malformed_body() -> None:
    client = make_client(faults=FaultConfig(malformed_rate=1.0))
    for _ in range(6):
        response = client.execute(VALID)
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)


def test_truncated_body() -> None:
    client = make_client(faults=FaultConfig(truncated_rate=1.0))
    response = client.execute(VALID)
    assert response.status_code == 200
    assert response.text.startswith('{"highlights"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_short_batch() -> None:
    world, incidents = make_world(3)
    client = make_client(world=world, faults=FaultConfig(short_batch_rate=1.0))
    response = client.batch({"inputList": [body_for(incident) for incident in incidents]})
    assert len(response.json()) == 2
    assert client.log[-1]["fault"] == "short_batch"
    single = client.batch({"inputList": [body_for(incidents[0])]})
    assert len(single.json()) == 1


def test_error_200_messages() -> None:
    client = make_client(faults=FaultConfig(error_200_rate=1.0))
    single = client.execute(VALID)
    assert single.status_code == 200
    assert single.json() == {"error": "Failed to execute playbook: timeout"}
    batch = client.batch({"inputList": [VALID, {**VALID, "title": "disk alert"}]})
    assert batch.json()[1] == {"error": "Failed to run playbook for alert disk alert"}
    assert client.log[-1]["answers"][0]["kind"] == "error_200"


def test_error_200_keeps_answer_counter() -> None:
    """A failed investigation does not use up the book's answer for that incident."""
    world, incidents = make_world(1)
    failing = make_client(world=world, faults=FaultConfig(error_200_rate=1.0))
    failing.execute(body_for(incidents[0]))
    assert failing.log[-1]["answers"][0]["call"] is None


def test_fault_rates_roughly_hold() -> None:
    client = make_client(faults=FaultConfig(error_5xx_rate=0.2, rate_429=0.1))
    statuses = [client.execute(VALID).status_code for _ in range(300)]
    share_5xx = sum(status >= 500 for status in statuses) / 300
    share_429 = statuses.count(429) / 300
    assert share_5xx == pytest.approx(0.2, abs=0.08)
    assert share_429 == pytest.approx(0.1, abs=0.06)


def test_faults_are_seeded() -> None:
    faults = FaultConfig(error_5xx_rate=0.3, rate_429=0.2, malformed_rate=0.2)
    runs = []
    for _ in range(2):
        client = make_client(faults=faults, seed=11)
        runs.append(
            [(r.status_code, r.text[:20]) for r in (client.execute(VALID) for _ in range(40))]
        )
    assert runs[0] == runs[1]
    other = make_client(faults=faults, seed=12)
    assert [
        (r.status_code, r.text[:20]) for r in (other.execute(VALID) for _ in range(40))
    ] != runs[0]


def test_auth_checked_before_faults() -> None:
    client = make_client(faults=FaultConfig(error_5xx_rate=1.0))
    assert client.execute(VALID, is_authorized=False).status_code == 401


def test_server_rate_limit() -> None:
    client = make_client(rate_limit_rps=0.5, rate_limit_burst=2)
    statuses = [client.execute(VALID).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.execute(VALID)
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.log[-1]["fault"] == "rate_limit"


def test_token_bucket_refills() -> None:
    bucket = TokenBucket(rate=10.0, capacity=1.0)
    assert bucket.take() == 0.0
    wait = bucket.take()
    assert 0 < wait <= 0.1
    bucket._updated -= 0.2  # pretend 0.2 s passed without sleeping
    assert bucket.take() == 0.0


@pytest.mark.parametrize("field", ["error_5xx_rate", "rate_429", "hang_rate", "malformed_rate"])
def test_rate_outside_range_rejected(field: str) -> None:
    with pytest.raises(ConfigError, match=f"{field}=1.5 is invalid"):
        FaultConfig(**{field: 1.5})


def test_bad_settings_rejected() -> None:
    with pytest.raises(ConfigError, match="latency_scale"):
        SimulatorConfig(latency_scale=-1)
    with pytest.raises(ConfigError, match="rate_limit_rps"):
        SimulatorConfig(rate_limit_rps=0)
    with pytest.raises(ConfigError, match="no time zone"):
        SimulatorConfig(now=dt.datetime(2026, 1, 1))
    with pytest.raises(ConfigError, match="token is empty"):
        SimulatorConfig(token=" ")


def test_token_not_in_repr() -> None:
    assert "hunter2" not in repr(SimulatorConfig(token="hunter2"))
