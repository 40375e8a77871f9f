"""The default scorer's verdicts against the simulator's own decisions, over real loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from replay.datasets import load_incidents
from replay.reporting import read_scores
from replay.runner import run_replay
from replay.settings import load_settings
from replay.simulator import SimulatorConfig, World, create_app, serve_in_thread

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "q3.parquet"
BOOKS = ("incident-triage", "incident-triage-v2", "db-checks")
# the simulator's answer kind -> the verdict a careful grader gives it
EXPECTED_VERDICT = {"correct": "correct", "partial": "partial", "wrong": "incorrect", "inconclusive": "incorrect"}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = tmp_path_factory.mktemp("runs")
    world = World.from_incidents(load_incidents(SAMPLE).incidents)
    app = create_app(SimulatorConfig(world=world, token="sim-token", latency_scale=0))
    with serve_in_thread(app) as base_url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("WILDMOOSE_API_TOKEN", "sim-token")
        settings = load_settings({"api_url": base_url, "books": BOOKS, "concurrency": 16, "rate": 0,
                                  "out": str(out), "reports_dir": str(out / "reports")}, environ={})
        outcome = run_replay(SAMPLE, settings)
    decided = pd.DataFrame(app.state.request_log.answer_kinds())
    scores = read_scores(outcome.run_dir)
    return decided, scores[scores["scorer"] == "rca"]


def test_scorer_accuracy_near_truth(replayed: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    decided, scores = replayed
    rows = []
    for book in BOOKS:
        kinds = decided.loc[decided["book"] == book, "kind"]
        verdicts = scores.loc[scores["book_name"] == book, "verdict"]
        rows.append((book, (kinds == "correct").mean(), (verdicts == "correct").mean()))
    print("\nbook, true accuracy (simulator), measured accuracy (rca)")
    for book, true, measured in rows:
        print(f"{book:<20} {true:6.1%} {measured:6.1%}")
    for book, true, measured in rows:
        assert abs(true - measured) < 0.06, book


def test_scorer_agrees_per_execution(replayed: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    decided, scores = replayed
    merged = decided.merge(scores, left_on=["book", "incident_id"], right_on=["book_name", "incident_id"])
    assert len(merged) == len(scores)
    expected = merged["kind"].map(EXPECTED_VERDICT)
    agreement = (expected == merged["verdict"]).mean()
    print(f"\nrca verdict equals the simulator's decision on {agreement:.1%} of {len(merged)} executions")
    assert agreement > 0.9
