"""The run report: one self-contained HTML page for one run's results and scores.

The page contains the run's header, summary tables and charts rendered on the server, and the
executions as embedded JSON that a small inline script pages, sorts, filters and expands.
Statistics are not computed here: they arrive in the summary frames.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pandas as pd

from replay.datasets import INCIDENTS_SCHEMA
from replay.models import VERDICTS
from replay.report import _frames as frames
from replay.report import _tables as tables
from replay.report._charts import accuracy_chart, latency_histograms
from replay.report._html import DATA_PLACEHOLDER, MAX_TEXT_CHARS, embed_json, render_page, truncate_text
from replay.report._selection import MAX_EMBEDDED_EXECUTIONS, SAMPLE_SEED, choose_embedded, overview

__all__ = ["render_run_report"]

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ("execution_key", "incident_id", "book_name", "status")
SCORE_COLUMNS = ("execution_key", "scorer", "verdict", "score")
DEFAULT_SCORER = "rca"

# incidents.parquet columns with a fixed meaning; every other column is dataset metadata
INCIDENT_FIELDS = tuple(INCIDENTS_SCHEMA.names)

# A report much above 20 MB opens slowly, so when the embedded data is larger than this,
# long texts are cut further, limit by limit. The Parquet files keep every character.
MAX_PAYLOAD_CHARS = 16_000_000
FALLBACK_TEXT_LIMITS = (4_000, 1_500, 600)

# order of the per-execution arrays in the embedded JSON; the script reads these names
EXECUTION_FIELDS = (
    "key",
    "incident_id",
    "book",
    "repeat",
    "status",
    "attempts",
    "http_status",
    "latency_s",
    "queue_s",
    "backoff_s",
    "started_at",
    "finished_at",
    "error",
    "highlights",
    "action_results",
    "gadgets",
    "mitigations",
    "enrichment_link",
    "scores",
)


def render_run_report(
    *,
    manifest: Mapping[str, Any],
    incidents: pd.DataFrame,
    results: pd.DataFrame,
    scores: pd.DataFrame,
    summary: pd.DataFrame,
    path: Path,
    summaries_by: Mapping[str, pd.DataFrame] | None = None,
    stability: pd.DataFrame | None = None,
    calibration: Mapping[str, Any] | None = None,
    load_rows: Callable[[list[Any]], Iterable[tuple[pd.DataFrame, pd.DataFrame]]] | None = None,
    max_embedded: int | None = None,
) -> Path:
    """Render the HTML report of one run into a single self-contained file.

    The executions table embeds at most ``max_embedded`` executions; a larger run embeds
    a choice of them (see ``replay.report._selection.choose_embedded``) and says so on the
    page. Status counts and the latency chart always count every execution.

    Args:
        manifest: the run manifest: run_id, label, dataset_path, dataset_sha256,
            started_at, finished_at, status, replay_version, settings (without secrets)
            and counts. Missing keys are shown as "n/a".
        incidents: the run's incidents table (incidents.parquet).
        results: one row per execution (results.parquet). With ``load_rows``, only the
            columns execution_key, incident_id, book_name, status and latency_s are needed.
        scores: one row per execution and scorer (scores.parquet). With ``load_rows``,
            only the columns execution_key, scorer, verdict and score are needed.
        summary: statistics per book, as ``replay.scoring.stats.summarize`` returns them.
        path: where to write the HTML file; parent directories are created.
        summaries_by: optional breakdowns, for example ``{"severity": frame}``, each
            a summary frame grouped by that column.
        stability: verdict stability over repeats per book, as
            ``replay.scoring.summarize_stability`` returns it. The Repeats section is
            shown when it has rows.
        calibration: the run's stored agreement of each scorer with human verdicts, as
            ``replay.scoring.calibration.read_calibration`` returns it. The scorer
            agreement section is shown when it is given.
        load_rows: optional loader of the embedded executions: given their
            ``execution_key`` values in ``results``, it returns their rows of
            results.parquet and scores.parquet with every column, as pairs of frames (a
            part of the results and the scores of that part). It lets a caller pass
            narrow frames of a large run, even with keys that stand for the real ones.
        max_embedded: the most executions the table embeds; default
            ``MAX_EMBEDDED_EXECUTIONS``.

    Returns:
        ``path``.

    Raises:
        ReportError: a frame lacks a required column, or the file cannot be written.
    """
    frames.check_columns(results, RESULT_COLUMNS, "results")
    # a run that was never scored has an empty scores table, possibly without columns
    if len(scores.index) == 0:
        scores = pd.DataFrame(columns=list(SCORE_COLUMNS))
    frames.check_columns(scores, SCORE_COLUMNS, "scores")
    frames.check_columns(incidents, ("incident_id",), "incidents")

    scorers = _scorer_names(scores)
    primary = _primary_scorer(scorers, manifest, summary)
    counts = overview(results)
    summary_table = tables.summary_table(summary)

    embedded_results = results
    max_embedded = MAX_EMBEDDED_EXECUTIONS if max_embedded is None else max_embedded
    if counts.n_executions > max_embedded:
        mask = choose_embedded(results, scores, primary, max_embedded)
        embedded_results = results.loc[mask.to_numpy()]
    if load_rows is not None:
        keys = list(embedded_results["execution_key"])
        chunks: Callable[[], Iterable[tuple[pd.DataFrame, pd.DataFrame]]] = functools.partial(load_rows, keys)
    else:
        embedded_scores = scores
        if len(embedded_results.index) < counts.n_executions:
            embedded_scores = scores.loc[scores["execution_key"].isin(embedded_results["execution_key"])]
        chunks = functools.partial(list, [(embedded_results, embedded_scores)])
    n_embedded = len(embedded_results.index)
    used_incidents = set(embedded_results["incident_id"].astype(object))
    incident_records = _incident_records(incidents[incidents["incident_id"].isin(used_incidents)])

    rest = {
        "fields": list(EXECUTION_FIELDS),
        "incidents": incident_records,
        "scorers": scorers,
        "primary_scorer": scorers.index(primary) if primary is not None else -1,
        "books": sorted(counts.status_counts.keys() | counts.latencies_by_book.keys()),
        "statuses": tables.ordered_statuses(counts.status_counts),
        "verdicts": list(VERDICTS),
        "has_repeats": counts.has_repeats,
        "n_executions": counts.n_executions,
    }
    data, text_limit = _fit_payload(chunks, scorers, rest)

    context = {
        "script_name": "run_table.js",
        "page_title": f"replay run {manifest.get('run_id') or ''}".strip(),
        "header": tables.header_facts(manifest),
        "settings": tables.settings_rows(manifest.get("settings")),
        "counts": tables.count_rows(manifest.get("counts")),
        "n_executions": counts.n_executions,
        "n_embedded": n_embedded,
        "sample_seed": SAMPLE_SEED,
        "primary_scorer": primary,
        "summary": summary_table,
        "accuracy_chart": accuracy_chart(summary_table["chart_rows"]),
        "latency_chart": latency_histograms(counts.latencies_by_book),
        "status_table": tables.status_table(counts.status_counts),
        "breakdowns": [
            {"name": str(name), "table": tables.summary_table(frame)}
            for name, frame in (summaries_by or {}).items()
        ],
        "has_repeats": counts.has_repeats,
        "stability": _stability_context(stability, primary),
        "calibration": tables.calibration_table(calibration, primary) if calibration else None,
        "table_json": DATA_PLACEHOLDER,
        "text_limit": text_limit,
    }
    return render_page("run.html.j2", context, path, data=data)


def _stability_context(
    stability: pd.DataFrame | None, primary: str | None
) -> dict[str, Any] | None:
    """Format the Repeats section, naming the scorer whose verdicts it counts.

    A stability frame without a ``scorer`` column is taken to count the primary scorer,
    because ``replay.reporting`` computes it with the same scorer choice as the summary.
    """
    if stability is None or len(stability.index) == 0:
        return None
    named = []
    if "scorer" in stability.columns:
        named = [str(name) for name in pd.unique(stability["scorer"].dropna())]
    return {
        "scorer": named[0] if len(named) == 1 else primary,
        "table": tables.stability_table(stability),
    }


def _fit_payload(
    chunks: Callable[[], Iterable[tuple[pd.DataFrame, pd.DataFrame]]], scorers: list[str], rest: dict[str, Any]
) -> tuple[Iterator[str], int | None]:
    """Serialize the table data, cutting long texts until it fits MAX_PAYLOAD_CHARS.

    ``chunks`` returns the embedded executions as pairs of results and their scores,
    anew for each try. Each execution's JSON goes to a temporary file as it is made, so
    the data never sits in memory. A smaller limit is tried only while some text is
    longer than it. Returns the pieces of the JSON and the per-text limit applied, or
    None when nothing extra was cut.
    """
    limits: list[int | None] = [None, *FALLBACK_TEXT_LIMITS]
    for number, limit in enumerate(limits):
        cut = _Cut(limit or MAX_TEXT_CHARS)
        spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115  (closed by _pieces)
        size = spool.write('{"executions":[')
        first = True
        for results, scores in chunks():
            for row in _execution_rows(results, scores, scorers, cut):
                size += spool.write(("" if first else ",") + str(embed_json(row)))
                first = False
        records = rest if limit is None else {**rest, "incidents": _cut_texts(rest["incidents"], limit)}
        tail = str(embed_json(records))
        size += spool.write("]," + tail[1:] if len(tail) > 2 else "]}")
        if size <= MAX_PAYLOAD_CHARS or number == len(limits) - 1:
            break
        if cut.longest <= (limits[number + 1] or 0) and not _has_longer(rest["incidents"], limits[number + 1]):
            # every text is already within the next limit, so cutting would not shrink anything
            break
        spool.close()
    if size > MAX_PAYLOAD_CHARS:
        logger.warning(
            "report data is %d characters with texts cut to at most %d characters; the page may open slowly",
            size,
            limit or MAX_TEXT_CHARS,
        )
    return _pieces(spool), limit


class _Cut:
    """Cut texts to a limit and remember the longest text seen."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.longest = 0

    def __call__(self, text: str | None) -> str | None:
        if text is not None:
            self.longest = max(self.longest, len(text))
        return truncate_text(text, self.limit)


def _has_longer(value: Any, limit: int | None) -> bool:
    if limit is None:
        return False
    if isinstance(value, str):
        return len(value) > limit
    if isinstance(value, list):
        return any(_has_longer(item, limit) for item in value)
    if isinstance(value, dict):
        return any(_has_longer(item, limit) for item in value.values())
    return False


def _pieces(spool: IO[str]) -> Iterator[str]:
    """Yield the text of ``spool`` from its start in parts of about a megabyte, then close it."""
    with spool:
        spool.seek(0)
        while part := spool.read(1 << 20):
            yield part


def _cut_texts(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return truncate_text(value, limit)
    if isinstance(value, list):
        return [_cut_texts(item, limit) for item in value]
    if isinstance(value, dict):
        return {key: _cut_texts(item, limit) for key, item in value.items()}
    return value


def _scorer_names(scores: pd.DataFrame) -> list[str]:
    return [str(name) for name in pd.unique(scores["scorer"].dropna())]


def _primary_scorer(
    scorers: list[str], manifest: Mapping[str, Any], summary: pd.DataFrame
) -> str | None:
    """Pick the scorer whose verdicts the table shows first.

    A scorer named in the run settings wins. Next comes the scorer of a summary computed
    for a single scorer, then ``rca``, and last the first scorer in the scores table.
    """
    settings = manifest.get("settings") or {}
    for key in ("primary_scorer", "scorer"):
        named = settings.get(key) if isinstance(settings, Mapping) else None
        if isinstance(named, str) and named in scorers:
            return named
    if "scorer" in summary.columns:
        named_in_summary = [str(name) for name in pd.unique(summary["scorer"].dropna())]
        if len(named_in_summary) == 1 and named_in_summary[0] in scorers:
            return named_in_summary[0]
    # the same default as replay.scoring.stats.pick_scorer, so the table and the summary agree
    if DEFAULT_SCORER in scorers:
        return DEFAULT_SCORER
    return scorers[0] if scorers else None


def _execution_rows(
    results: pd.DataFrame, scores: pd.DataFrame, scorers: list[str], cut: _Cut
) -> Iterator[list[Any]]:
    """Yield each execution as the list the table script reads (``EXECUTION_FIELDS``)."""
    scorer_index = {name: index for index, name in enumerate(scorers)}
    scores_by_key: dict[str, list[Any]] = defaultdict(lambda: [None] * len(scorers))
    for score in frames.records(scores):
        name = frames.as_text(score.get("scorer"))
        key = frames.as_text(score.get("execution_key"))
        if name is None or key is None or name not in scorer_index:
            continue
        scores_by_key[key][scorer_index[name]] = [
            frames.as_float(score.get("score")),
            frames.as_text(score.get("verdict")),
            cut(frames.as_text(score.get("explanation"))),
            cut(frames.as_text(score.get("extracted_root_cause"))),
            cut(frames.as_text(score.get("evidence_json"))),
        ]

    for result in frames.records(results):
        key = frames.as_text(result["execution_key"]) or ""
        yield [
            key,
            frames.as_text(result["incident_id"]) or "",
            frames.as_text(result["book_name"]) or "(no book)",
            frames.as_int(result.get("repeat")),
            frames.as_text(result["status"]) or "(no status)",
            frames.as_int(result.get("attempts")),
            frames.as_int(result.get("http_status")),
            _rounded(frames.as_float(result.get("latency_s"))),
            _rounded(frames.as_float(result.get("queue_s"))),
            _rounded(frames.as_float(result.get("backoff_s"))),
            frames.as_text(result.get("started_at")),
            frames.as_text(result.get("finished_at")),
            cut(frames.as_text(result.get("error"))),
            cut(frames.as_text(result.get("highlights"))),
            _nested(result.get("action_results"), ("title", "short_answer", "most_important_link"), cut),
            _nested(result.get("gadgets_highlights"), ("title", "highlights", "args_json"), cut),
            _nested(result.get("actionable_mitigations"), ("tool_name", "custom_name", "url", "action_json"),
                    cut),
            frames.as_text(result.get("enrichment_link")),
            scores_by_key.get(key),
        ]


def _rounded(seconds: float | None) -> float | None:
    # 0.1 ms is finer than any latency worth reading and keeps the JSON short
    return None if seconds is None else round(seconds, 4)


def _nested(value: Any, fields: tuple[str, ...], cut: _Cut) -> list[list[str | None]]:
    entries = []
    for item in frames.as_items(value):
        if isinstance(item, Mapping):
            entries.append([cut(frames.as_text(item.get(field))) for field in fields])
    return entries


def _incident_records(incidents: pd.DataFrame) -> dict[str, dict[str, Any]]:
    metadata_columns = [str(c) for c in incidents.columns if c not in INCIDENT_FIELDS]
    records: dict[str, dict[str, Any]] = {}
    for incident in frames.records(incidents):
        incident_id = frames.as_text(incident["incident_id"])
        if incident_id is None or incident_id in records:
            continue
        metadata = {
            column: frames.as_text(incident.get(column))
            for column in metadata_columns
            if frames.as_text(incident.get(column)) is not None
        }
        keywords = [
            frames.as_text(word) for word in frames.as_items(incident.get("root_cause_keywords"))
        ]
        records[incident_id] = {
            "row": frames.as_int(incident.get("row")),
            "time": frames.as_text(incident.get("time")),
            "title": truncate_text(frames.as_text(incident.get("title"))),
            "details": truncate_text(frames.as_text(incident.get("details"))),
            "message_link": frames.as_text(incident.get("message_link")),
            "attributes": frames.as_mapping(incident.get("attributes")),
            "root_cause": truncate_text(frames.as_text(incident.get("root_cause"))),
            "component": frames.as_text(incident.get("root_cause_component")),
            "category": frames.as_text(incident.get("root_cause_category")),
            "keywords": [word for word in keywords if word],
            "human_verdict": frames.as_text(incident.get("human_verdict")),
            "metadata": metadata,
        }
    return records
