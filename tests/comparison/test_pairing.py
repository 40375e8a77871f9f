"""Pairing, repeats and paired metrics on small hand-made executions frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from replay.comparison import collapse_repeats, compare_executions, pair_incidents
from replay.errors import ConfigError, StoreError

SCORE = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0}


def frame(rows: list[tuple[str, str]], *, latency: float = 1.0, status: dict[str, str] | None = None) -> pd.DataFrame:
    """Build one side's executions from (incident_id, verdict) pairs; ``status`` overrides by incident."""
    status = status or {}
    records = []
    for repeat, (incident, verdict) in enumerate(rows, start=1):
        state = status.get(incident, "ok")
        records.append({
            "incident_id": incident, "repeat": repeat, "verdict": verdict if state == "ok" else "unscored",
            "score": SCORE.get(verdict) if state == "ok" else None, "status": state,
            "latency_s": latency if state == "ok" else None,
            "highlights": f"{incident} {verdict} #{repeat}" if state == "ok" else None,
        })
    return pd.DataFrame(records)


# I1-I5 correct on both, I6 a regression, I7-I9 fixes, I10 wrong on both,
# I11 unscored on B (timeout), I12 only in A, I13 only in B
SIDE_A = frame([("I1", "correct"), ("I2", "correct"), ("I3", "correct"), ("I4", "correct"), ("I5", "correct"),
                ("I6", "correct"), ("I7", "incorrect"), ("I8", "incorrect"), ("I9", "partial"),
                ("I10", "incorrect"), ("I11", "correct"), ("I12", "correct")], latency=1.0)
SIDE_B = frame([("I1", "correct"), ("I2", "correct"), ("I3", "correct"), ("I4", "correct"), ("I5", "correct"),
                ("I6", "incorrect"), ("I7", "correct"), ("I8", "correct"), ("I9", "correct"),
                ("I10", "partial"), ("I11", "correct"), ("I13", "correct")], latency=2.0, status={"I11": "timeout"})


@pytest.fixture(scope="module")
def hand_made():
    return compare_executions(SIDE_A, SIDE_B)


def test_pairs_outcomes(hand_made) -> None:
    assert hand_made.regressions == ["I6"]
    assert hand_made.fixes == ["I7", "I8", "I9"]
    assert hand_made.still_wrong == ["I10"]
    assert hand_made.unscored == ["I11"]
    assert hand_made.only_a == ["I12"]
    assert hand_made.only_b == ["I13"]
    assert hand_made.n_pairs == 11
    assert hand_made.n_scored_pairs == 10


def test_accuracy_hand_computed(hand_made) -> None:
    accuracy = hand_made.accuracy
    assert accuracy.a == pytest.approx(0.6)
    assert accuracy.b == pytest.approx(0.8)
    assert accuracy.delta == pytest.approx(0.2)
    assert accuracy.delta_low <= 0.2 <= accuracy.delta_high
    assert accuracy.n == 10
    assert hand_made.accuracy_drop_points == pytest.approx(-20.0)


def test_mcnemar_hand_computed(hand_made) -> None:
    assert hand_made.mcnemar.regressions == 1
    assert hand_made.mcnemar.fixes == 3
    # 2 * P(X <= 1), X ~ Binomial(4, 1/2)
    assert hand_made.mcnemar.p_value == pytest.approx(2 * 5 / 16)


def test_mean_score_hand_computed(hand_made) -> None:
    metric = hand_made.metric("mean_score")
    assert metric.a == pytest.approx(0.65)
    assert metric.b == pytest.approx(0.85)
    assert metric.delta == pytest.approx(0.2)


def test_rates_over_executed_pairs(hand_made) -> None:
    for name in ("error_rate", "timeout_rate"):
        metric = hand_made.metric(name)
        assert metric.a == 0.0
        assert metric.b == pytest.approx(1 / 11)
        assert metric.n == 11
    assert hand_made.metric("no_data_rate").delta == 0.0


def test_latency_delta(hand_made) -> None:
    for name in ("latency_p50_s", "latency_p90_s"):
        metric = hand_made.metric(name)
        assert metric.delta == pytest.approx(1.0)
        assert (metric.delta_low, metric.delta_high) == pytest.approx((1.0, 1.0))
        assert metric.n == 10
        assert metric.is_lower_better


def test_majority_tie_goes_worse() -> None:
    collapsed = collapse_repeats(frame([("X", "correct"), ("X", "incorrect"), ("Y", "correct"), ("Y", "partial"),
                                        ("Z", "correct"), ("Z", "incorrect"), ("Z", "correct")]))
    assert collapsed.loc["X", "verdict"] == "incorrect"
    assert collapsed.loc["Y", "verdict"] == "partial"
    assert collapsed.loc["Z", "verdict"] == "correct"
    assert collapsed.loc["Z", "correct_share"] == pytest.approx(2 / 3)
    assert collapsed.loc["Z", "n_executions"] == 3


def test_highlights_from_majority_repeat() -> None:
    collapsed = collapse_repeats(frame([("X", "incorrect"), ("X", "correct"), ("X", "correct")]))
    assert collapsed.loc["X", "highlights"] == "X correct #2"


def test_all_repeats_failed_unscored() -> None:
    collapsed = collapse_repeats(frame([("X", "correct"), ("X", "correct")], status={"X": "no_data"}))
    assert collapsed.loc["X", "verdict"] is None
    assert collapsed.loc["X", "no_data_share"] == 1.0
    assert collapsed.loc["X", "statuses"] == "no_data"


def test_mean_rule_uses_share() -> None:
    a = frame([("X", "correct"), ("X", "incorrect"), ("X", "correct"), ("Y", "incorrect")])
    b = frame([("X", "correct"), ("Y", "incorrect")])
    majority = compare_executions(a, b)
    mean = compare_executions(a, b, repeats="mean")
    assert majority.accuracy.a == pytest.approx(0.5)
    assert mean.accuracy.a == pytest.approx(1 / 3)
    assert mean.accuracy.b == pytest.approx(0.5)
    # McNemar uses majority verdicts under both rules
    assert mean.mcnemar == majority.mcnemar


def test_unknown_repeat_rule() -> None:
    with pytest.raises(ConfigError, match="majority"):
        compare_executions(SIDE_A, SIDE_B, repeats="median")  # type: ignore[arg-type]


def test_missing_verdict_column() -> None:
    with pytest.raises(StoreError, match="verdict"):
        pair_incidents(SIDE_A.drop(columns="verdict"), SIDE_B)


def test_incident_texts_attached() -> None:
    incidents = pd.DataFrame({"incident_id": ["I6"], "title": ["Checkout down"], "root_cause": ["pool"]})
    pairs = pair_incidents(SIDE_A, SIDE_B, incidents).set_index("incident_id")
    assert pairs.loc["I6", "title"] == "Checkout down"
    assert pairs.loc["I7", "title"] is None


def test_gate_boundary() -> None:
    a = frame([("X", "correct"), ("Y", "correct"), ("Z", "incorrect")])
    b = frame([("X", "correct"), ("Y", "incorrect"), ("Z", "incorrect")])
    comparison = compare_executions(a, b)
    assert comparison.accuracy_drop_points == pytest.approx(100 / 3)
    assert not comparison.exceeds_drop(100 / 3)
    assert comparison.exceeds_drop(33.3)
    assert not comparison.exceeds_drop(34)


def test_gate_without_scored_pairs() -> None:
    a = frame([("X", "correct")], status={"X": "timeout"})
    comparison = compare_executions(a, frame([("X", "correct")]))
    assert math.isnan(comparison.accuracy.a)
    assert comparison.exceeds_drop(100)
