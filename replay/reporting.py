"""Scoring and report rendering over a stored run: no API call happens here.

Used at the end of ``replay run`` and by ``replay score`` and ``replay report``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from replay.errors import StoreError
from replay.store import read_manifest, read_results, write_table

__all__ = ["read_incidents", "read_scores", "render_report", "score_and_report", "score_run_dir"]

logger = logging.getLogger(__name__)

SCORES = "scores.parquet"
REPORT = "report.html"
# metadata columns that the report breaks accuracy down by, when the dataset has them
BREAKDOWN_COLUMNS = ("root_cause_category", "severity", "service", "environment", "team")


def read_incidents(run_dir: Path) -> pd.DataFrame:
    """Return the run's incidents table."""
    path = Path(run_dir) / "incidents.parquet"
    if not path.exists():
        msg = f"{run_dir} has no incidents.parquet. Pass a directory created by 'replay run'."
        raise StoreError(msg)
    return pq.read_table(path).to_pandas()


def read_scores(run_dir: Path) -> pd.DataFrame:
    """Return the run's scores table, or an empty frame when the run was never scored."""
    path = Path(run_dir) / SCORES
    return pq.read_table(path).to_pandas() if path.exists() else pd.DataFrame()


def score_run_dir(run_dir: Path, scorers: Sequence[str] | None = None) -> pd.DataFrame:
    """Score every execution of a run and write ``scores.parquet``.

    Scores of scorers not named here are kept, so several scoring passes coexist; a scorer
    scored again replaces its earlier rows.
    """
    from replay.scoring import DEFAULT_SCORERS
    from replay.scoring.pipeline import SCORES_SCHEMA, score_run

    run_dir = Path(run_dir)
    names = list(scorers or read_manifest(run_dir).get("settings", {}).get("scorers") or DEFAULT_SCORERS)
    results = read_results(run_dir)
    incidents = read_incidents(run_dir)
    fresh = score_run(results, incidents, names)

    previous = read_scores(run_dir)
    if not previous.empty:
        previous = previous[~previous["scorer"].isin(fresh["scorer"].unique())]
        fresh = pd.concat([previous, fresh], ignore_index=True)
    write_table(pa.Table.from_pandas(fresh, schema=SCORES_SCHEMA, preserve_index=False), run_dir / SCORES)
    logger.info("wrote %d scores to %s", len(fresh), run_dir / SCORES)
    return fresh


def render_report(run_dir: Path, scorer: str | None = None) -> tuple[Path, pd.DataFrame]:
    """Render ``report.html`` of a scored run; return its path and the per-book summary."""
    from replay.report import render_run_report
    from replay.scoring.calibration import read_calibration
    from replay.scoring.stats import summarize, summarize_stability

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    results = read_results(run_dir)
    incidents = read_incidents(run_dir)
    scores = read_scores(run_dir)
    summary = summarize(results, scores, incidents, by=("book_name",), scorer=scorer)
    breakdowns = {
        column: summarize(results, scores, incidents, by=("book_name", column), scorer=scorer)
        for column in BREAKDOWN_COLUMNS
        if column in incidents.columns and incidents[column].notna().any()
    }
    if scorer:
        # the report's executions table follows the same scorer as the summary
        manifest = {**manifest, "settings": {**manifest.get("settings", {}), "primary_scorer": scorer}}
    path = render_run_report(manifest=manifest, incidents=incidents, results=results, scores=scores,
                             summary=summary, path=run_dir / REPORT, summaries_by=breakdowns,
                             stability=summarize_stability(scores, scorer=scorer),
                             calibration=read_calibration(run_dir))

    # a copy beside the other reports, named after the run
    reports_dir = Path(manifest.get("settings", {}).get("reports_dir") or "reports")
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, reports_dir / f"{manifest['run_id']}.html")
    except OSError as exc:
        logger.warning("could not copy the report to %s: %s", reports_dir, exc)
    return path, summary


def score_and_report(run_dir: Path, scorers: Sequence[str] | None = None) -> tuple[Path, pd.DataFrame]:
    """Score the run, then render its report."""
    score_run_dir(run_dir, scorers)
    return render_report(run_dir)
