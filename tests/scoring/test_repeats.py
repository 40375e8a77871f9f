"""Stability over repeats: the per-book summary, on frames and on a repeated simulator run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import replay
from replay.scoring import summarize_stability
from replay.scoring.stats import STABILITY_COLUMNS

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "q3.parquet"


def repeat_scores(verdicts_by_incident: dict[str, list[str]], book: str = "b") -> pd.DataFrame:
    rows = []
    values = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0, "unscored": None}
    for incident, verdicts in verdicts_by_incident.items():
        for repeat, verdict in enumerate(verdicts):
            rows.append({"book_name": book, "incident_id": incident, "repeat": repeat, "scorer": "rca",
                         "verdict": verdict, "score": values[verdict]})
    return pd.DataFrame(rows)


def test_stability_counts():
    scores = repeat_scores({
        "i1": ["correct", "correct", "correct"],
        "i2": ["correct", "incorrect", "incorrect"],
        "i3": ["partial", "partial", "unscored"],
        "i4": ["correct", "unscored", "unscored"],
    })
    row = summarize_stability(scores).iloc[0]
    assert list(summarize_stability(scores).columns) == ["book_name", *STABILITY_COLUMNS]
    assert row.n_incidents == 3
    assert row.repeats == 3
    assert row.n_unstable == 1
    assert row.unstable_rate == pytest.approx(1 / 3)
    assert row.consistency == pytest.approx((1 + 2 / 3 + 1) / 3)
    assert row.consistency_low <= row.consistency <= row.consistency_high
    assert row.majority_accuracy == pytest.approx(1 / 3)
    assert row.pass_at_1 == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert row.pass_at_k == pytest.approx(2 / 3)


def test_stability_without_repeats_empty():
    scores = repeat_scores({"i1": ["correct"], "i2": ["incorrect"]})
    assert summarize_stability(scores).empty


def test_stability_per_book():
    scores = pd.concat([repeat_scores({"i1": ["correct", "correct"]}, book="a"),
                        repeat_scores({"i1": ["correct", "partial"]}, book="b")])
    table = summarize_stability(scores).set_index("book_name")
    assert table.loc["a", "consistency"] == 1.0
    assert table.loc["b", "consistency"] == 0.5


@pytest.fixture(scope="module")
def repeated_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("repeats")
    outcome = replay.run(SAMPLE, simulator=True, books=("incident-triage", "db-checks"), repeat=3, limit=40,
                         simulator_latency=0, out=str(work / "runs"), reports_dir=str(work / "reports"))
    assert outcome.run_dir is not None
    return outcome.run_dir


def test_simulator_repeats_unstable(repeated_run):
    """incident-triage repeats its first answer with probability 0.85, so some verdicts flip."""
    table = summarize_stability(replay.load_scores(repeated_run)).set_index("book_name")
    triage = table.loc["incident-triage"]
    assert triage.n_incidents == 40
    assert triage.repeats == 3
    assert triage.n_unstable >= 1
    assert triage.consistency < 1.0
    assert triage.pass_at_k >= triage.pass_at_1
    assert table.loc["db-checks", "consistency"] >= triage.consistency
