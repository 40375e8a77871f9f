"""compare_runs over real runs of the bundled sample against the simulator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from replay.comparison import compare_runs, format_comparison
from replay.errors import ConfigError, StoreError
from replay.scoring.stats import summarize

from .conftest import V1, V2


def rca_verdicts(run_dir: Path, book: str) -> pd.Series:
    scores = pd.read_parquet(run_dir / "scores.parquet")
    chosen = scores[(scores["scorer"] == "rca") & (scores["book_name"] == book)]
    return chosen.set_index("incident_id")["verdict"]


def test_one_run_pairs_books(two_book_run: Path) -> None:
    comparison = compare_runs(two_book_run, book_a=V1, book_b=V2)
    assert (comparison.a.book_name, comparison.b.book_name) == (V1, V2)
    assert comparison.scorer == "rca"
    assert comparison.n_pairs == 60
    assert comparison.only_a == []
    assert comparison.only_b == []


def test_one_run_default_books(two_book_run: Path) -> None:
    comparison = compare_runs(two_book_run)
    assert (comparison.a.book_name, comparison.b.book_name) == (V1, V2)
    assert compare_runs(two_book_run, book_a=V2).b.book_name == V1


def test_lists_match_scores(two_book_run: Path) -> None:
    comparison = compare_runs(two_book_run, book_a=V1, book_b=V2)
    right_a = rca_verdicts(two_book_run, V1).eq("correct")
    right_b = rca_verdicts(two_book_run, V2).eq("correct").reindex(right_a.index)
    assert comparison.regressions == sorted(right_a[right_a & ~right_b].index)
    assert comparison.fixes == sorted(right_a[~right_a & right_b].index)
    assert comparison.still_wrong == sorted(right_a[~right_a & ~right_b].index)
    assert comparison.mcnemar.regressions == len(comparison.regressions)
    assert comparison.mcnemar.fixes == len(comparison.fixes)


def test_accuracy_matches_summary(two_book_run: Path) -> None:
    comparison = compare_runs(two_book_run, book_a=V1, book_b=V2)
    summary = summarize(pd.read_parquet(two_book_run / "results.parquet"),
                        pd.read_parquet(two_book_run / "scores.parquet"),
                        pd.read_parquet(two_book_run / "incidents.parquet")).set_index("book_name")
    assert comparison.accuracy.a == pytest.approx(summary.loc[V1, "accuracy"])
    assert comparison.accuracy.b == pytest.approx(summary.loc[V2, "accuracy"])
    assert comparison.accuracy.delta_low <= comparison.accuracy.delta <= comparison.accuracy.delta_high


def test_two_runs_one_sided(v1_run: Path, v2_run: Path) -> None:
    comparison = compare_runs(v1_run, v2_run)
    ids_a = set(pd.read_parquet(v1_run / "results.parquet")["incident_id"])
    ids_b = set(pd.read_parquet(v2_run / "results.parquet")["incident_id"])
    assert comparison.n_pairs == len(ids_a & ids_b) == 50
    assert comparison.only_a == sorted(ids_a - ids_b)
    assert len(comparison.only_a) == 10
    assert comparison.only_b == []
    assert comparison.accuracy.n == 50
    assert comparison.a.run_id != comparison.b.run_id


def test_two_runs_verdicts_from_each(v1_run: Path, v2_run: Path) -> None:
    pairs = compare_runs(v1_run, v2_run).pairs.set_index("incident_id")
    both = pairs[pairs["outcome"] != "only_a"]
    assert both["verdict_a"].to_dict() == rca_verdicts(v1_run, V1).reindex(both.index).to_dict()
    assert both["verdict_b"].to_dict() == rca_verdicts(v2_run, V2).reindex(both.index).to_dict()


def test_same_book_two_runs_labels(v1_run: Path, two_book_run: Path) -> None:
    comparison = compare_runs(v1_run, two_book_run)
    assert comparison.b.book_name == V1
    assert comparison.a.label != comparison.b.label


def test_scorer_stored_other(two_book_run: Path) -> None:
    comparison = compare_runs(two_book_run, scorer="keywords")
    scores = pd.read_parquet(two_book_run / "scores.parquet")
    keywords = scores[(scores["scorer"] == "keywords") & (scores["book_name"] == V1)]
    assert comparison.scorer == "keywords"
    assert comparison.accuracy.a == pytest.approx((keywords["verdict"] == "correct").mean())


def test_scorer_in_memory(two_book_run: Path) -> None:
    before = (two_book_run / "scores.parquet").stat().st_mtime_ns
    comparison = compare_runs(two_book_run, scorer="element")
    assert comparison.n_scored_pairs == 60
    assert (two_book_run / "scores.parquet").stat().st_mtime_ns == before


def test_unknown_scorer(two_book_run: Path) -> None:
    with pytest.raises(ConfigError):
        compare_runs(two_book_run, scorer="no-such-scorer")


def test_unknown_book_lists_books(two_book_run: Path) -> None:
    with pytest.raises(ConfigError, match=f"'nope'.*{V1}, {V2}"):
        compare_runs(two_book_run, book_a="nope")


def test_same_book_one_run(two_book_run: Path) -> None:
    with pytest.raises(ConfigError, match="both name"):
        compare_runs(two_book_run, book_a=V1, book_b=V1)


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a run directory"):
        compare_runs(tmp_path)


def test_summary_text(two_book_run: Path) -> None:
    comparison = compare_runs(two_book_run)
    text = format_comparison(comparison)
    assert f"A: {V1}" in text
    assert f"B: {V2}" in text
    assert f"{comparison.accuracy.a * 100:.1f}%" in text
    assert f"{comparison.mcnemar.regressions} regressions" in text
