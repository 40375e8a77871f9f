"""The library functions over real runs of the sample against the in-process simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd
import pytest

import replay
from replay.errors import ConfigError, StoreError
from tests.library.conftest import BOOKS, SAMPLE

EXECUTIONS_PER_RUN = 4 * len(BOOKS) * 2


def test_run_returns_outcome(sample_runs: dict[str, Path]) -> None:
    run_dir = sample_runs["shard1"]
    assert (run_dir / "results.parquet").is_file()
    assert (run_dir / "scores.parquet").is_file()
    assert (run_dir / "report.html").is_file()
    assert run_dir.name.endswith("-shard1of2")


def test_run_accepts_one_book_string(tmp_path: Path) -> None:
    outcome = replay.run(SAMPLE, simulator=True, books="db-checks", limit=2, simulator_latency=0,
                         out=str(tmp_path / "runs"), reports_dir=str(tmp_path / "reports"))
    assert outcome.status == "completed"
    assert outcome.executions == 2
    assert list(outcome.summary["book_name"]) == ["db-checks"]


def test_run_inside_event_loop(tmp_path: Path) -> None:
    """A Jupyter kernel runs cells inside an event loop; run() must still work there."""

    async def run_in_loop() -> replay.RunOutcome:
        return replay.run(SAMPLE, simulator=True, books=["incident-triage"], limit=2, simulator_latency=0,
                          out=str(tmp_path / "runs"), reports_dir=str(tmp_path / "reports"))

    outcome = asyncio.run(run_in_loop())
    assert outcome.status == "completed"
    assert outcome.counts == {"ok": 2}


def test_run_dry_run_writes_nothing(tmp_path: Path) -> None:
    outcome = replay.run(SAMPLE, simulator=True, dry_run=True, books=BOOKS, repeat=3, limit=5,
                         out=str(tmp_path / "runs"))
    assert outcome.status == "dry_run"
    assert outcome.plan_text is not None
    assert outcome.plan_text.startswith("30 executions")
    assert not (tmp_path / "runs").exists()


def test_run_unknown_setting_suggests_name() -> None:
    with pytest.raises(ConfigError, match=r"unknown settings: 'book' \(did you mean 'books'\?\)"):
        replay.run(SAMPLE, simulator=True, book="incident-triage")


def test_run_invalid_setting_names_value() -> None:
    with pytest.raises(ConfigError, match=r"repeat.*got 0"):
        replay.run(SAMPLE, simulator=True, repeat=0)


def test_run_reads_config_file(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('[run]\nrepeat = 4\nbooks = ["db-checks"]\nlimit = 2\n')
    outcome = replay.run(SAMPLE, simulator=True, dry_run=True, config=config, limit=3)
    assert outcome.plan_text is not None
    # limit from the argument wins over the file, repeat and books come from the file
    assert outcome.plan_text.startswith("12 executions: 3 incidents x books (db-checks) x 4 repeat(s)")


def test_load_results_one_run(sample_runs: dict[str, Path]) -> None:
    results = replay.load_results(sample_runs["shard1"])
    assert len(results) == EXECUTIONS_PER_RUN
    assert set(results["run_id"]) == {sample_runs["shard1"].name}
    assert set(results["book_name"]) == set(BOOKS)
    assert results["started_at"].dt.tz is not None


def test_load_results_shards_pool(sample_runs: dict[str, Path]) -> None:
    results = replay.load_results(sample_runs["shard1"], sample_runs["shard2"])
    assert len(results) == 2 * EXECUTIONS_PER_RUN
    assert results["execution_key"].is_unique
    by_run = results.groupby("run_id")["incident_id"].agg(set)
    assert len(by_run) == 2
    assert not by_run.iloc[0] & by_run.iloc[1]


def test_load_results_glob_pattern(sample_runs: dict[str, Path]) -> None:
    pattern = str(sample_runs["shard1"].parent / "*-shard?of2")
    results = replay.load_results(pattern)
    assert set(results["run_id"]) == {sample_runs[name].name for name in ("shard1", "shard2", "rerun")}


def test_load_results_iterable_dedupes(sample_runs: dict[str, Path]) -> None:
    paths = [str(sample_runs["shard2"]), sample_runs["shard2"]]
    results = replay.load_results(pd.Series(paths))
    assert len(results) == EXECUTIONS_PER_RUN


def test_load_results_requires_run_dir(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is not a run directory"):
        replay.load_results(tmp_path)


def test_load_results_requires_argument() -> None:
    with pytest.raises(ConfigError, match="needs at least one run directory"):
        replay.load_results()


def test_load_results_pattern_without_match(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no run directory matches .*\*-nothing"):
        replay.load_results(str(tmp_path / "*-nothing"))


def test_load_results_rejects_number() -> None:
    with pytest.raises(TypeError, match="got int: 3"):
        replay.load_results(3)  # type: ignore[arg-type]


def test_load_scores_adds_run_id(sample_runs: dict[str, Path]) -> None:
    scores = replay.load_scores(sample_runs["shard1"], sample_runs["rerun"])
    assert list(scores.columns[:2]) == ["schema_version", "run_id"]
    assert set(scores["run_id"]) == {sample_runs["shard1"].name, sample_runs["rerun"].name}
    assert {"rca", "keywords", "lexical"} <= set(scores["scorer"])


def test_load_scores_filters_scorer(sample_runs: dict[str, Path]) -> None:
    scores = replay.load_scores(sample_runs["shard1"], scorer="rca")
    assert set(scores["scorer"]) == {"rca"}
    assert len(scores) == EXECUTIONS_PER_RUN
    assert scores.index.equals(pd.RangeIndex(len(scores)))


def test_load_scores_unknown_scorer(sample_runs: dict[str, Path]) -> None:
    with pytest.raises(ConfigError, match=r"scorer 'judge' has no scores.*scored by: rca"):
        replay.load_scores(sample_runs["shard1"], scorer="judge")


def test_load_incidents_of_run_shards(sample_runs: dict[str, Path]) -> None:
    incidents = replay.load_incidents_of_run(sample_runs["shard1"], sample_runs["shard2"])
    assert len(incidents) == 8
    assert incidents.columns[0] == "run_id"
    assert incidents["incident_id"].is_unique
    assert "root_cause_category" in incidents.columns


def test_summarize_per_book(sample_runs: dict[str, Path]) -> None:
    summary = replay.summarize(sample_runs["shard1"], sample_runs["shard2"])
    assert list(summary["book_name"]) == list(BOOKS)
    assert summary["n_executions"].tolist() == [EXECUTIONS_PER_RUN, EXECUTIONS_PER_RUN]
    for row in summary.itertuples():
        assert row.accuracy_low <= row.accuracy <= row.accuracy_high


def test_summarize_matches_stats(sample_runs: dict[str, Path]) -> None:
    from replay.scoring.stats import summarize as summarize_frames

    run_dir = sample_runs["shard2"]
    expected = summarize_frames(replay.load_results(run_dir), replay.load_scores(run_dir),
                                replay.load_incidents_of_run(run_dir), by=["book_name"])
    pd.testing.assert_frame_equal(replay.summarize(run_dir, by="book_name"), expected)


def test_summarize_keeps_runs_apart(sample_runs: dict[str, Path]) -> None:
    """Two runs of the same incidents share execution keys; their verdicts must not mix."""
    first, second = sample_runs["shard1"], sample_runs["rerun"]
    verdicts = [replay.load_scores(run_dir, scorer="rca").set_index("execution_key")["verdict"]
                for run_dir in (first, second)]
    assert (verdicts[0] != verdicts[1].reindex(verdicts[0].index)).any(), "the seeds should change some verdicts"

    pooled = replay.summarize(first, second, by=())
    separate = [replay.summarize(run_dir, by=()) for run_dir in (first, second)]
    for column in ("n_executions", "n_correct", "n_partial", "n_incorrect"):
        assert pooled[column].iloc[0] == sum(frame[column].iloc[0] for frame in separate)


def test_summarize_by_run_id(sample_runs: dict[str, Path]) -> None:
    summary = replay.summarize(sample_runs["shard1"], sample_runs["rerun"], by="run_id")
    assert sorted(summary["run_id"]) == sorted([sample_runs["shard1"].name, sample_runs["rerun"].name])
    assert summary["n_executions"].tolist() == [EXECUTIONS_PER_RUN, EXECUTIONS_PER_RUN]


def test_summarize_by_category(sample_runs: dict[str, Path]) -> None:
    summary = replay.summarize(sample_runs["shard1"], by=["book_name", "root_cause_category"])
    incidents = replay.load_incidents_of_run(sample_runs["shard1"])
    assert set(summary["root_cause_category"]) == set(incidents["root_cause_category"])
    assert summary["n_executions"].sum() == EXECUTIONS_PER_RUN


def test_summarize_unknown_column(sample_runs: dict[str, Path]) -> None:
    with pytest.raises(ConfigError, match=r"cannot group by \['region'\]"):
        replay.summarize(sample_runs["shard1"], by="region")


def test_load_runs_lists_runs(sample_runs: dict[str, Path]) -> None:
    runs = replay.load_runs(sample_runs["shard1"].parent)
    names = {run_dir.name for run_dir in sample_runs.values()}
    assert names <= set(runs["run_id"])
    listed = runs.set_index("run_id").loc[sorted(names)]
    assert (listed["status"] == "completed").all()
    assert (listed["executions"] == EXECUTIONS_PER_RUN).all()


def test_load_runs_skips_broken_manifest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    runs = replay.load_runs(tmp_path)
    assert runs.empty
    assert "skipping" in caplog.text


def test_load_runs_missing_directory(tmp_path: Path) -> None:
    runs = replay.load_runs(tmp_path / "absent")
    assert runs.empty
    assert "path" in runs.columns
