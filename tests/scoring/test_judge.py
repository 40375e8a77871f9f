"""The LLM judge against a stub OpenAI-compatible chat server on 127.0.0.1."""

from __future__ import annotations

import json
import logging

import pytest

from replay.errors import ConfigError, RemoteCallError
from replay.models import Label
from replay.retries import RetryPolicy
from replay.scoring.judge import llm_judge

KEY = "sk-test-secret-123"
LABEL = Label(root_cause="disk full on db-1", component="db-1", category="disk_full")


# short waits, so a test of retries takes a fraction of a second
FAST_RETRIES = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, deadline=30.0, max_retry_after=5.0)


def make(url, **kwargs):
    kwargs.setdefault("rate_per_s", 1000.0)
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return llm_judge(base_url=url, api_key=KEY, model="judge-1", **kwargs)


def test_judge_verdict_and_evidence(stub):
    chat, url = stub
    chat.replies[:] = ["ok", '{"verdict": "partial", "explanation": "wrong host"}']
    score = make(url)(LABEL, "Root cause: disk full on db-2. Evidence: df.")
    assert score.verdict == "partial"
    assert score.value == 0.5
    assert score.explanation == "wrong host"
    assert score.evidence["judge_model"] == "judge-1"
    assert score.evidence["prompt_version"] == "rca-judge-1"
    assert len(chat.requests) == 2  # preflight, then the verdict
    assert "disk full on db-2" in chat.requests[1]["messages"][0]["content"]
    assert "Evidence" not in chat.requests[1]["messages"][0]["content"]
    assert chat.auth[-1] == f"Bearer {KEY}"


@pytest.mark.parametrize("reply", ["I think it is fine", '{"verdict": "maybe"}', "", "NOT_JSON"])
def test_unparseable_is_unscored(stub, reply):
    chat, url = stub
    chat.replies[:] = [reply]
    score = make(url, preflight=False)(LABEL, "Root cause: disk full on db-1")
    assert score.verdict == "unscored"
    assert score.value is None


def test_text_verdict_parsed(stub):
    chat, url = stub
    chat.replies[:] = ["Verdict: INCORRECT because the host differs"]
    assert make(url, preflight=False)(LABEL, "Root cause: dns").verdict == "incorrect"


def test_cache_avoids_second_call(stub, tmp_path):
    chat, url = stub
    cache = tmp_path / "judge.jsonl"
    first = make(url, preflight=False, cache_path=cache)(LABEL, "Root cause: disk full on db-1")
    second = make(url, preflight=False, cache_path=cache)(LABEL, "Root cause: disk full on db-1")
    assert first.verdict == second.verdict == "correct"
    assert second.evidence["cached"] is True
    assert len(chat.requests) == 1


def test_cache_key_changes_with_prompt_version(stub):
    chat, url = stub
    a = make(url, preflight=False)(LABEL, "Root cause: disk full on db-1")
    b = make(url, preflight=False, prompt_version="rca-judge-2")(LABEL, "Root cause: disk full on db-1")
    assert a.evidence["cache_key"] != b.evidence["cache_key"]


def test_preflight_failure_names_fix(stub, caplog):
    chat, url = stub
    chat.fallback = "HTTP500"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError, match="failed after 3 attempt.*REPLAY_JUDGE_URL") as info:
        make(url)(LABEL, "Root cause: disk full")
    assert KEY not in str(info.value)
    assert KEY not in caplog.text


def test_max_error_rate(stub):
    chat, url = stub
    chat.replies[:] = ["garbage"] * 5
    judge = make(url, preflight=False, max_error_rate=0.5, min_calls_for_rate=3)
    for _ in range(2):
        assert judge(LABEL, f"Root cause: x{_}").verdict == "unscored"
    with pytest.raises(RemoteCallError, match="maximum error rate"):
        judge(LABEL, "Root cause: x3")


def test_http_error_unscored(stub, caplog):
    chat, url = stub
    chat.fallback = "HTTP500"
    score = make(url, preflight=False)(LABEL, "Root cause: disk")
    assert score.verdict == "unscored"
    assert score.explanation == "judge call failed after 3 attempt(s): HTTP 500"
    assert score.evidence["attempts"] == 3
    assert len(chat.requests) == 3
    assert KEY not in caplog.text


def test_empty_answer_skips_call(stub):
    chat, url = stub
    assert make(url)(LABEL, "").verdict == "incorrect"
    assert chat.requests == []


def test_settings_from_env(monkeypatch, stub):
    chat, url = stub
    monkeypatch.setenv("REPLAY_JUDGE_URL", url)
    monkeypatch.setenv("REPLAY_JUDGE_MODEL", "env-model")
    monkeypatch.setenv("REPLAY_JUDGE_API_KEY", KEY)
    judge = llm_judge(preflight=False)
    judge(LABEL, "Root cause: disk full")
    assert chat.requests[0]["model"] == "env-model"
    assert KEY not in repr(judge)


def test_missing_url(monkeypatch):
    monkeypatch.delenv("REPLAY_JUDGE_URL", raising=False)
    with pytest.raises(ConfigError, match="REPLAY_JUDGE_URL"):
        llm_judge(model="m")


def test_rubric_needs_fields():
    with pytest.raises(ConfigError, match="{statement}"):
        llm_judge(base_url="http://127.0.0.1:1", model="m", rubric="grade {root_cause}")


def test_cache_file_lines(stub, tmp_path):
    chat, url = stub
    cache = tmp_path / "c.jsonl"
    make(url, preflight=False, cache_path=cache)(LABEL, "Root cause: disk full on db-1")
    entry = json.loads(cache.read_text().splitlines()[0])
    assert entry["verdict"] == "correct"
    assert KEY not in cache.read_text()


def test_finish_checks_small_pass(stub):
    chat, url = stub
    chat.fallback = "HTTP500"
    judge = make(url, preflight=False)
    for index in range(2):
        assert judge(LABEL, f"Root cause: x{index}").verdict == "unscored"
    with pytest.raises(RemoteCallError, match="failed 2 of 2 calls.*no judge scores were written"):
        judge.finish()
    assert judge.calls == 0
    judge.finish()


def test_finish_under_rate_passes(stub):
    chat, url = stub
    chat.replies[:] = ["HTTP500"] * 3
    judge = make(url, preflight=False, max_error_rate=0.5)
    for index in range(3):
        judge(LABEL, f"Root cause: y{index}")
    judge.finish()


def test_rate_settings_from_env(monkeypatch):
    monkeypatch.setenv("REPLAY_JUDGE_RATE", "40")
    monkeypatch.setenv("REPLAY_JUDGE_MAX_ERROR_RATE", "0.05")
    judge = llm_judge(base_url="http://127.0.0.1:1", model="m", preflight=False)
    assert judge.min_interval_s == pytest.approx(1 / 40)
    assert judge.max_error_rate == 0.05


def test_rate_env_not_number(monkeypatch):
    monkeypatch.setenv("REPLAY_JUDGE_RATE", "fast")
    with pytest.raises(ConfigError, match="REPLAY_JUDGE_RATE='fast' is not a number"):
        llm_judge(base_url="http://127.0.0.1:1", model="m")
