"""Scores of several versions of one scorer: summaries read the newest version."""

from __future__ import annotations

import pandas as pd
import pytest

from replay.scoring.stats import newest_versions, summarize, summarize_repeats


def scores_frame(rows):
    return pd.DataFrame([{"execution_key": key, "incident_id": key.split("/")[0], "book_name": "triage",
                          "repeat": int(key.split("/")[1]), "scorer": scorer, "scorer_version": version,
                          "score": value, "verdict": verdict}
                         for key, scorer, version, value, verdict in rows])


OLD_AND_NEW = scores_frame([
    ("i1/0", "rca", "1", 0.0, "incorrect"),
    ("i2/0", "rca", "1", 0.0, "incorrect"),
    ("i1/0", "rca", "2", 1.0, "correct"),
    ("i2/0", "rca", "2", 1.0, "correct"),
    ("i1/0", "keywords", "1", 0.5, "partial"),
    ("i2/0", "keywords", "1", 0.5, "partial"),
])
RESULTS = pd.DataFrame({"execution_key": ["i1/0", "i2/0"], "incident_id": ["i1", "i2"],
                        "book_name": ["triage"] * 2, "status": ["ok", "ok"], "latency_s": [1.0, 2.0]})
INCIDENTS = pd.DataFrame({"incident_id": ["i1", "i2"], "root_cause": ["a", "b"]})


def test_newest_keeps_other_scorers():
    kept = newest_versions(OLD_AND_NEW)
    assert set(zip(kept["scorer"], kept["scorer_version"])) == {("rca", "2"), ("keywords", "1")}
    assert len(kept) == 4


def test_newest_single_version_unchanged():
    frame = OLD_AND_NEW[OLD_AND_NEW["scorer_version"] == "1"]
    assert newest_versions(frame) is frame


@pytest.mark.parametrize(("older", "newer"), [("9", "10"), ("1", "1.1"), (None, "1"), ("2.0", "2.0.1")])
def test_newest_compares_numbers(older, newer):
    frame = scores_frame([("i1/0", "rca", older, 0.0, "incorrect"), ("i1/0", "rca", newer, 1.0, "correct")])
    assert newest_versions(frame)["verdict"].tolist() == ["correct"]


def test_newest_categorical_columns():
    frame = OLD_AND_NEW.astype({"scorer": "category", "scorer_version": "category"})
    assert len(newest_versions(frame)) == 4


def test_summary_uses_newest_version():
    summary = summarize(RESULTS, OLD_AND_NEW, INCIDENTS, scorer="rca")
    assert summary["n_correct"].tolist() == [2]
    assert summary["accuracy"].tolist() == [1.0]


def test_summary_newest_version_order_free():
    # the newest version counts even when its rows come first in the file
    reordered = OLD_AND_NEW.iloc[[2, 3, 0, 1, 4, 5]]
    assert summarize(RESULTS, reordered.iloc[::-1], INCIDENTS, scorer="rca")["n_correct"].tolist() == [2]


def test_repeats_use_newest_version():
    repeats = summarize_repeats(OLD_AND_NEW, scorer="rca")
    assert repeats["n_repeats"].tolist() == [1, 1]
    assert repeats["majority_verdict"].tolist() == ["correct", "correct"]


def test_calibration_uses_newest_version():
    from replay.scoring.calibration import calibrate

    incidents = INCIDENTS.assign(human_verdict=["correct", "correct"])
    result = calibrate(OLD_AND_NEW, incidents)
    rca = next(entry for entry in result["scorers"] if entry["scorer"] == "rca")
    assert rca["n"] == 2
    assert rca["accuracy"] == 1.0
