"""Scoring and report rendering over a stored run: no API call happens here.

Used at the end of ``replay run`` and by ``replay score`` and ``replay report``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from replay.errors import ReplayError, StoreError
from replay.journal import segment_paths
from replay.store import RESULTS, RESULTS_SCHEMA, read_manifest, read_results

__all__ = ["read_incidents", "read_scores", "render_report", "score_and_report", "score_run_dir"]

logger = logging.getLogger(__name__)

SCORES = "scores.parquet"
REPORT = "report.html"
# executions read, scored and written at a time
SCORE_CHUNK = 500
# what score_run_dir returns of the scores it wrote
_SCORE_KEYS = ("execution_key", "incident_id", "book_name", "repeat", "scorer", "scorer_version", "score", "verdict")
_SCORE_CATEGORIES = ("incident_id", "book_name", "scorer", "scorer_version", "verdict")
# what the report's summaries read of every execution
_SUMMARY_RESULT_COLUMNS = ("incident_id", "book_name", "repeat", "status", "latency_s")
_SUMMARY_CATEGORIES = ("incident_id", "book_name", "status")
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
    scored again replaces its earlier rows. The run is read, scored and written in chunks
    of ``SCORE_CHUNK`` executions, and the file is replaced only when the whole pass
    succeeded.

    Returns:
        The scores now in ``scores.parquet`` without their long text columns:
        ``execution_key``, ``incident_id``, ``book_name``, ``repeat``, ``scorer``,
        ``scorer_version``, ``score`` and ``verdict``, the text columns other than
        ``execution_key`` categorical. ``read_scores`` returns every column.
    """
    with _lean_arrow_pool():
        return _score_run_dir(Path(run_dir), scorers)


def _score_run_dir(run_dir: Path, scorers: Sequence[str] | None) -> pd.DataFrame:
    from replay.scoring import DEFAULT_SCORERS, get_scorer
    from replay.scoring.pipeline import SCORES_SCHEMA, score_chunks

    run_dir = Path(run_dir)
    _release_arrow_memory()
    names = list(scorers or read_manifest(run_dir).get("settings", {}).get("scorers") or DEFAULT_SCORERS)
    built = [get_scorer(name) for name in names]
    incidents = read_incidents(run_dir)
    path = run_dir / SCORES
    tmp = path.with_name(path.name + ".tmp")
    kept: list[pa.Table] = []
    try:
        with pq.ParquetWriter(tmp, SCORES_SCHEMA, compression="zstd") as writer:
            previous = (table.select(SCORES_SCHEMA.names).cast(SCORES_SCHEMA)
                        for table in _previous_scores(path, {(scorer.name, str(scorer.version)) for scorer in built}))
            for table in itertools.chain(previous, score_chunks(_result_chunks(run_dir), incidents, built)):
                writer.write_table(table)
                kept.append(_score_keys(table))
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    written = pa.concat_tables(kept).to_pandas() if kept else _score_keys(SCORES_SCHEMA.empty_table()).to_pandas()
    del kept
    logger.info("wrote %d scores to %s", len(written.index), path)
    _release_arrow_memory()
    return written


def _score_keys(table: pa.Table) -> pa.Table:
    """Select the columns score_run_dir returns, its text columns dictionary-encoded."""
    table = table.select(list(_SCORE_KEYS))
    for name in _SCORE_CATEGORIES:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table.column(name)))
    return table


def _result_chunks(run_dir: Path) -> Iterator[pd.DataFrame]:
    """Yield the results columns that scorers use, ``SCORE_CHUNK`` executions at a time."""
    from replay.scoring.pipeline import RESULT_COLUMNS

    path = run_dir / RESULTS
    if segment_paths(run_dir) or not path.exists():
        # journaled executions not yet compacted: read_results merges them with the file
        results = read_results(run_dir, columns=RESULT_COLUMNS)
        for start in range(0, len(results.index), SCORE_CHUNK):
            yield results.iloc[start:start + SCORE_CHUNK]
        return
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SCORE_CHUNK, columns=list(RESULT_COLUMNS)):
        yield batch.to_pandas()


def _previous_scores(path: Path, replaced: set[tuple[str, str]]) -> Iterator[pa.Table]:
    """Yield the stored scores of the (scorer, version) pairs not in ``replaced``, in chunks.

    Other versions of a rescored scorer are kept, so summaries can compare versions; they
    use the newest version of each scorer.
    """
    if not path.exists():
        return
    stored = pq.read_table(path, columns=["scorer", "scorer_version"])
    stored_pairs = set(zip(stored.column("scorer").to_pylist(), stored.column("scorer_version").to_pylist()))
    if stored_pairs <= replaced:
        # every stored pair is scored again, so the long texts need not be read at all
        return
    replaced_keys = pa.array(sorted(f"{name}\x00{version}" for name, version in replaced), pa.string())
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SCORE_CHUNK):
        table = pa.Table.from_batches([batch])
        versions = pc.fill_null(table.column("scorer_version"), "")
        keys = pc.binary_join_element_wise(table.column("scorer"), versions, "\x00")
        kept = table.filter(pc.invert(pc.is_in(keys, value_set=replaced_keys)))
        if kept.num_rows:
            yield kept


def _replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def render_report(run_dir: Path, scorer: str | None = None) -> tuple[Path, pd.DataFrame]:
    """Render ``report.html`` of a scored run; return its path and the per-book summary.

    Summaries read only the narrow columns they count, and the page reads every column
    only of the executions it embeds, so a large run is reported in bounded memory.
    """
    with _lean_arrow_pool():
        return _render_report(Path(run_dir), scorer)


def _render_report(run_dir: Path, scorer: str | None) -> tuple[Path, pd.DataFrame]:
    from replay.report import render_run_report
    from replay.scoring.calibration import read_calibration
    from replay.scoring.stats import summarize, summarize_stability

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    _release_arrow_memory()
    incidents = read_incidents(run_dir)
    results, scores, keys = _summary_frames(run_dir)
    _release_arrow_memory()
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
                             calibration=read_calibration(run_dir),
                             load_rows=functools.partial(_embedded_rows, run_dir, keys))

    # a copy beside the other reports, named after the run
    reports_dir = Path(manifest.get("settings", {}).get("reports_dir") or "reports")
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, reports_dir / f"{manifest['run_id']}.html")
    except OSError as exc:
        logger.warning("could not copy the report to %s: %s", reports_dir, exc)
    return path, summary


def _summary_frames(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pa.Array]:
    """Return the narrow results and scores frames that the report's summaries count.

    Their ``execution_key`` is the execution's row number in the results and the other
    text columns are categorical, because the keys as text would cost more memory than
    everything else in the frames. The third value contains the real keys by row number.
    """
    path = run_dir / RESULTS
    names = ["execution_key", *_SUMMARY_RESULT_COLUMNS]
    if segment_paths(run_dir) or not path.exists():
        frame = read_results(run_dir, columns=_SUMMARY_RESULT_COLUMNS)
        keys = pa.array(frame.pop("execution_key").astype(object), pa.string())
        results = frame.astype({name: "category" for name in _SUMMARY_CATEGORIES})
    else:
        # compaction leaves one row per execution key, so there is nothing to deduplicate
        table = pq.read_table(path, columns=names, read_dictionary=list(_SUMMARY_CATEGORIES))
        keys = table.column("execution_key").combine_chunks()
        results = table.drop_columns(["execution_key"]).to_pandas()
        del table
    results.insert(0, "execution_key", np.arange(len(results.index), dtype=np.int64))

    path = run_dir / SCORES
    if not path.exists():
        return results, pd.DataFrame(), keys
    parts = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SCORE_CHUNK, columns=list(_SCORE_KEYS)):
        table = _score_keys(pa.Table.from_batches([batch]))
        # a score of an execution missing from the results gets -1, so it joins no execution
        rows = pc.index_in(table.column("execution_key"), value_set=keys).cast(pa.int64()).fill_null(-1)
        parts.append(table.set_column(0, "execution_key", rows))
    scores = pa.concat_tables(parts).to_pandas() if parts else pd.DataFrame(columns=list(_SCORE_KEYS))
    return results, scores, keys


def _release_arrow_memory() -> None:
    # Arrow's allocator keeps freed memory for reuse; a run's earlier stages (compaction,
    # scoring) would otherwise keep it resident through the next one.
    pa.default_memory_pool().release_unused()


@contextlib.contextmanager
def _lean_arrow_pool() -> Iterator[None]:
    """Let Arrow allocate from jemalloc, when pyarrow has it, until the block ends.

    On a 100,000-execution run, scoring and the report peaked about 10 MB higher with
    Arrow's default mimalloc pool, which keeps freed memory longer. A buffer returns to
    the pool that allocated it, so restoring the default afterwards is safe.
    """
    previous = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        pool = previous
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pool.release_unused()
        pa.set_memory_pool(previous)


def _embedded_rows(run_dir: Path, keys: pa.Array, rows: Sequence[int]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield every column of the results and scores of the executions at ``rows``, in parts.

    ``rows`` are row numbers in the results, as ``_summary_frames`` uses them for keys.
    Each part contains at most ``SCORE_CHUNK`` executions and their scores. The raw response
    body is left out because the report does not show it.
    """
    wanted = keys.take(pa.array(sorted(rows), pa.int64()))
    columns = [name for name in RESULTS_SCHEMA.names if name != "response_body"]
    path = run_dir / SCORES
    scores = _filtered(path, wanted, None, None) if path.exists() else None
    path = run_dir / RESULTS
    if segment_paths(run_dir) or not path.exists():
        frame = read_results(run_dir, columns=columns)
        frame = frame[frame["execution_key"].isin(wanted.to_pylist())].reset_index(drop=True)
        parts: Iterator[pd.DataFrame] = (frame.iloc[start:start + SCORE_CHUNK]
                                         for start in range(0, len(frame.index), SCORE_CHUNK))
    else:
        schema = pa.schema([RESULTS_SCHEMA.field(name) for name in columns])
        parts = (table.to_pandas() for table in _filtered_parts(path, wanted, columns, schema))
    for part in parts:
        if scores is None:
            yield part, pd.DataFrame()
            continue
        mine = pc.is_in(scores.column("execution_key"), value_set=pa.array(part["execution_key"].astype(object), pa.string()))
        yield part, scores.filter(mine).to_pandas()


def _filtered(path: Path, keys: pa.Array, columns: list[str] | None, schema: pa.Schema | None) -> pa.Table:
    """Read the rows of ``path`` whose execution_key is in ``keys``, chunk by chunk."""
    parts = list(_filtered_parts(path, keys, columns, schema))
    if not parts:
        return (schema or pq.ParquetFile(path).schema_arrow).empty_table()
    return pa.concat_tables(parts)


def _filtered_parts(path: Path, keys: pa.Array, columns: list[str] | None,
                    schema: pa.Schema | None) -> Iterator[pa.Table]:
    """Yield the non-empty parts of ``path`` whose execution_key is in ``keys``."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SCORE_CHUNK, columns=columns):
        table = pa.Table.from_batches([batch])
        table = table.filter(pc.is_in(table.column("execution_key"), value_set=keys))
        if table.num_rows:
            yield table.cast(schema) if schema is not None else table


def score_and_report(run_dir: Path, scorers: Sequence[str] | None = None) -> tuple[Path, pd.DataFrame]:
    """Score the run, calibrate the scorers when the dataset carries human verdicts, then render the report."""
    score_run_dir(run_dir, scorers)
    _calibrate_if_labeled(Path(run_dir))
    return render_report(run_dir)


def _calibrate_if_labeled(run_dir: Path) -> None:
    from replay.scoring.calibration import calibrate_run

    path = run_dir / "incidents.parquet"
    if "human_verdict" not in pq.read_schema(path).names:
        return
    verdicts = pq.read_table(path, columns=["human_verdict"]).column("human_verdict")
    if verdicts.null_count == len(verdicts):
        return
    try:
        calibrate_run(run_dir)
    except ReplayError as exc:
        logger.warning("could not calibrate the scorers against the human verdicts: %s", exc)
