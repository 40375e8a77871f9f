"""``replay score RUN --scorer llm_judge`` in a subprocess, against a stub chat server on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import replay

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "q3.parquet"
KEY = "sk-cli-secret-456"
N_INCIDENTS = 4


@pytest.fixture
def run_dir(tmp_path) -> Path:
    outcome = replay.run(SAMPLE, simulator=True, books="db-checks", limit=N_INCIDENTS, simulator_latency=0,
                         out=str(tmp_path / "runs"), reports_dir=str(tmp_path / "reports"))
    assert outcome.run_dir is not None
    return outcome.run_dir


def score_with_judge(run_dir: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPLAY_JUDGE_URL": url, "REPLAY_JUDGE_MODEL": "stub-judge",
           "REPLAY_JUDGE_API_KEY": KEY, "REPLAY_JUDGE_RATE": "100",
           "REPLAY_JUDGE_MAX_ATTEMPTS": "1"}
    return subprocess.run([sys.executable, "-m", "replay", "score", str(run_dir), "--scorer", "llm_judge", *extra],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_judge_scores_run(server, run_dir):
    stub, url = server
    stub.reset()
    stub.fallback = '{"verdict": "partial", "explanation": "close"}'
    done = score_with_judge(run_dir, url)
    assert done.returncode == 0, done.stderr

    scores = replay.load_scores(run_dir)
    judged = scores[scores["scorer"] == "llm_judge"]
    assert len(judged) == N_INCIDENTS
    answered = judged[judged["explanation"] == "close"]
    assert len(answered) >= 1
    assert set(answered["verdict"]) == {"partial"}
    assert "rca" in set(scores["scorer"])
    assert stub.requests[0]["model"] == "stub-judge"
    assert set(stub.auth) == {f"Bearer {KEY}"}
    assert KEY not in done.stdout + done.stderr


def test_judge_error_rate_fails_pass(server, run_dir):
    stub, url = server
    stub.reset()
    stub.replies[:] = ['{"verdict": "correct"}']  # the preflight succeeds
    stub.fallback = "HTTP500"
    before = replay.load_scores(run_dir)
    done = score_with_judge(run_dir, url)

    assert done.returncode == 3
    assert "above the maximum error rate 20%" in done.stderr
    assert "REPLAY_JUDGE_MAX_ERROR_RATE" in done.stderr
    assert "Traceback" not in done.stderr
    assert KEY not in done.stdout + done.stderr
    after = replay.load_scores(run_dir)
    assert "llm_judge" not in set(after["scorer"])
    assert len(after) == len(before)


def test_judge_repeats_prints_agreement(server, run_dir):
    stub, url = server
    stub.reset()
    done = score_with_judge(run_dir, url, "--judge-repeats", "3")
    assert done.returncode == 0, done.stderr
    assert "graded 3 times" in done.stdout
    assert "Fleiss' kappa" in done.stdout
    assert "answers whose verdict changed between gradings: 0" in done.stdout
