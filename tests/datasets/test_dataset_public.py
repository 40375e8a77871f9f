"""The public postmortem list: undated rows are reported, partial dates load on request."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from replay.datasets import load_incidents

MAPPING = {"root_cause": "summary", "time": "date"}


@pytest.fixture
def postmortems(shared_dir):
    path = shared_dir / "data" / "public-postmortems.csv"
    if not path.is_file():
        pytest.skip("public-postmortems.csv is not in the shared folder")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return path, rows


def test_undated_rows_reported(postmortems):
    path, rows = postmortems
    undated = {n: row["incident_id"] for n, row in enumerate(rows, start=1) if not row["date"]}
    assert undated

    loaded = load_incidents(path, column_map=MAPPING, default_book="incident-triage")
    missing = [p for p in loaded.problems if p.code == "missing_value"]
    assert {p.row: p.incident_id for p in missing} == undated
    assert all(p.column == "time" and p.source_column == "date" for p in missing)
    assert all("message_link" in p.fix for p in missing)


def test_partial_dates_load(postmortems):
    path, rows = postmortems
    dated = {row["incident_id"]: row["date"] for row in rows if row["date"]}
    assert {len(date) for date in dated.values()} == {4, 7, 10}

    loaded = load_incidents(path, column_map=MAPPING, default_book="incident-triage", allow_partial_dates=True)
    times = {i.incident_id: i.time for i in loaded.incidents}
    assert set(times) == set(dated)
    for incident_id, date in dated.items():
        parts = [int(p) for p in date.split("-")] + [1, 1]
        assert times[incident_id] == dt.datetime(*parts[:3], tzinfo=dt.timezone.utc)
    assert len(loaded.invalid_rows) == len(rows) - len(dated)


def test_partial_dates_rejected(postmortems):
    path, rows = postmortems
    loaded = load_incidents(path, column_map=MAPPING, default_book="incident-triage")
    partial = [p for p in loaded.problems if p.code == "partial_time"]
    assert len(partial) == sum(1 for row in rows if row["date"])
    assert all("--allow-partial-dates" in p.fix for p in partial)
    assert loaded.incidents == []
