"""The execution engine over a mock transport: retries, stops, batches, the journal."""

from __future__ import annotations

import json
from collections import Counter

import anyio
import httpx
import pytest

from replay.auth import StaticToken
from replay.client import ExecutionClient
from replay.engine import EngineSettings, ExecutionEngine
from replay.journal import JournalWriter, read_journal
from replay.planning import plan_executions
from replay.progress import RunProgress
from replay.retries import RetryPolicy
from tests.helpers import make_incident

FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait=0.0, jitter=0.0)


def _run(handler, tmp_path, *, incidents=5, books=("a",), repeat=1, **settings):
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("rate", None)
    engine_settings = EngineSettings(**settings)
    plan = list(plan_executions([make_incident(i) for i in range(incidents)], list(books), repeat))

    async def main():
        async with httpx.AsyncClient(base_url="http://api.test", transport=httpx.MockTransport(handler)) as http:
            client = ExecutionClient(http, StaticToken("t"), timeout=5)
            with JournalWriter(tmp_path) as journal:
                engine = ExecutionEngine(client, engine_settings, journal.append_many, RunProgress(len(plan)))
                return await engine.run(plan)

    outcome = anyio.run(main)
    return outcome, list(read_journal(tmp_path))


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"highlights": "Root cause: pool exhaustion."})


def test_every_execution_journaled_once(tmp_path) -> None:
    outcome, results = _run(_ok, tmp_path, incidents=20, books=("a", "b"), repeat=2, concurrency=7)
    assert outcome.status == "completed"
    keys = Counter(r.execution_key for r in results)
    assert len(keys) == 80
    assert set(keys.values()) == {1}
    assert {r.status for r in results} == {"ok"}


def test_retries_5xx_then_succeeds(tmp_path) -> None:
    calls = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        title = json.loads(request.content)["title"]
        calls[title] += 1
        if calls[title] < 3:
            return httpx.Response(503, json={"error": "busy"})
        return _ok(request)

    _, results = _run(handler, tmp_path, incidents=3)
    assert {r.status for r in results} == {"ok"}
    assert {r.attempts for r in results} == {3}


def test_retries_exhausted_keeps_last_error(tmp_path) -> None:
    _, results = _run(lambda r: httpx.Response(500, json={"error": "boom"}), tmp_path, incidents=2)
    assert {r.status for r in results} == {"http_error"}
    assert {r.attempts for r in results} == {4}
    assert all("boom" in r.error for r in results)


def test_400_not_retried(tmp_path) -> None:
    _, results = _run(lambda r: httpx.Response(400, json={"error": "bad"}), tmp_path, incidents=2)
    assert {r.attempts for r in results} == {1}
    assert {r.http_status for r in results} == {400}


def test_401_stops_run(tmp_path) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(401, json={"error": "expired"})

    outcome, results = _run(handler, tmp_path, incidents=50, concurrency=2)
    assert outcome.status == "aborted"
    assert outcome.exit_code == 3
    assert "WILDMOOSE_API_TOKEN" in outcome.reason
    assert calls <= 2
    assert {r.status for r in results} <= {"cancelled"}


def test_429_lowers_concurrency_and_retries(tmp_path) -> None:
    seen = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        title = json.loads(request.content)["title"]
        seen[title] += 1
        if seen[title] == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "slow down"})
        return _ok(request)

    outcome, results = _run(handler, tmp_path, incidents=6, concurrency=4)
    assert outcome.status == "completed"
    assert {r.status for r in results} == {"ok"}
    assert {r.attempts for r in results} == {2}


def test_long_retry_after_stops_as_quota(tmp_path) -> None:
    outcome, _ = _run(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}), tmp_path, incidents=3)
    assert outcome.status == "aborted"
    assert "quota" in outcome.reason


def test_max_failures_stops(tmp_path) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.005)
        return httpx.Response(400, json={"error": "bad"})

    outcome, results = _run(handler, tmp_path, incidents=200,
                            concurrency=2, max_failures=5)
    assert outcome.status == "failed"
    assert outcome.exit_code == 1
    assert len(results) < 200


def test_batch_maps_and_records_attempts(tmp_path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["inputList"]
        return httpx.Response(200, json=[{"highlights": f"Root cause: {i['title']}"} for i in items])

    _, results = _run(handler, tmp_path, incidents=10, batch_size=4, concurrency=1)
    assert len(results) == 10
    assert all(r.highlights.endswith(make_incident(int(r.incident_id[-4:])).title) for r in results)


def test_batch_short_array_falls_back(tmp_path, caplog) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/batch"):
            items = json.loads(request.content)["inputList"]
            return httpx.Response(200, json=[{"highlights": "short"} for _ in items[1:]])
        return httpx.Response(200, json={"highlights": "Root cause: " + json.loads(request.content)["title"]})

    _, results = _run(handler, tmp_path, incidents=6, batch_size=3, concurrency=1)
    assert len(results) == 6
    assert all(r.status == "ok" and r.highlights != "short" for r in results)
    assert all(r.attempts == 2 for r in results)
    assert sum("single calls" in m for m in caplog.messages) == 1


def test_journal_ignores_torn_line(tmp_path) -> None:
    _run(_ok, tmp_path, incidents=3)
    segment = next((tmp_path / "journal").glob("*.jsonl"))
    with open(segment, "a", encoding="utf-8") as handle:
        handle.write('{"execution_key": "half')
    assert len(list(read_journal(tmp_path))) == 3


@pytest.mark.parametrize("rate", [40.0])
def test_rate_respected(tmp_path, rate) -> None:
    import time

    stamps = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return _ok(request)

    _run(handler, tmp_path, incidents=41, concurrency=8, rate=rate)
    assert stamps[-1] - stamps[0] >= 40 / rate * 0.95


def test_latency_excludes_queue_and_backoff(tmp_path) -> None:
    calls = Counter()

    async def handler(request: httpx.Request) -> httpx.Response:
        title = json.loads(request.content)["title"]
        calls[title] += 1
        await anyio.sleep(0.05)
        if calls[title] == 1:
            return httpx.Response(503, json={"error": "busy"})
        return _ok(request)

    retry = RetryPolicy(max_attempts=3, initial_wait=0.2, jitter=0.0)
    _, results = _run(handler, tmp_path, incidents=4, concurrency=4, rate=10.0, retry=retry)
    assert len(results) == 4
    for result in results:
        assert result.attempts == 2
        assert 0.04 <= result.latency_s < 0.2
        assert result.backoff_s == pytest.approx(0.2)
    # four starts at 10/s: the last request of the first round waits about 0.3 s for its slot
    assert max(r.queue_s for r in results) > 0.2


def test_deadline_stops_retries(tmp_path) -> None:
    retry = RetryPolicy(max_attempts=5, initial_wait=1.0, jitter=0.0, deadline=0.5)
    _, results = _run(lambda r: httpx.Response(503, json={"error": "busy"}), tmp_path, incidents=2, retry=retry)
    assert {r.attempts for r in results} == {1}
    assert {r.status for r in results} == {"http_error"}
