"""Helpers of the reliability tests: replay subprocesses, simulators on loopback, journal reads."""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from replay.simulator import SimulatorConfig, World, create_app, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "q3.parquet"
SAMPLE_ROWS = 216
# the environment variables a replay subprocess must not inherit from the shell running the tests
_DROPPED_ENV = ("WILDMOOSE_API_TOKEN", "WILDMOOSE_CLIENT_SECRET")
# seconds any single replay subprocess may take before the test gives up on it
PROCESS_TIMEOUT_S = 180


def replay_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a replay subprocess: no inherited secrets or REPLAY_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_") and k not in _DROPPED_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def replay_args(*args: object) -> list[str]:
    """Return the argv of ``python -m replay ARGS``."""
    return [sys.executable, "-m", "replay", *(str(a) for a in args)]


def run_replay(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run replay to its end and capture its output."""
    return subprocess.run(replay_args(*args), cwd=cwd, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S,
                          env=replay_env(env))


@dataclass
class Started:
    """A replay subprocess whose output goes to files (pipes could fill up and block it)."""

    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def wait(self, timeout: float = PROCESS_TIMEOUT_S) -> int:
        """Wait for the process and return its exit code."""
        return self.process.wait(timeout)

    @property
    def stdout(self) -> str:
        """What the process wrote to stdout so far."""
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        """What the process wrote to stderr so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def start_replay(*args: object, cwd: Path, name: str, env: dict[str, str] | None = None) -> Started:
    """Start replay in the background; its output goes to ``cwd/NAME.out`` and ``cwd/NAME.err``."""
    stdout_path = cwd / f"{name}.out"
    stderr_path = cwd / f"{name}.err"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(replay_args(*args), cwd=cwd, stdout=out, stderr=err, env=replay_env(env))
    return Started(process, stdout_path, stderr_path)


def run_replays(*commands: Sequence[object], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run several replays at once (they are independent) and return each one's outcome, in order."""
    started = [start_replay(*args, cwd=cwd, name=f"parallel-{number}") for number, args in enumerate(commands)]
    return [subprocess.CompletedProcess(run.process.args, run.wait(), run.stdout, run.stderr) for run in started]


def run_dir_of(stdout: str) -> Path:
    """Return the run directory named in the ``results:`` line of replay's output."""
    line = next(line for line in stdout.splitlines() if line.startswith("results:"))
    return Path(line.split(":", 1)[1].strip()).parent


def only_run_dir(out: Path) -> Path | None:
    """Return the single run directory with a manifest under ``out``, or None."""
    found = sorted(path.parent for path in out.glob("*/manifest.json"))
    assert len(found) <= 1, f"expected at most one run under {out}, found {found}"
    return found[0] if found else None


def journal_lines(run_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Return every complete journal record of the run as (segment name, record), oldest first.

    A last line without its newline is a write that a kill interrupted: the engine never
    counted it, so it is left out here as ``replay`` leaves it out.
    """
    records = []
    for path in sorted((run_dir / "journal").glob("segment-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.endswith("\n"):
                records.append((path.name, json.loads(line)))
    return records


def count_journaled(run_dir: Path) -> int:
    """Return how many executions are journaled and not yet compacted."""
    return len(journal_lines(run_dir)) if (run_dir / "journal").is_dir() else 0


def wait_until(condition, *, timeout: float = 60.0, what: str = "a condition") -> None:
    """Poll ``condition`` every 50 ms until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def read_results(run_dir: Path) -> pd.DataFrame:
    """Read the run's ``results.parquet``."""
    return pd.read_parquet(run_dir / "results.parquet")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read the run's ``manifest.json``."""
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def sample_world() -> World:
    """Return a simulator world that contains every incident of the bundled sample."""
    return World.from_dataset(SAMPLE)


class ArrivalRecorder:
    """ASGI wrapper that records the arrival time of every HTTP request before the app sees it.

    The simulator logs a request only when its handler returns, so a request whose client
    gave up (a hang longer than the client timeout) may be missing from its request log.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state  # serve_in_thread wakes the simulator's sleeps through it
        self.arrivals: list[float] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.arrivals.append(time.time())
        await self.app(scope, receive, send)


@contextlib.contextmanager
def serve_simulator(config: SimulatorConfig) -> Iterator[tuple[str, Any, ArrivalRecorder]]:
    """Serve a simulator on 127.0.0.1 in a thread; yield its base URL, request log and arrival recorder."""
    recorder = ArrivalRecorder(create_app(config))
    with serve_in_thread(recorder) as base_url:
        yield base_url, recorder.state.request_log, recorder


def busiest_window(times: Sequence[float], width: float = 1.0) -> tuple[int, float]:
    """Return the most arrivals in any half-open window ``[t, t + width)`` and that window's start.

    The busiest window can always be moved to start at an arrival, so only those starts are checked.
    """
    best, best_start = 0, times[0] if times else 0.0
    for index, start in enumerate(times):
        count = bisect.bisect_left(times, start + width, lo=index) - index
        if count > best:
            best, best_start = count, start
    return best, best_start
