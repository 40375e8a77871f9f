"""A run against a simulator that fails in every way it can: the run completes within its rate limit."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from replay.models import STATUSES
from replay.simulator import FaultConfig, SimulatorConfig
from replay.simulator.faults import draw_faults
from tests.reliability.support import (
    SAMPLE,
    busiest_window,
    read_manifest,
    read_results,
    run_dir_of,
    run_replay,
    sample_world,
    serve_simulator,
)

TOKEN = "fault-mix-token"
# faults are drawn per request number, and with this seed the first 30 requests of a run (which
# makes more) include every fault kind
SEED = 24
LIMIT = 32
RATE = 8.0
BURST = 2
TIMEOUT_S = 1.0
FAULTS = FaultConfig(
    error_5xx_rate=0.08,
    rate_429=0.08,
    retry_after_s=1,
    retry_after_date_share=0.5,
    hang_rate=0.05,
    hang_s=2.5,  # longer than the client timeout, so the client gives up first
    malformed_rate=0.05,
    truncated_rate=0.05,
    short_batch_rate=0.2,
    error_200_rate=0.08,
)
# below the client's rate, so the server's own limit returns 429 now and then
SERVER_RATE = 6.0
SERVER_BURST = 2.0


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 4])
def test_fault_mix_completes(tmp_path: Path, batch_size: int) -> None:
    config = SimulatorConfig(world=sample_world(), token=TOKEN, seed=SEED, latency_scale=0.02, faults=FAULTS,
                             rate_limit_rps=SERVER_RATE, rate_limit_burst=SERVER_BURST,
                             request_log_path=tmp_path / "requests.jsonl")
    with serve_simulator(config) as (base_url, request_log, recorder):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", RATE, "--burst", BURST, "--timeout",
                          TIMEOUT_S, "--batch-size", batch_size, "--concurrency", 8, "--limit", LIMIT,
                          "--out", tmp_path / "runs", cwd=tmp_path, env={"WILDMOOSE_API_TOKEN": TOKEN})
    entries = list(request_log.entries)
    arrivals = sorted(recorder.arrivals)

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

    # the simulator really served the faults this test is about
    faults = Counter(entry["fault"] for entry in entries)
    answers = Counter(item["kind"] for entry in entries for item in entry["answers"])
    limited = {entry["request"] for entry in entries if entry["fault"] == "rate_limit"}
    hangs = [n for n in range(len(arrivals)) if draw_faults(FAULTS, SEED, n).is_hang and n not in limited]
    assert hangs, "no request hung"
    for fault in ("500", "429", "rate_limit"):
        assert faults[fault] > 0, f"the simulator never served fault {fault}: {dict(faults)}"
    assert faults["malformed"] + faults["truncated"] > 0
    assert answers["error_200"] > 0
    if batch_size > 1:
        assert faults["short_batch"] > 0
    throttled = [entry["request"] for entry in entries if entry["fault"] == "429"]
    date_forms = sum(draw_faults(FAULTS, SEED, number).retry_after_as_date for number in throttled)
    assert 0 < date_forms < len(throttled), "Retry-After was not sent in both seconds and HTTP-date form"

    worst, start = busiest_window(arrivals)
    limit = RATE + BURST
    print(f"\nbatch size {batch_size}: {len(arrivals)} requests, statuses {dict(Counter(results['status']))}, "
          f"faults {dict(faults)}, worst one-second window {worst} requests, limit {limit:g}")
    assert worst <= limit, f"{worst} requests arrived in the second starting at {start:.3f}"


def test_long_retry_after_stops(tmp_path: Path) -> None:
    # a Retry-After longer than --max-retry-after means the quota is exhausted: waiting is pointless
    faults = FaultConfig(rate_429=1.0, retry_after_s=600, retry_after_date_share=0.0)
    config = SimulatorConfig(world=sample_world(), token=TOKEN, seed=SEED, latency_scale=0, faults=faults)
    with serve_simulator(config) as (base_url, _, recorder):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", 0, "--concurrency", 1, "--limit", 10,
                          "--max-retry-after", 5, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_API_TOKEN": TOKEN})

    assert done.returncode == 3, done.stderr
    assert "quota" in done.stdout
    assert "--max-retry-after" in done.stdout
    assert len(recorder.arrivals) == 1
    assert read_manifest(run_dir_of(done.stdout))["status"] == "aborted"


def test_hangs_end_as_timeout(tmp_path: Path) -> None:
    faults = FaultConfig(hang_rate=1.0, hang_s=3.0)
    config = SimulatorConfig(world=sample_world(), token=TOKEN, seed=SEED, latency_scale=0, faults=faults)
    with serve_simulator(config) as (base_url, _, recorder):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", 0, "--concurrency", 4, "--limit", 4,
                          "--timeout", 0.5, "--max-attempts", 2, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_API_TOKEN": TOKEN})

    # nothing succeeded, so the run fails as a whole
    assert done.returncode == 1, done.stderr
    assert "every execution failed" in done.stdout
    results = read_results(run_dir_of(done.stdout))
    assert set(results["status"]) == {"timeout"}
    assert (results["attempts"] == 2).all()
    assert len(recorder.arrivals) == 8
