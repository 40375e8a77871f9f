"""The LLM judge's rate limit and retries against a stub chat server on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest

from replay.errors import ConfigError
from replay.models import Label
from replay.retries import RetryPolicy
from replay.scoring.judge import llm_judge

LABEL = Label(root_cause="disk full on db-1", component="db-1", category="disk_full")
ANSWER = "Root cause: disk full on db-1"
FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, deadline=30.0, max_retry_after=5.0)


def make(url, **kwargs):
    kwargs.setdefault("rate_per_s", 1000.0)
    kwargs.setdefault("retry_policy", FAST)
    return llm_judge(base_url=url, model="judge-1", preflight=False, **kwargs)


def test_429_retry_after(stub, monkeypatch):
    chat, url = stub
    chat.replies[:] = ["HTTP429 retry-after=0.3", '{"verdict": "partial", "explanation": "close"}']
    judge = make(url)
    waits = []
    monkeypatch.setattr("replay.scoring.judge._sleep", lambda s: (waits.append(s), time.sleep(s)))
    score = judge(LABEL, ANSWER)
    assert score.verdict == "partial"
    assert score.evidence["attempts"] == 2
    assert len(chat.requests) == 2
    assert waits and waits[0] == pytest.approx(0.3)


def test_5xx_exhausted(stub):
    chat, url = stub
    chat.fallback = "HTTP503"
    score = make(url)(LABEL, ANSWER)
    assert score.verdict == "unscored"
    assert score.value is None
    assert score.explanation == "judge call failed after 3 attempt(s): HTTP 503"
    assert len(chat.requests) == 3


def test_5xx_then_success(stub):
    chat, url = stub
    chat.replies[:] = ["HTTP502", "HTTP500"]
    score = make(url)(LABEL, ANSWER)
    assert score.verdict == "correct"
    assert score.evidence["attempts"] == 3


def test_4xx_not_retried(stub):
    chat, url = stub
    chat.fallback = "HTTP401"
    score = make(url)(LABEL, ANSWER)
    assert score.explanation == "judge call failed after 1 attempt(s): HTTP 401"
    assert len(chat.requests) == 1


def test_long_retry_after_gives_up(stub):
    chat, url = stub
    chat.fallback = "HTTP429 retry-after=600"
    score = make(url)(LABEL, ANSWER)
    assert score.verdict == "unscored"
    assert "Retry-After 600 s" in score.explanation
    assert len(chat.requests) == 1


def test_timeout_retried(stub):
    chat, url = stub
    chat.replies[:] = ["SLOW1.0"]
    score = make(url, timeout_s=0.2)(LABEL, ANSWER)
    assert score.verdict == "correct"
    assert score.evidence["attempts"] == 2


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    score = make(f"http://127.0.0.1:{port}/v1")(LABEL, ANSWER)
    assert score.verdict == "unscored"
    assert "after 3 attempt(s): connection error (ConnectError" in score.explanation


def test_rate_limiter_spaces_calls(stub, monkeypatch):
    _chat, url = stub
    judge = make(url, rate_per_s=10.0)
    clock = [100.0]
    slots = []
    monkeypatch.setattr("replay.scoring.judge._clock", lambda: clock[0])
    monkeypatch.setattr("replay.scoring.judge._sleep", slots.append)
    for index in range(3):
        judge(LABEL, f"Root cause: x{index}")
    # the clock stands still, so each call after the first waits one more interval
    assert slots == pytest.approx([0.1, 0.2])


def test_max_attempts_env(monkeypatch):
    monkeypatch.setenv("REPLAY_JUDGE_MAX_ATTEMPTS", "1")
    judge = llm_judge(base_url="http://127.0.0.1:1", model="m", preflight=False)
    assert judge.retry_policy.max_attempts == 1
    with pytest.raises(ConfigError, match="at least 1"):
        llm_judge(base_url="http://127.0.0.1:1", model="m", max_attempts=0)
