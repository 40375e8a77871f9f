"""``kill -9`` at random moments, then resume: nothing journaled is lost, changed or repeated."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.reliability.support import (
    SAMPLE,
    SAMPLE_ROWS,
    journal_lines,
    only_run_dir,
    read_manifest,
    read_results,
    run_replay,
    start_replay,
    wait_until,
)

SEED = 20261204
MIN_KILLS = 10
# the first process needs about a second to import and load the dataset; later kills land
# anywhere in startup, compaction, execution, scoring and reporting
DELAY_RANGE_S = (0.3, 4.0)
# delay of the kill after this invocation journaled its first execution
PROGRESS_DELAY_RANGE_S = (0.0, 1.5)
# fields that must not change once an execution is journaled
KEPT_FIELDS = ("status", "attempts", "started_at", "finished_at", "highlights", "error")


def _snapshot(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Check the journal and results file of a killed run; return its executions by key."""
    records = journal_lines(run_dir)
    keys = Counter(record["execution_key"] for _, record in records)
    repeated = [key for key, count in keys.items() if count > 1]
    assert not repeated, f"journal segments hold these executions twice: {repeated[:5]}"

    executions = {record["execution_key"]: _kept(record) for _, record in records}
    results_path = run_dir / "results.parquet"
    if results_path.exists():
        results = read_results(run_dir)
        assert results["execution_key"].is_unique
        for row in results.to_dict("records"):
            kept = _kept(row)
            # a kill between writing results.parquet and deleting the segments leaves both
            if row["execution_key"] in executions:
                assert executions[row["execution_key"]] == kept, f"{row['execution_key']} differs in journal and results"
            executions[row["execution_key"]] = kept
    return executions


def _count_on_disk(out: Path) -> int:
    """Return how many distinct executions the run under ``out`` has journaled or compacted."""
    run_dir = only_run_dir(out)
    if run_dir is None:
        return 0
    keys = {record["execution_key"] for _, record in journal_lines(run_dir)}
    if (run_dir / "results.parquet").exists():
        keys.update(pd.read_parquet(run_dir / "results.parquet", columns=["execution_key"])["execution_key"])
    return len(keys)


def _kept(record: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for name in KEPT_FIELDS:
        value = record.get(name)
        if name.endswith("_at") and value is not None:
            value = pd.Timestamp(value).tz_convert("UTC").isoformat()
        kept[name] = None if value is None or (isinstance(value, float) and pd.isna(value)) else value
    return kept


@pytest.mark.slow
def test_kill_then_resume(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    out = tmp_path / "runs"
    first = ("run", SAMPLE, "--simulator", "--simulator-latency", "0.15", "--concurrency", "24", "--out", out)
    seen: dict[str, dict[str, Any]] = {}
    run_dir: Path | None = None
    trials = kills = 0

    while kills < MIN_KILLS:
        trials += 1
        assert trials < 40, "the runs kept finishing before the kill"
        args = first if run_dir is None else ("run", "--resume", run_dir)
        started = start_replay(*args, cwd=tmp_path, name=f"trial-{trials}")
        if trials % 2 == 0:
            # every other kill lands while executions finish, however long the startup takes
            wait_until(lambda: started.process.poll() is not None or _count_on_disk(out) > len(seen),
                       what="a newly journaled execution")
            delay = rng.uniform(*PROGRESS_DELAY_RANGE_S)
        else:
            delay = rng.uniform(*DELAY_RANGE_S)
        try:
            code = started.wait(delay)
            assert code == 0, started.stderr
        except subprocess.TimeoutExpired:
            started.process.send_signal(signal.SIGKILL)
            started.wait()
            kills += 1

        run_dir = only_run_dir(out)
        if run_dir is None:
            # killed before the manifest existed: nothing can be resumed, start over
            for leftover in out.glob("*") if out.exists() else ():
                shutil.rmtree(leftover)
            continue
        snapshot = _snapshot(run_dir)
        lost = sorted(set(seen) - set(snapshot))
        assert not lost, f"executions journaled earlier are gone after trial {trials}: {lost[:5]}"
        changed = sorted(key for key in seen if seen[key] != snapshot[key])
        assert not changed, f"executions journaled earlier changed after trial {trials}: {changed[:5]}"
        seen.update(snapshot)

    assert run_dir is not None
    done = run_replay("run", "--resume", run_dir, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    print(f"\nkill -9: {trials} trials, {kills} kills, {len(seen)} executions journaled before a kill")

    results = read_results(run_dir)
    assert len(results) == SAMPLE_ROWS
    assert results["execution_key"].is_unique
    assert set(results["status"]) == {"ok"}
    final = {row["execution_key"]: _kept(row) for row in results.to_dict("records")}
    missing = sorted(set(seen) - set(final))
    assert not missing, f"journaled executions missing from results.parquet: {missing[:5]}"
    changed = sorted(key for key in seen if seen[key] != final[key])
    assert not changed, f"journaled executions changed in results.parquet: {changed[:5]}"
    assert not list((run_dir / "journal").glob("segment-*.jsonl"))
    assert read_manifest(run_dir)["status"] == "completed"
