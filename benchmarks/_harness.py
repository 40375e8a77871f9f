"""Shared parts of the engine benchmarks: servers in another process, plans, and loops.

The client runs on core 0 and the server on core 1, so neither steals the other's CPU.
Every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "q3.parquet"
PYTHON = sys.executable
TOKEN = "bench-token"
CLIENT_CPU = 0
SERVER_CPU = 1


def pin_client() -> None:
    """Run this process (and threads it starts later) on the client core."""
    os.sched_setaffinity(0, {CLIENT_CPU})


@dataclass
class Server:
    """A server process: its base URL and process id."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def fast_server(delay: float = 0.0) -> Iterator[Server]:
    """Start ``fast_server.py`` on the server core; yield it."""
    process = subprocess.Popen(
        [PYTHON, str(ROOT / "benchmarks" / "fast_server.py"), "--delay", str(delay), "--cpu", str(SERVER_CPU)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield Server(f"http://127.0.0.1:{int(line.split()[1])}", process.pid)
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def simulator_server() -> Iterator[Server]:
    """Start ``replay simulate`` (sample world, no latency) on the server core; yield it."""
    port = _free_port()
    env = dict(os.environ, REPLAY_SIMULATOR_TOKEN=TOKEN)
    process = subprocess.Popen(
        ["taskset", "-c", str(SERVER_CPU), PYTHON, "-m", "replay", "simulate", "--port", str(port),
         "--world", str(SAMPLE), "--latency-scale", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.05)
        yield Server(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample_incidents():
    """Load the validated incidents of the bundled sample quarter."""
    from replay.datasets import load_incidents

    return load_incidents(SAMPLE).incidents


def make_plan(count: int) -> list:
    """Plan ``count`` executions over the sample incidents, repeating them as needed."""
    from replay.planning import plan_executions

    incidents = sample_incidents()
    repeat = -(-count // len(incidents))
    plan = sorted(plan_executions(incidents, None, repeat), key=lambda p: (p.repeat, p.incident.row))
    return plan[:count]


@dataclass
class EngineRun:
    """Counts and duration of one engine pass."""

    elapsed_s: float
    done: int
    ok: int
    status: str


async def run_engine(url: str, plan: list, *, concurrency: int, rate: float | None = None, burst: int = 1,
                     journal_dir: Path | None = None) -> EngineRun:
    """Run ``plan`` through the replay engine with the run's own HTTP client; time it."""
    from replay.auth import StaticToken
    from replay.client import ExecutionClient
    from replay.engine import EngineSettings, ExecutionEngine
    from replay.journal import JournalWriter, encode_results
    from replay.progress import RunProgress
    from replay.connection import http_client

    settings = EngineSettings(concurrency=concurrency, rate=rate, burst=burst, timeout=60.0)
    with contextlib.ExitStack() as stack:
        folder = journal_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(dir=ROOT / "benchmarks")))
        journal = stack.enter_context(JournalWriter(folder))
        async with http_client(url, settings) as (http, transport):
            client = ExecutionClient(http, StaticToken(TOKEN), settings.timeout, transport=transport)
            progress = RunProgress(total=len(plan))
            engine = ExecutionEngine(client, settings, journal.write_encoded, progress, seed=0, encode=encode_results)
            started = time.perf_counter()
            outcome = await engine.run(plan)
            elapsed = time.perf_counter() - started
    return EngineRun(elapsed, progress.done, progress.ok, outcome.status)


async def bare_httpx(url: str, plan: list, *, concurrency: int) -> float:
    """Send the plan's request bodies with the run's HTTP client, nothing else; return seconds."""
    from replay.client import SINGLE_PATH, build_request_body
    from replay.engine import EngineSettings
    from replay.connection import http_client

    bodies = [build_request_body(p.incident, p.book_name) for p in plan]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    settings = EngineSettings(concurrency=concurrency, timeout=60.0)
    async with http_client(url, settings) as (http, _transport):

        async def worker(items: Iterator[dict]) -> None:
            for body in items:
                response = await http.post(SINGLE_PATH, json=body, headers=headers)
                await response.aread()
                response.json()

        started = time.perf_counter()
        items = iter(bodies)
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker, items)
        return time.perf_counter() - started


async def bare_aiohttp(url: str, plan: list, *, concurrency: int) -> float:
    """Send the plan's request bodies with a plain aiohttp session; return seconds."""
    import aiohttp

    from replay.client import SINGLE_PATH, build_request_body

    bodies = [build_request_body(p.incident, p.book_name) for p in plan]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker(items: Iterator[dict]) -> None:
            for body in items:
                async with session.post(SINGLE_PATH, json=body, headers=headers) as response:
                    await response.json()

        started = time.perf_counter()
        items = iter(bodies)
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker, items)
        return time.perf_counter() - started


def rss_mb(pid: int | str = "self") -> float:
    """Current resident set size of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
