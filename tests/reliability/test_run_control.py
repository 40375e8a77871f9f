"""Run control: --retry-failed, --repeat, --limit, --sample, --shard and --max-failures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import replay
from replay.models import ERROR_STATUSES
from replay.simulator import FaultConfig, SimulatorConfig
from tests.reliability.support import (
    SAMPLE,
    SAMPLE_ROWS,
    read_manifest,
    read_results,
    run_dir_of,
    run_replay,
    run_replays,
    sample_world,
    serve_simulator,
)

TOKEN = {"WILDMOOSE_API_TOKEN": "run-control-token"}
# against --api-url the default rate is 2 requests per second; these tests need no limit
FAST = ("--rate", "0", "--concurrency", "8")
INSTANT = ("--simulator", "--simulator-latency", "0")


def _failing_simulator(error_rate: float) -> SimulatorConfig:
    faults = FaultConfig(error_5xx_rate=error_rate / 2, error_200_rate=error_rate / 2)
    return SimulatorConfig(world=sample_world(), seed=5, latency_scale=0, faults=faults)


def _incident_ids(run_dir: Path) -> list[str]:
    return sorted(read_results(run_dir)["incident_id"])


def test_retry_failed_reruns_failures(tmp_path: Path) -> None:
    with serve_simulator(_failing_simulator(0.6)) as (base_url, _, _):
        first = run_replay("run", SAMPLE, "--api-url", base_url, *FAST, "--max-attempts", 1, "--limit", 30,
                           "--out", tmp_path / "runs", cwd=tmp_path, env=TOKEN)
    assert first.returncode == 0, first.stderr
    run_dir = run_dir_of(first.stdout)
    before = read_results(run_dir).set_index("execution_key")
    failed = before.index[before["status"].isin(ERROR_STATUSES)]
    succeeded = before.index[before["status"] == "ok"]
    assert len(failed) >= 5
    assert len(succeeded) >= 5

    healthy = SimulatorConfig(world=sample_world(), seed=5, latency_scale=0)
    with serve_simulator(healthy) as (base_url, _, recorder):
        again = run_replay("run", "--resume", run_dir, "--retry-failed", "--api-url", base_url, cwd=tmp_path, env=TOKEN)
    assert again.returncode == 0, again.stderr

    after = read_results(run_dir).set_index("execution_key")
    assert len(after) == 30
    assert len(recorder.arrivals) == len(failed), "only failed executions should be sent again"
    assert (after.loc[failed, "status"] == "ok").all()
    assert (after.loc[failed, "finished_at"] > before.loc[failed, "finished_at"]).all()
    for column in ("status", "finished_at", "highlights"):
        assert (after.loc[succeeded, column] == before.loc[succeeded, column]).all(), column
    attempts = read_manifest(run_dir)["attempts"]
    assert [attempt["retry_failed"] for attempt in attempts] == [False, True]


def test_repeat_gives_independent_executions(tmp_path: Path) -> None:
    done = run_replay("run", SAMPLE, *INSTANT, "--repeat", 3, "--limit", 8, "--out", tmp_path / "runs",
                      cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = read_results(run_dir_of(done.stdout))

    assert len(results) == 24
    assert results["execution_key"].is_unique
    assert (results.groupby("incident_id")["repeat"].apply(sorted) == pd.Series([[1, 2, 3]] * 8).values).all()
    assert (results["status"] == "ok").all()
    # the simulator varies some answers across repeats of the same request
    distinct = results.groupby("incident_id")["highlights"].nunique()
    assert (distinct > 1).any()


def test_limit_and_sample_select(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    limited, *sampled = run_replays(
        ("run", SAMPLE, *INSTANT, "--limit", 7, "--out", out, "--label", "limit"),
        *(("run", SAMPLE, *INSTANT, "--sample", 12, "--seed", seed, "--out", out, "--label", f"sample-{number}")
          for number, seed in enumerate((5, 5, 6))),
        cwd=tmp_path,
    )
    for done in (limited, *sampled):
        assert done.returncode == 0, done.stderr

    dataset_ids = list(pd.read_parquet(SAMPLE)["incident_id"])
    assert _incident_ids(run_dir_of(limited.stdout)) == sorted(dataset_ids[:7])
    first, same_seed, other_seed = (_incident_ids(run_dir_of(done.stdout)) for done in sampled)
    assert len(first) == 12
    assert len(set(first)) == 12
    assert set(first) <= set(dataset_ids)
    assert first == same_seed
    assert first != other_seed


@pytest.mark.slow
def test_shards_partition_dataset(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    shards = run_replays(*(("run", SAMPLE, *INSTANT, "--shard", f"{index}/3", "--out", out) for index in (1, 2, 3)),
                         cwd=tmp_path)
    for done in shards:
        assert done.returncode == 0, done.stderr
    run_dirs = [run_dir_of(done.stdout) for done in shards]

    parts = [set(_incident_ids(run_dir)) for run_dir in run_dirs]
    for number, part in enumerate(parts):
        assert part, f"shard {number + 1} is empty"
        for other in parts[number + 1:]:
            assert not part & other
    assert set().union(*parts) == set(pd.read_parquet(SAMPLE)["incident_id"])

    combined = replay.load_results(run_dirs)
    assert len(combined) == SAMPLE_ROWS
    assert combined["incident_id"].is_unique
    assert combined["run_id"].nunique() == 3
    assert len(replay.load_results(str(out / "*-shard*"))) == SAMPLE_ROWS


@pytest.mark.parametrize("threshold", ["5", "0.2"])
def test_max_failures_stops_run(tmp_path: Path, threshold: str) -> None:
    with serve_simulator(_failing_simulator(0.6)) as (base_url, _, _):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--rate", 0, "--concurrency", 2, "--max-attempts", 1,
                          "--max-failures", threshold, "--limit", 80, "--out", tmp_path / "runs", cwd=tmp_path,
                          env=TOKEN)

    assert done.returncode == 1, done.stderr
    assert f"--max-failures {threshold}" in done.stdout
    run_dir = run_dir_of(done.stdout)
    assert read_manifest(run_dir)["status"] == "failed"
    results = read_results(run_dir)
    failures = results["status"].isin(ERROR_STATUSES).sum()
    assert len(results) < 80
    if threshold == "5":
        assert failures >= 5
    else:
        assert len(results) >= 20
        assert failures / len(results) > 0.2
