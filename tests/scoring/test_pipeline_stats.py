"""score_run, the scores schema, summaries, repeats and agreement."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay.errors import ConfigError, StoreError
from replay.scoring import SCORES_SCHEMA, score_run, summarize, summarize_repeats
from replay.scoring.agreement import agreement, cohen_kappa
from replay.scoring.stats import SUMMARY_COLUMNS, bootstrap_mean_interval, wilson_interval


def results_frame(rows):
    base = {"book_name": "incident-triage", "repeat": 0, "status": "ok", "latency_s": 1.0, "highlights": None}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["execution_key"] = [f"{r['incident_id']}/{r.get('book_name', base['book_name'])}/{r.get('repeat', 0)}"
                              for r in rows]
    return frame


@pytest.fixture
def incidents():
    return pd.DataFrame([
        {"incident_id": "i1", "root_cause": "disk full on db-1", "root_cause_component": "db-1",
         "root_cause_category": "disk_full", "root_cause_keywords": ["disk", "full"],
         "human_verdict": "correct", "severity": "sev1"},
        {"incident_id": "i2", "root_cause": "connection pool exhausted in api", "root_cause_component": None,
         "root_cause_category": "connection_pool_exhaustion", "root_cause_keywords": None,
         "human_verdict": "wrong", "severity": "sev2"},
    ])


@pytest.fixture
def results():
    return results_frame([
        {"incident_id": "i1", "highlights": "Root cause: disk full on db-1. Immediate action: clean."},
        {"incident_id": "i2", "highlights": "Root cause: DNS failure."},
        {"incident_id": "i1", "book_name": "db-checks", "status": "timeout", "latency_s": None},
        {"incident_id": "i2", "book_name": "db-checks", "status": "no_data", "latency_s": 2.0},
    ])


def test_score_run_rows(results, incidents):
    scores = score_run(results, incidents, ["rca", "keywords"])
    assert len(scores) == 8
    assert list(scores.columns) == SCORES_SCHEMA.names
    rca = scores[scores["scorer"] == "rca"].set_index("execution_key")
    assert rca.loc["i1/incident-triage/0", "verdict"] == "correct"
    assert rca.loc["i2/incident-triage/0", "verdict"] == "incorrect"
    assert rca.loc["i1/db-checks/0", "verdict"] == "unscored"
    assert rca.loc["i1/db-checks/0", "explanation"] == "timeout"
    assert math.isnan(rca.loc["i1/db-checks/0", "score"])


def test_scores_parquet_roundtrip(results, incidents, tmp_path):
    scores = score_run(results, incidents, ["rca"])
    table = pa.Table.from_pandas(scores, schema=SCORES_SCHEMA, preserve_index=False)
    pq.write_table(table, tmp_path / "scores.parquet")
    assert pq.read_schema(tmp_path / "scores.parquet").equals(SCORES_SCHEMA)


def test_keywords_as_semicolon_text(results, incidents):
    incidents.loc[0, "root_cause_keywords"] = "disk; full"
    scores = score_run(results.head(1), incidents, ["keywords"])
    assert scores.loc[0, "verdict"] == "correct"


def test_scorer_exception_unscored(results, incidents, caplog):
    class Broken:
        name, version = "broken", "0"

        def __call__(self, label, highlights):
            raise RuntimeError("bug")

    scores = score_run(results.head(1), incidents, [Broken()])
    assert scores.loc[0, "verdict"] == "unscored"
    assert "RuntimeError" in scores.loc[0, "explanation"]
    assert "i1/incident-triage/0" in caplog.text


def test_component_aliases_column(results, incidents):
    incidents["root_cause_component_aliases"] = [["payments database"], None]
    results.loc[0, "highlights"] = "Root cause: disk full on the payments database."
    incidents.loc[0, "root_cause_component"] = "payments-db"
    scores = score_run(results.head(1), incidents, ["element"])
    assert scores.loc[0, "verdict"] == "correct"


def test_score_run_missing_column(results, incidents):
    with pytest.raises(StoreError, match="highlights"):
        score_run(results.drop(columns=["highlights"]), incidents, ["rca"])


def test_empty_results(incidents):
    scores = score_run(results_frame([]).reindex(columns=["execution_key", "incident_id", "book_name", "repeat",
                                                          "status", "highlights"]), incidents, ["rca"])
    assert scores.empty
    assert list(scores.columns) == SCORES_SCHEMA.names


def test_wilson_known_values():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_bootstrap_interval():
    low, high = bootstrap_mean_interval([0, 1] * 50)
    assert low < 0.5 < high
    assert bootstrap_mean_interval([0.3, 0.3]) == (0.3, 0.3)
    assert all(math.isnan(x) for x in bootstrap_mean_interval([]))
    assert bootstrap_mean_interval([0, 1, 1], seed=3) == bootstrap_mean_interval([0, 1, 1], seed=3)


def test_summarize_by_book(results, incidents):
    scores = score_run(results, incidents, ["rca", "lexical"])
    summary = summarize(results, scores, incidents).set_index("book_name")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    triage = summary.loc["incident-triage"]
    assert (triage.n_executions, triage.n_scored, triage.n_correct, triage.n_incorrect) == (2, 2, 1, 1)
    assert triage.accuracy == 0.5
    checks = summary.loc["db-checks"]
    assert checks.n_unscored == 2
    assert math.isnan(checks.accuracy)
    assert checks.error_rate == 1.0
    assert checks.timeout_rate == 0.5
    assert checks.no_data_rate == 0.5
    assert checks.latency_p50_s == 2.0


def test_summarize_by_metadata(results, incidents):
    scores = score_run(results, incidents, ["rca"])
    summary = summarize(results, scores, incidents, by=("severity", "root_cause_category"))
    assert list(summary.columns[:2]) == ["severity", "root_cause_category"]
    assert set(summary["severity"]) == {"sev1", "sev2"}
    assert summarize(results, scores, incidents, by=()).loc[0, "n_executions"] == 4


def test_summarize_unknown_group(results, incidents):
    scores = score_run(results, incidents, ["rca"])
    with pytest.raises(ConfigError, match="cannot group by \\['team'\\]"):
        summarize(results, scores, incidents, by=("team",))
    with pytest.raises(ConfigError, match="scorer 'judge' has no scores"):
        summarize(results, scores, incidents, scorer="judge")


def test_summarize_repeats():
    scores = pd.DataFrame({
        "book_name": ["b"] * 4, "incident_id": ["i1"] * 4, "scorer": ["rca"] * 4,
        "verdict": ["correct", "incorrect", "correct", "unscored"], "score": [1.0, 0.0, 1.0, None],
    })
    row = summarize_repeats(scores).iloc[0]
    assert (row.n_repeats, row.n_scored, row.n_correct) == (4, 3, 2)
    assert row.majority_verdict == "correct"
    assert row.consistency == pytest.approx(2 / 3)
    assert row.pass_at_k == 1.0
    assert summarize_repeats(scores, k=1).iloc[0].pass_at_k == pytest.approx(2 / 3)


def test_majority_tie_goes_to_worse():
    scores = pd.DataFrame({"book_name": ["b", "b"], "incident_id": ["i", "i"], "scorer": ["rca", "rca"],
                           "verdict": ["correct", "incorrect"], "score": [1.0, 0.0]})
    assert summarize_repeats(scores).iloc[0].majority_verdict == "incorrect"


def test_agreement_frame(results, incidents):
    scores = score_run(results, incidents, ["rca", "lexical"])
    frame = agreement(scores, incidents).set_index("scorer")
    assert frame.loc["rca", "n"] == 2
    assert frame.loc["rca", "n_unscored"] == 2
    assert frame.loc["rca", "accuracy"] == 1.0
    assert frame.loc["rca", "best_threshold_accuracy"] == 1.0


def test_agreement_without_human(results, incidents):
    scores = score_run(results, incidents, ["rca"])
    assert agreement(scores, incidents.drop(columns=["human_verdict"])).empty


def test_cohen_kappa_values():
    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.0
    assert math.isnan(cohen_kappa([], []))
