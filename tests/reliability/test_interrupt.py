"""Ctrl-C (a real SIGINT) during ``replay run``: stop, keep what finished, resume to the end."""

from __future__ import annotations

import datetime as dt
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.support import (
    PROCESS_TIMEOUT_S,
    SAMPLE,
    count_journaled,
    only_run_dir,
    read_manifest,
    read_results,
    replay_env,
    run_replay,
    start_replay,
    wait_until,
)

LIMIT = 36
CONCURRENCY = 12
# the signal is handled on the event loop, so an execution that a worker picked up just before
# the handler ran may start a moment after the signal was sent
START_SLACK_S = 1.0


def _start(tmp_path: Path, latency: str) -> tuple[object, Path]:
    out = tmp_path / "runs"
    started = start_replay("run", SAMPLE, "--simulator", "--simulator-latency", latency, "--limit", LIMIT,
                           "--concurrency", CONCURRENCY, "--out", out, cwd=tmp_path, name="interrupted")
    wait_until(lambda: only_run_dir(out) is not None and count_journaled(only_run_dir(out)) >= 3,
               what="three journaled executions")
    run_dir = only_run_dir(out)
    assert run_dir is not None
    return started, run_dir


def _printed_resume_command(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith("resume with:"))
    argv = shlex.split(line.split(":", 1)[1])
    assert argv[0] == "replay"
    # the console script installed next to this interpreter is the one the user would run
    return [str(Path(sys.executable).with_name("replay")), *argv[1:]]


@pytest.mark.slow
def test_sigint_stops_and_resumes(tmp_path: Path) -> None:
    started, run_dir = _start(tmp_path, latency="0.25")
    signalled_at = dt.datetime.now(dt.timezone.utc)
    started.process.send_signal(signal.SIGINT)

    assert started.wait() == 130, started.stderr
    assert "waiting for in-flight ones to finish" in started.stderr
    assert read_manifest(run_dir)["status"] == "stopped"
    results = read_results(run_dir)
    assert 3 <= len(results) < LIMIT
    # the grace period let every in-flight execution finish
    assert set(results["status"]) == {"ok"}
    late = results[results["started_at"] > signalled_at + dt.timedelta(seconds=START_SLACK_S)]
    assert late.empty, f"executions started after the interrupt: {list(late['execution_key'])}"

    command = _printed_resume_command(started.stdout)
    assert command[1:] == ["run", "--resume", str(run_dir), "--simulator"]
    resumed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S,
                             env=replay_env())
    assert resumed.returncode == 0, resumed.stderr

    final = read_results(run_dir)
    assert len(final) == LIMIT
    assert final["execution_key"].is_unique
    assert set(final["status"]) == {"ok"}
    before = results.set_index("execution_key")["finished_at"]
    assert (final.set_index("execution_key").loc[before.index, "finished_at"] == before).all()
    assert read_manifest(run_dir)["status"] == "completed"


@pytest.mark.slow
def test_second_sigint_cancels(tmp_path: Path) -> None:
    # books take 1 to 2 s at this scale, so executions are in flight at the second signal
    started, run_dir = _start(tmp_path, latency="0.25")
    started.process.send_signal(signal.SIGINT)
    wait_until(lambda: "waiting for in-flight ones to finish" in started.stderr, what="the first stop message")
    time.sleep(0.2)
    started.process.send_signal(signal.SIGINT)

    assert started.wait() == 130, started.stderr
    assert "cancelling in-flight executions" in started.stderr
    assert read_manifest(run_dir)["status"] == "stopped"
    results = read_results(run_dir)
    cancelled = set(results.loc[results["status"] == "cancelled", "execution_key"])
    assert cancelled, "no execution was in flight at the second interrupt"
    assert set(results["status"]) <= {"ok", "cancelled"}
    assert "resume with:" in started.stdout

    resumed = run_replay("run", "--resume", run_dir, "--simulator-latency", "0", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    final = read_results(run_dir).set_index("execution_key")
    assert len(final) == LIMIT
    assert set(final["status"]) == {"ok"}
    assert (final.loc[sorted(cancelled), "attempts"] >= 1).all()



def test_sigint_while_scoring(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    started = start_replay("run", SAMPLE, "--simulator", "--simulator-latency", "0", "--limit", LIMIT, "--out", out,
                           cwd=tmp_path, name="scoring")
    # every execution is journaled: the run is closing, compacting or scoring now
    wait_until(lambda: only_run_dir(out) is not None and (
        count_journaled(only_run_dir(out)) >= LIMIT or (only_run_dir(out) / "results.parquet").exists()
        and len(read_results(only_run_dir(out))) == LIMIT), what="every execution to finish")
    started.process.send_signal(signal.SIGINT)

    code = started.wait()
    run_dir = only_run_dir(out)
    assert run_dir is not None
    if code == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert code == 130, started.stderr
    assert "Traceback" not in started.stderr
    assert read_manifest(run_dir)["status"] == "stopped"
    assert "resume with:" in started.stdout

    resumed = subprocess.run(_printed_resume_command(started.stdout), cwd=tmp_path, capture_output=True, text=True,
                             timeout=PROCESS_TIMEOUT_S, env=replay_env())
    assert resumed.returncode == 0, resumed.stderr
    assert len(read_results(run_dir)) == LIMIT
    assert (run_dir / "scores.parquet").exists()
    assert read_manifest(run_dir)["status"] == "completed"
