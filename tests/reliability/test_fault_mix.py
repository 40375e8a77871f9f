"""A run against a simulator that fails in every way it can: the run completes within its rate limit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replay.models import STATUSES
from replay.simulator import FaultConfig, SimulatorConfig, create_app, serve_in_thread
from replay.simulator.faults import draw_faults
from tests.reliability.support import (
    SAMPLE,
    busiest_window,
    read_manifest,
    read_results,
    run_dir_of,
    run_replay,
    sample_world,
)

TOKEN = "fault-mix-token"
# Faults are drawn per request number. With this seed and these rates, the first 32 draws of a
# run (a run makes at least 35 requests) contain every fault kind at least twice. The server's
# own limit turns away about one request in six, and those skip the draw.
# 500 and 503 are checked together as 5xx: 503 alone is drawn only twice there, and the
# server's own limit could turn both away.
SEED = 23292
LIMIT = 32
RATE = 8.0
BURST = 2
TIMEOUT_S = 1.0
FAULTS = FaultConfig(
    error_5xx_rate=0.15,
    rate_429=0.1,
    retry_after_s=1,
    retry_after_date_share=0.5,
    hang_rate=0.1,
    hang_s=2.5,  # longer than the client timeout, so the client gives up first
    malformed_rate=0.1,
    truncated_rate=0.1,
    short_batch_rate=0.2,
    error_200_rate=0.08,
)
# below the client's rate, so the server's own limit returns 429 now and then
SERVER_RATE = 6.0
SERVER_BURST = 2.0


@contextlib.contextmanager
def serve(config: SimulatorConfig) -> Iterator[tuple[str, Any]]:
    """Serve a simulator on 127.0.0.1; yield its base URL and its request log."""
    app = create_app(config)
    with serve_in_thread(app) as base_url:
        yield base_url, app.state.request_log


def read_request_log(path: Path) -> list[dict[str, Any]]:
    """Read the simulator's JSONL request log, one entry per request."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def arrival_times(entries: list[dict[str, Any]]) -> list[float]:
    """Return the sorted arrival times (POSIX seconds) of the logged requests."""
    return sorted(dt.datetime.fromisoformat(entry["time"]).timestamp() for entry in entries)


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 4])
def test_fault_mix_completes(tmp_path: Path, batch_size: int) -> None:
    log_path = tmp_path / "requests.jsonl"
    config = SimulatorConfig(world=sample_world(), token=TOKEN, seed=SEED, latency_scale=0.02, faults=FAULTS,
                             rate_limit_rps=SERVER_RATE, rate_limit_burst=SERVER_BURST, request_log_path=log_path)
    with serve(config) as (base_url, request_log):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", RATE, "--burst", BURST, "--timeout",
                          TIMEOUT_S, "--batch-size", batch_size, "--concurrency", 8, "--limit", LIMIT,
                          "--out", tmp_path / "runs", cwd=tmp_path, env={"WILDMOOSE_API_TOKEN": TOKEN})
    # read after the server stopped: a hang the client abandoned is logged once its sleep ends
    entries = read_request_log(log_path)
    arrivals = arrival_times(entries)

    assert done.returncode == 0, done.stderr
    run_dir = run_dir_of(done.stdout)
    assert read_manifest(run_dir)["status"] == "completed"
    results = read_results(run_dir)
    assert len(results) == LIMIT
    assert results["execution_key"].is_unique
    assert results["status"].isin(STATUSES).all()
    assert not results["status"].isin(["cancelled", "invalid_input"]).any()
    assert (results["attempts"] >= 1).all()
    assert results.loc[results["status"] == "ok", "highlights"].notna().all()

    # the file and the in-memory log agree, and every request has its own entry (written when it ends)
    assert len(entries) == len(request_log.entries)
    assert sorted(entry["request"] for entry in entries) == list(range(len(entries)))

    # the simulator really served every fault kind configured above
    faults = Counter(entry["fault"] for entry in entries)
    answers = Counter(item["kind"] for entry in entries for item in entry["answers"])
    served = ["429", "rate_limit", "hang", "malformed", "truncated"]
    if batch_size > 1:
        served.append("short_batch")
    for fault in served:
        assert faults[fault] > 0, f"the simulator never served fault {fault}: {dict(faults)}"
    assert faults["500"] + faults["503"] > 0, f"the simulator never served a 5xx fault: {dict(faults)}"
    assert answers["error_200"] > 0
    throttled = [entry["request"] for entry in entries if entry["fault"] == "429"]
    date_forms = sum(draw_faults(FAULTS, SEED, number).retry_after_as_date for number in throttled)
    assert 0 < date_forms < len(throttled), "Retry-After was not sent in both seconds and HTTP-date form"

    # the log's fault field agrees with the seeded draws for every request the limit let through
    # and the client waited for (a client that left during a hang is logged with status None)
    for entry in entries:
        if entry["fault"] == "rate_limit" or entry["status"] is None:
            continue
        draw = draw_faults(FAULTS, SEED, entry["request"])
        if draw.status is not None:
            assert entry["fault"] == str(draw.status), entry
        elif draw.body_fault is not None:
            assert entry["fault"] == draw.body_fault, entry

    # the client kept its own rate limit, counted from the server's arrival times
    worst, start = busiest_window(arrivals)
    limit = RATE + BURST
    print(f"\nbatch size {batch_size}: {len(arrivals)} requests, statuses {dict(Counter(results['status']))}, "
          f"faults {dict(faults)}, worst one-second window {worst} requests, limit {limit:g}")
    assert worst <= limit, f"{worst} requests arrived in the second starting at {start:.3f}"


def test_long_retry_after_stops(tmp_path: Path) -> None:
    # a Retry-After longer than --max-retry-after means the quota is exhausted: waiting is pointless
    faults = FaultConfig(rate_429=1.0, retry_after_s=600, retry_after_date_share=0.0)
    config = SimulatorConfig(world=sample_world(), token=TOKEN, seed=SEED, latency_scale=0, faults=faults)
    with serve(config) as (base_url, request_log):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", 0, "--concurrency", 1, "--limit", 10,
                          "--max-retry-after", 5, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_API_TOKEN": TOKEN})

    assert done.returncode == 3, done.stderr
    assert "quota" in done.stdout
    assert "--max-retry-after" in done.stdout
    assert len(request_log.entries) == 1
    assert read_manifest(run_dir_of(done.stdout))["status"] == "aborted"


def test_hangs_end_as_timeout(tmp_path: Path) -> None:
    faults = FaultConfig(hang_rate=1.0, hang_s=3.0)
    config = SimulatorConfig(world=sample_world(), token=TOKEN, seed=SEED, latency_scale=0, faults=faults)
    with serve(config) as (base_url, request_log):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", 0, "--concurrency", 4, "--limit", 4,
                          "--timeout", 0.5, "--max-attempts", 2, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_API_TOKEN": TOKEN})

    # nothing succeeded, so the run fails as a whole
    assert done.returncode == 1, done.stderr
    assert "every execution failed" in done.stdout
    results = read_results(run_dir_of(done.stdout))
    assert set(results["status"]) == {"timeout"}
    assert (results["attempts"] == 2).all()
    assert len(request_log.entries) == 8
    assert {entry["fault"] for entry in request_log.entries} <= {"hang", "client_disconnected"}
