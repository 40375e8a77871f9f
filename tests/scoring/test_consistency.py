"""The LLM judge's self-agreement, against a stub chat server that answers inconsistently."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from replay.errors import ConfigError
from replay.scoring.consistency import fleiss_kappa, format_judge_agreement, judge_agreement
from replay.scoring.judge import llm_judge
from replay.scoring.pipeline import label_from_row

CORRECT = '{"verdict": "correct", "explanation": "same"}'
PARTIAL = '{"verdict": "partial", "explanation": "close"}'
INCORRECT = '{"verdict": "incorrect", "explanation": "other"}'

INCIDENTS = pd.DataFrame({
    "incident_id": ["INC-1", "INC-2"],
    "root_cause": ["disk full on db-1", "expired TLS certificate on edge"],
    "root_cause_component": ["db-1", "edge"],
})
RESULTS = pd.DataFrame({
    "execution_key": ["k1", "k2", "k3", "k4"],
    "incident_id": ["INC-1", "INC-2", "INC-2", "INC-1"],
    "book_name": ["triage"] * 4,
    "status": ["ok", "ok", "timeout", "ok"],
    "highlights": ["Root cause: disk full on db-1", "Root cause: certificate expired", None, ""],
})


def make(url, **kwargs):
    return llm_judge(base_url=url, model="judge-1", rate_per_s=1000.0, preflight=False, **kwargs)


def test_fleiss_perfect_agreement():
    pairwise, kappa = fleiss_kappa(np.array([[3, 0, 0], [0, 3, 0]]))
    assert pairwise == 1.0
    assert kappa == pytest.approx(1.0)


def test_fleiss_split_votes():
    pairwise, kappa = fleiss_kappa(np.array([[2, 1, 0], [1, 2, 0]]))
    assert pairwise == pytest.approx(1 / 3)
    assert kappa == pytest.approx(-1 / 3)


def test_fleiss_one_category_undefined():
    pairwise, kappa = fleiss_kappa(np.array([[3, 0, 0], [2, 0, 0], [1, 0, 0]]))
    assert pairwise == 1.0
    assert math.isnan(kappa)


def test_agreement_flaky_judge(stub):
    chat, url = stub
    chat.replies[:] = [CORRECT, CORRECT, CORRECT, CORRECT, INCORRECT, INCORRECT]
    result = judge_agreement(RESULTS, INCIDENTS, make(url), repeats=3)

    rows = result.per_execution.set_index("execution_key")
    assert list(rows.index) == ["k1", "k2"]
    assert rows.loc["k1", "agreement"] == 1.0
    assert rows.loc["k2", "majority_verdict"] == "incorrect"
    assert rows.loc["k2", "agreement"] == pytest.approx(2 / 3)
    assert result.mean_agreement == pytest.approx((1 + 2 / 3) / 2)
    assert result.mean_pairwise == pytest.approx((1 + 1 / 3) / 2)
    assert result.fleiss_kappa < 1.0
    assert result.n_skipped == 2  # the timeout and the empty answer
    assert len(chat.requests) == 6
    assert "answers whose verdict changed between gradings: 1" in format_judge_agreement(result)


def test_agreement_steady_judge(stub):
    chat, url = stub
    chat.replies[:] = [CORRECT] * 3 + [PARTIAL] * 3
    result = judge_agreement(RESULTS, INCIDENTS, make(url), repeats=3)
    assert result.mean_agreement == 1.0
    assert result.fleiss_kappa == pytest.approx(1.0)


def test_repeats_bypass_cache(stub, tmp_path):
    chat, url = stub
    cache = tmp_path / "judge.jsonl"
    make(url, cache_path=cache)(label_from_row(INCIDENTS.iloc[0].to_dict()), "Root cause: disk full on db-1")
    chat.requests.clear()
    result = judge_agreement(RESULTS.iloc[:1], INCIDENTS, make(url, cache_path=cache), repeats=4)
    # the first grading comes from the cache, the other three call the model
    assert len(chat.requests) == 3
    assert result.per_execution["n_graded"].tolist() == [4]
    assert len(cache.read_text().splitlines()) == 1


def test_unscored_repeat_counted(stub):
    chat, url = stub
    chat.replies[:] = [CORRECT, "no verdict here", CORRECT]
    result = judge_agreement(RESULTS.iloc[:1], INCIDENTS, make(url, max_error_rate=1.0), repeats=3)
    row = result.per_execution.iloc[0]
    assert row["n_unscored"] == 1
    assert row["agreement"] == 1.0


def test_repeats_below_two(stub):
    _chat, url = stub
    with pytest.raises(ConfigError, match="at least 2"):
        judge_agreement(RESULTS, INCIDENTS, make(url), repeats=1)
