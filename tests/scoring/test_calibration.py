"""Calibration against human verdicts: labels files, joins, calibration.json and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import replay
from replay.cli import main
from replay.errors import ConfigError, DatasetError
from replay.scoring.calibration import (
    CALIBRATION_FILE,
    calibrate,
    format_calibration,
    read_calibration,
    read_labels,
)

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "q3.parquet"
BOOKS = ("incident-triage", "db-checks")


def scores_frame(rows):
    return pd.DataFrame([{"book_name": "a", "repeat": 0, "score": 1.0, **row} for row in rows])


SCORES = scores_frame([
    {"incident_id": "i1", "scorer": "rca", "verdict": "correct", "score": 0.9},
    {"incident_id": "i1", "book_name": "b", "scorer": "rca", "verdict": "incorrect", "score": 0.1},
    {"incident_id": "i2", "scorer": "rca", "verdict": "partial", "score": 0.5},
    {"incident_id": "i3", "scorer": "rca", "verdict": "unscored", "score": None},
])


def test_labels_csv_with_book(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("incidentId,bookName,humanVerdict\ni1,a,Correct\ni1,b,wrong\ni2,,\n")
    labels = read_labels(path)
    assert list(labels["human"]) == ["correct", "incorrect"]
    assert list(labels["book_name"]) == ["a", "b"]


def test_labels_jsonl_without_book(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"incident_id": 7, "human_verdict": "partial"}\n')
    labels = read_labels(path)
    assert labels.loc[0, "incident_id"] == "7"
    assert labels.loc[0, "book_name"] is None


def test_labels_parquet(tmp_path):
    path = tmp_path / "labels.parquet"
    pd.DataFrame({"incident_id": ["i1"], "human_verdict": ["yes"]}).to_parquet(path)
    assert read_labels(path).loc[0, "human"] == "correct"


def test_labels_invalid_verdict_names_row(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("incident_id,human_verdict\ni1,correct\ni2,maybe\n")
    with pytest.raises(DatasetError, match=r"row 2 \(incident i2\): human_verdict 'maybe' is not a verdict"):
        read_labels(path)


def test_labels_missing_column(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("incident_id,grade\ni1,correct\n")
    with pytest.raises(DatasetError, match="missing column.*human_verdict.*Found: incident_id, grade"):
        read_labels(path)


def test_labels_duplicate_rejected(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("incident_id,human_verdict\ni1,correct\ni1,partial\n")
    with pytest.raises(DatasetError, match="incident 'i1' has 2 verdicts"):
        read_labels(path)


def test_labels_unknown_extension(tmp_path):
    path = tmp_path / "labels.xlsx"
    path.write_text("x")
    with pytest.raises(DatasetError, match="unknown extension '.xlsx'"):
        read_labels(path)


def test_labels_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        read_labels(tmp_path / "nope.csv")


def test_calibrate_book_verdict_wins():
    labels = pd.DataFrame({"incident_id": ["i1", "i1", "i2"], "book_name": [None, "b", None],
                           "human": ["correct", "incorrect", "partial"], "row": [1, 2, 3]})
    result = calibrate(SCORES, pd.DataFrame({"incident_id": []}), labels, source="test")
    entry = result["scorers"][0]
    assert entry["scorer"] == "rca"
    assert entry["n"] == 3
    assert entry["accuracy"] == 1.0
    assert entry["confusion"]["incorrect"]["incorrect"] == 1
    assert result["n_verdicts"] == 3
    assert result["n_unmatched_labels"] == 0


def test_calibrate_from_dataset_column():
    incidents = pd.DataFrame({"incident_id": ["i1", "i2", "i9"], "human_verdict": ["wrong", "partial", "correct"]})
    result = calibrate(SCORES, incidents)
    entry = result["scorers"][0]
    assert entry["n"] == 3
    assert entry["accuracy"] == pytest.approx(2 / 3)
    assert result["n_unmatched_labels"] == 1
    assert result["source"] == "dataset column human_verdict"


def test_calibrate_without_verdicts():
    with pytest.raises(ConfigError, match="no human verdicts.*--labels FILE"):
        calibrate(SCORES, pd.DataFrame({"incident_id": ["i1"]}))


def test_calibration_json_ready():
    labels = pd.DataFrame({"incident_id": ["i3"], "book_name": [None], "human": ["correct"], "row": [1]})
    result = calibrate(SCORES, pd.DataFrame(), labels)
    assert result["scorers"][0]["n"] == 0
    assert result["scorers"][0]["accuracy"] is None
    json.dumps(result, allow_nan=False)
    assert "-" in format_calibration(result)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("calibration")
    outcome = replay.run(SAMPLE, simulator=True, books=BOOKS, limit=8, simulator_latency=0,
                         out=str(work / "runs"), reports_dir=str(work / "reports"))
    assert outcome.run_dir is not None
    return outcome.run_dir


def test_cli_calibrate_with_labels(run_dir, tmp_path):
    scores = replay.load_scores(run_dir)
    rca = scores[scores["scorer"] == "rca"]
    labels = tmp_path / "labels.csv"
    rca[["incident_id", "book_name", "verdict"]].rename(columns={"verdict": "human_verdict"}).to_csv(labels, index=False)

    result = CliRunner().invoke(main, ["score", str(run_dir), "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert f"agreement with {len(rca)} human verdicts on 8 incidents" in result.output

    stored = read_calibration(run_dir)
    assert stored is not None
    by_scorer = {entry["scorer"]: entry for entry in stored["scorers"]}
    assert by_scorer["rca"]["accuracy"] == 1.0
    assert by_scorer["rca"]["n"] == len(rca)
    assert by_scorer["lexical"]["accuracy"] < 1.0


def test_cli_calibrate_without_verdicts(run_dir):
    result = CliRunner().invoke(main, ["score", str(run_dir), "--calibrate"])
    assert result.exit_code == 2
    assert "no human verdicts" in result.output


def test_read_calibration_absent(tmp_path):
    assert read_calibration(tmp_path) is None


def test_read_calibration_invalid(tmp_path):
    (tmp_path / CALIBRATION_FILE).write_text("{oops")
    with pytest.raises(replay.errors.StoreError, match="not valid JSON"):
        read_calibration(tmp_path)
