"""The simulator over real HTTP: uvicorn on 127.0.0.1, in a thread and as the simulate command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from replay.client import build_request_body
from replay.simulator import FaultConfig, SimulatorConfig, create_app, serve_in_thread
from replay.simulator.command import simulate

from .conftest import TOKEN, make_world


def test_serve_in_thread_round_trip(tmp_path) -> None:
    world, incidents = make_world(4)
    log_path = tmp_path / "requests.jsonl"
    app = create_app(
        SimulatorConfig(world=world, token=TOKEN, latency_scale=0, request_log_path=log_path)
    )
    with serve_in_thread(app) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base_url, headers=headers) as client:
            single = client.post(
                "/playbook/execution", json=build_request_body(incidents[0], "incident-triage")
            )
            batch = client.post(
                "/playbook/execution/batch",
                json={
                    "inputList": [
                        build_request_body(incident, "db-checks") for incident in incidents
                    ],
                    "liveRun": False,
                },
            )
            # the log file is readable while the server still runs
            lines = log_path.read_text().splitlines()
    assert single.status_code == 200
    assert "highlights" in single.json()
    assert len(batch.json()) == 4
    assert [json.loads(line)["status"] for line in lines] == [200, 200]


def test_hang_times_out_client() -> None:
    app = create_app(
        SimulatorConfig(token=TOKEN, latency_scale=0, faults=FaultConfig(hang_rate=1.0, hang_s=60))
    )
    with serve_in_thread(app) as base_url, pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{base_url}/playbook/execution",
            timeout=0.3,
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"bookName": "incident-triage", "time": "2026-07-01T00:00:00Z"},
        )
    # leaving the block woke the hanging request, so the server stopped
    assert app.state.simulator.is_closing


def test_port_in_use_fails() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError), serve_in_thread(create_app(), port=port):
            pass


def test_simulate_help_lists_options() -> None:
    result = CliRunner().invoke(simulate, ["--help"])
    assert result.exit_code == 0
    for option in (
        "--world",
        "--books",
        "--port",
        "--token-env",
        "--seed",
        "--latency-scale",
        "--rate-429",
        "--hang-rate",
        "--malformed-rate",
        "--short-batch-rate",
        "--rate-limit",
        "--request-log",
    ):
        assert option in result.output


def test_simulate_bad_books_message(tmp_path) -> None:
    books = tmp_path / "books.toml"
    books.write_text("[[book]]\nname = 'x'\nverbosity = 'loud'\n")
    result = CliRunner().invoke(simulate, ["--books", str(books)])
    assert result.exit_code == 1
    assert "verbosity='loud' is invalid" in result.output
    assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_simulate_command_serves(tmp_path) -> None:
    port = _free_port()
    log_path = tmp_path / "requests.jsonl"
    env = {**os.environ, "SIM_TOKEN": "from-env"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from replay.simulator.command import simulate; simulate()",
            "--port",
            str(port),
            "--token-env",
            "SIM_TOKEN",
            "--latency-scale",
            "0",
            "--request-log",
            str(log_path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/playbook/execution"
        body = {"bookName": "incident-triage", "time": "2026-07-01T00:00:00Z", "title": "t"}
        deadline = time.monotonic() + 20
        while True:
            try:
                denied = httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"})
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        allowed = httpx.post(url, json=body, headers={"Authorization": "Bearer from-env"})
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert denied.status_code == 401
    assert allowed.status_code == 200
    assert b"from-env" not in stderr
    assert len(log_path.read_text().splitlines()) == 2
