"""`replay run` end to end, in a subprocess, against the in-process simulator over loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from replay.models import STATUSES

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "q3.parquet"
SHARED = ROOT.parent / "shared"
POSTMORTEMS = SHARED / "data" / "public-postmortems.csv"


def _replay(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "replay", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )


def _run_dir(stdout: str, cwd: Path) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("results:"))
    return (cwd / line.split(":", 1)[1].strip()).parent


def test_run_sample_writes_outputs(tmp_path: Path) -> None:
    done = _replay("run", str(SAMPLE), "--simulator", "--limit", "40", "--simulator-latency", "0",
                   "--book", "incident-triage", "--book", "incident-triage-v2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(done.stdout, tmp_path)

    results = pd.read_parquet(run_dir / "results.parquet")
    assert len(results) == 80
    assert results["execution_key"].is_unique
    assert set(results["status"]) <= set(STATUSES)
    assert (results["status"] == "ok").mean() > 0.9
    assert results["highlights"].str.startswith("Root cause").mean() > 0.5

    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert set(scores["execution_key"]) == set(results["execution_key"])
    assert scores["verdict"].isin(["correct", "partial", "incorrect", "unscored"]).all()

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["counts"]["ok"] == (results["status"] == "ok").sum()

    report = (run_dir / "report.html").read_text()
    assert "incident-triage-v2" in report
    assert (tmp_path / "reports" / f"{manifest['run_id']}.html").exists()
    assert "accuracy" in done.stdout


def test_run_invalid_dataset_lists_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "incident_id,time,book_name,root_cause\n"
        "a,2026-07-01T00:00:00,incident-triage,pool exhausted\n"
        "b,2026-07-02T00:00:00Z,,disk full\n"
    )
    done = _replay("run", str(bad), "--simulator", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "row 1" in done.stderr
    assert "row 2" in done.stderr
    assert "--skip-invalid" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_run_without_token_says_what_to_set(tmp_path: Path) -> None:
    env = {"WILDMOOSE_API_TOKEN": ""}
    done = _replay("run", str(SAMPLE), "--limit", "1", "--api-url", "http://127.0.0.1:9", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "WILDMOOSE_API_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


def test_dry_run_prints_plan(tmp_path: Path) -> None:
    done = _replay("run", str(SAMPLE), "--dry-run", "--repeat", "3", "--limit", "10", "--book", "a", "--book", "b",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "60 executions" in done.stdout
    assert "expected duration" in done.stdout
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(not POSTMORTEMS.exists(), reason="the shared public incident data is not present")
def test_run_public_postmortems(tmp_path: Path) -> None:
    done = _replay("validate", str(POSTMORTEMS), "--column", "root_cause=summary", "--column", "time=date",
                   "--book", "incident-triage", cwd=tmp_path)
    assert done.returncode == 1
    assert "time" in done.stdout
    assert "dl-" in done.stdout

    done = _replay("run", str(POSTMORTEMS), "--simulator", "--simulator-latency", "0", "--book", "incident-triage",
                   "--column", "root_cause=summary", "--column", "time=date", "--allow-partial-dates",
                   "--skip-invalid", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(done.stdout, tmp_path)
    results = pd.read_parquet(run_dir / "results.parquet")
    assert len(results) == 240
    assert (results["status"] == "invalid_input").sum() == 117
    assert (results["status"] == "ok").sum() == 123
    assert (run_dir / "report.html").stat().st_size > 10_000


def test_resume_rejects_plan_change(tmp_path: Path) -> None:
    done = _replay("run", str(SAMPLE), "--simulator", "--simulator-latency", "0", "--limit", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(done.stdout, tmp_path)
    again = _replay("run", "--resume", str(run_dir), "--limit", "7", "--book", "other", cwd=tmp_path)
    assert again.returncode == 2
    assert "--limit" in again.stderr
    assert "--book" in again.stderr
    assert len(pd.read_parquet(run_dir / "results.parquet")) == 3


def test_resume_without_dataset_file(tmp_path: Path) -> None:
    dataset = tmp_path / "q3.parquet"
    dataset.write_bytes(SAMPLE.read_bytes())
    done = _replay("run", str(dataset), "--simulator", "--simulator-latency", "0", "--limit", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(done.stdout, tmp_path)
    dataset.unlink()
    again = _replay("run", "--resume", str(run_dir), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(pd.read_parquet(run_dir / "results.parquet")) == 4


def test_unwritable_out_is_clear(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    done = _replay("run", str(SAMPLE), "--simulator", "--limit", "1", "--out", str(blocker / "runs"), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--out" in done.stderr


def test_run_calibrates_human_verdicts(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(SAMPLE).slice(0, 12)
    table = table.append_column("human_verdict", pa.array(["correct", "incorrect", "partial"] * 4))
    dataset = tmp_path / "graded.parquet"
    pq.write_table(table, dataset)
    done = _replay("run", str(dataset), "--simulator", "--simulator-latency", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(done.stdout, tmp_path)
    calibration = json.loads((run_dir / "calibration.json").read_text())
    assert "rca" in json.dumps(calibration)
    assert "kappa" in (run_dir / "report.html").read_text()


def test_rescoring_keeps_other_versions(tmp_path: Path) -> None:
    done = _replay("run", str(SAMPLE), "--simulator", "--simulator-latency", "0", "--limit", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(done.stdout, tmp_path)
    for version in ("1", "2", "2"):
        module = tmp_path / "versioned_scorer.py"
        module.write_text(
            "from replay.models import Score\n"
            "def grade(label, highlights):\n"
            "    return Score(0.5, 'partial', 'half')\n"
            "grade.name = 'versioned'\n"
            f"grade.version = '{version}'\n"
        )
        scored = _replay("score", str(run_dir), "--scorer", "versioned_scorer:grade", cwd=tmp_path,
                         env={"PYTHONPATH": str(tmp_path)})
        assert scored.returncode == 0, scored.stderr
    scores = pd.read_parquet(run_dir / "scores.parquet")
    versioned = scores[scores["scorer"] == "versioned"]
    assert sorted(versioned["scorer_version"].value_counts().to_dict().items()) == [("1", 5), ("2", 5)]
    assert (scores["scorer"] == "rca").sum() == 5
