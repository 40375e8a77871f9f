"""score_run_dir and render_report over stored runs: chunks, other passes, failures, large runs."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from replay.datasets._frame import incidents_table
from replay.errors import ReplayError
from replay.models import ExecutionResult, Score
from replay.journal import JournalWriter
from replay.reporting import read_incidents, read_scores, render_report, score_run_dir
from replay.scoring import score_run
from replay.store import read_results, results_table, write_manifest, write_table
from tests.helpers import make_incident

ANSWERS = (
    "Root cause: connection pool exhaustion in orders-db after a traffic spike.",
    "Root cause: a bad deploy of checkout-api.",
    "The checkout-api error rate rose; orders-db connection pool was exhausted.",
)


class FailsLate:
    """A scorer that stops the pass after some chunks were written, as a broken judge does."""

    calls = 0

    def __call__(self, label, highlights):
        FailsLate.calls += 1
        if FailsLate.calls > 5:
            raise ReplayError("too many errors")
        return Score(value=1.0, verdict="correct", explanation="always")


@pytest.fixture
def run_dir(tmp_path):
    now = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    incidents = [make_incident(number) for number in range(1, 5)]
    results = [
        ExecutionResult(execution_key=f"{incident.incident_id}/incident-triage/{repeat}",
                        incident_id=incident.incident_id, book_name="incident-triage", repeat=repeat,
                        status="timeout" if (number + repeat) % 5 == 0 else "ok", started_at=now, finished_at=now,
                        highlights=ANSWERS[(number + repeat) % len(ANSWERS)], response_body="{}")
        for number, incident in enumerate(incidents) for repeat in (1, 2, 3)
    ]
    write_manifest(tmp_path, {"run_id": "r1", "settings": {"scorers": ["rca", "keywords"]}})
    write_table(results_table(results, "r1"), tmp_path / "results.parquet")
    pq.write_table(incidents_table(incidents), tmp_path / "incidents.parquet")
    return tmp_path


def _sorted(frame):
    return frame.sort_values(["execution_key", "scorer"]).reset_index(drop=True)


def test_chunks_match_whole(run_dir, monkeypatch):
    monkeypatch.setattr("replay.reporting.SCORE_CHUNK", 2)
    returned = score_run_dir(run_dir)
    stored = read_scores(run_dir)
    whole = score_run(read_results(run_dir), read_incidents(run_dir), ["rca", "keywords"])
    assert len(stored) == 12 * 2
    pd.testing.assert_frame_equal(_sorted(stored), _sorted(whole))
    assert list(stored["execution_key"]) == list(whole["execution_key"])
    assert returned["execution_key"].nunique() == 12
    assert set(returned["scorer"]) == {"rca", "keywords"}
    assert "explanation" not in returned.columns


def test_chunks_row_groups(run_dir, monkeypatch):
    monkeypatch.setattr("replay.reporting.SCORE_CHUNK", 5)
    score_run_dir(run_dir)
    assert pq.ParquetFile(run_dir / "scores.parquet").metadata.num_row_groups == 3


def test_rescore_keeps_other(run_dir, monkeypatch):
    monkeypatch.setattr("replay.reporting.SCORE_CHUNK", 4)
    score_run_dir(run_dir, ["keywords"])
    score_run_dir(run_dir, ["rca"])
    before = read_scores(run_dir)
    score_run_dir(run_dir, ["keywords"])
    after = read_scores(run_dir)
    assert sorted(after["scorer"].value_counts().items()) == [("keywords", 12), ("rca", 12)]
    pd.testing.assert_frame_equal(_sorted(before), _sorted(after))


def test_failed_pass_keeps(run_dir, monkeypatch):
    monkeypatch.setattr("replay.reporting.SCORE_CHUNK", 2)
    score_run_dir(run_dir, ["keywords"])
    before = read_scores(run_dir)
    with pytest.raises(ReplayError, match="too many errors"):
        score_run_dir(run_dir, ["tests.scoring.test_chunked_scoring:FailsLate"])
    pd.testing.assert_frame_equal(read_scores(run_dir), before)
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "incidents.parquet", "manifest.json", "results.parquet", "scores.parquet"]


def _payload(path):
    html = path.read_text(encoding="utf-8")
    return html, json.loads(html.split('id="report-data">', 1)[1].split("</script>", 1)[0])


def test_report_caps_stored_run(run_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("replay.report.run.MAX_EMBEDDED_EXECUTIONS", 6)
    monkeypatch.setattr("replay.reporting.SCORE_CHUNK", 2)
    score_run_dir(run_dir)
    path, summary = render_report(run_dir)
    html, payload = _payload(path)
    assert summary["n_executions"].sum() == 12
    assert payload["n_executions"] == 12
    assert len(payload["executions"]) == 6
    assert all(row[-1] is not None and len(row[-1]) == 2 for row in payload["executions"])
    assert {row[4] for row in payload["executions"]} >= {"timeout"}
    assert "This table holds 6 of the run's 12 executions" in html


def test_report_reads_journal(run_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    results = read_results(run_dir)
    (run_dir / "results.parquet").unlink()
    now = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    with JournalWriter(run_dir) as journal:
        journal.append_many([
            ExecutionResult(execution_key=row.execution_key, incident_id=row.incident_id, book_name=row.book_name,
                            repeat=int(row.repeat), status=row.status, started_at=now, finished_at=now,
                            highlights=row.highlights)
            for row in results.itertuples()
        ])
    score_run_dir(run_dir)
    path, summary = render_report(run_dir)
    _, payload = _payload(path)
    assert summary["n_executions"].sum() == 12
    assert sorted(row[0] for row in payload["executions"]) == sorted(results["execution_key"])
    assert all(row[-1] is not None for row in payload["executions"])
