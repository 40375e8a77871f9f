"""Real runs of the bundled sample against the simulator, shared by the comparison tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "q3.parquet"
V1, V2 = "incident-triage", "incident-triage-v2"


def replay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the replay command line in a subprocess."""
    return subprocess.run([sys.executable, "-m", "replay", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=300, env={**os.environ, "REPLAY_LOG_LEVEL": "WARNING"})


def _run(cwd: Path, limit: int, *books: str) -> Path:
    book_args = [arg for book in books for arg in ("--book", book)]
    done = replay("run", str(SAMPLE), "--simulator", "--simulator-latency", "0", "--limit", str(limit),
                  *book_args, "--out", "runs", cwd=cwd)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("results:"))
    return (cwd / line.split(":", 1)[1].strip()).parent


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Working directory of the real runs; the comparison reports land in its reports/."""
    return tmp_path_factory.mktemp("compare")


@pytest.fixture(scope="session")
def two_book_run(workdir: Path) -> Path:
    """One run of the first 60 incidents against both versions."""
    return _run(workdir, 60, V1, V2)


@pytest.fixture(scope="session")
def v1_run(workdir: Path) -> Path:
    """A run of the first 60 incidents against version 1 only."""
    return _run(workdir, 60, V1)


@pytest.fixture(scope="session")
def v2_run(workdir: Path) -> Path:
    """A run of the first 50 incidents against version 2 only, so 10 incidents are in v1_run alone."""
    return _run(workdir, 50, V2)
