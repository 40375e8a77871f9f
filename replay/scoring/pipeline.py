"""Scoring of a whole run: results and incidents frames in, the scores frame out.

``score_chunks`` scores the run part by part, so that a run of any size is scored in
bounded memory; ``score_run`` is the same over one frame.

Executions whose status is not ``ok`` are ``unscored`` with the status as the reason. A
scorer that raises on one execution gives ``unscored`` for that execution, and the
execution key is logged. A ``ReplayError``, such as a judge over its error rate or a
broken user scorer, stops scoring, because every further execution would fail the same
way. After the last execution, a scorer's optional ``finish()`` method is called, and
the ``ReplayError`` it may raise also stops scoring.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from replay.errors import ReplayError, StoreError
from replay.models import Label, Score
from replay.scoring.base import Scorer
from replay.scoring.registry import get_scorer

__all__ = ["RESULT_COLUMNS", "SCHEMA_VERSION", "SCORES_SCHEMA", "label_from_row", "score_chunks", "score_run"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

SCORES_SCHEMA = pa.schema([
    pa.field("schema_version", pa.int16(), nullable=False),
    pa.field("execution_key", pa.string(), nullable=False),
    pa.field("incident_id", pa.string(), nullable=False),
    pa.field("book_name", pa.string()),
    pa.field("repeat", pa.int32()),
    pa.field("scorer", pa.string(), nullable=False),
    pa.field("scorer_version", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("verdict", pa.string(), nullable=False),
    pa.field("explanation", pa.string()),
    pa.field("extracted_root_cause", pa.string()),
    pa.field("evidence_json", pa.string()),
])

# the columns of results.parquet that scoring reads
RESULT_COLUMNS = ("execution_key", "incident_id", "book_name", "repeat", "status", "highlights")


def label_from_row(row: Mapping[str, Any]) -> Label:
    """Build a ``Label`` from one row of the incidents frame.

    Args:
        row: A mapping with ``root_cause`` and optionally ``root_cause_component``,
            ``root_cause_category``, ``root_cause_keywords`` (a list, array or
            ``;``-separated text) and ``root_cause_component_aliases``.
    """
    return Label(
        root_cause=_text(row.get("root_cause")) or "",
        component=_text(row.get("root_cause_component")),
        category=_text(row.get("root_cause_category")),
        keywords=_words(row.get("root_cause_keywords")),
        component_aliases=_words(row.get("root_cause_component_aliases", row.get("root_cause_aliases"))),
    )


def score_run(results: pd.DataFrame, incidents: pd.DataFrame,
              scorers: Sequence[str | Scorer]) -> pd.DataFrame:
    """Score every execution of a run with every scorer.

    Args:
        results: The results frame (columns of results.parquet).
        incidents: The incidents frame (columns of incidents.parquet).
        scorers: Scorer names, import paths or scorer objects.

    Returns:
        The scores frame, one row per execution and scorer, typed as ``SCORES_SCHEMA``.

    Raises:
        StoreError: When a frame lacks a required column.
        ConfigError: For an unknown scorer name.
    """
    tables = list(score_chunks([results], incidents, scorers))
    return pa.concat_tables(tables).to_pandas() if tables else SCORES_SCHEMA.empty_table().to_pandas()


def score_chunks(chunks: Iterable[pd.DataFrame], incidents: pd.DataFrame,
                 scorers: Sequence[str | Scorer]) -> Iterator[pa.Table]:
    """Score executions chunk by chunk, so a large run never sits in memory at once.

    Each scorer is built once and sees the executions in order, as with ``score_run``.
    After the last chunk, each scorer's optional ``finish()`` runs, and the
    ``ReplayError`` it may raise ends the iteration. A caller that writes the tables
    should therefore keep them provisional until the iterator is exhausted.

    Args:
        chunks: Parts of the results frame; each needs the columns ``execution_key``,
            ``incident_id``, ``book_name``, ``repeat``, ``status`` and ``highlights``.
        incidents: The incidents frame (columns of incidents.parquet).
        scorers: Scorer names, import paths or scorer objects.

    Yields:
        One table per non-empty chunk, typed as ``SCORES_SCHEMA``: a row per execution and
        scorer, in the order of the executions.

    Raises:
        StoreError: When a frame lacks a required column.
        ConfigError: For an unknown scorer name.
    """
    if "incident_id" not in incidents.columns or "root_cause" not in incidents.columns:
        raise StoreError("incidents frame needs the columns incident_id and root_cause")
    built = [get_scorer(s) if isinstance(s, str) else s for s in scorers]
    labels = {str(row["incident_id"]): label_from_row(row)
              for row in incidents.drop_duplicates("incident_id").to_dict("records")}
    executions = 0
    for results in chunks:
        missing = [c for c in RESULT_COLUMNS if c not in results.columns]
        if missing:
            raise StoreError(f"results frame is missing columns {missing}; expected the columns of results.parquet")
        if len(results.index):
            executions += len(results.index)
            yield _score_chunk(results, labels, built)
    for scorer in built:
        # a scorer may check the whole pass, as the LLM judge checks its error rate
        finish = getattr(scorer, "finish", None)
        if callable(finish):
            finish()
    logger.info("scored %d executions with %d scorers", executions, len(built))


def _score_chunk(results: pd.DataFrame, labels: Mapping[str, Label], built: Sequence[Scorer]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in SCORES_SCHEMA.names}
    for result in results[list(RESULT_COLUMNS)].itertuples(index=False):
        label = labels.get(str(result.incident_id))
        repeat = None if pd.isna(result.repeat) else int(result.repeat)
        for scorer in built:
            score = _score_one(scorer, label, result)
            columns["execution_key"].append(result.execution_key)
            columns["incident_id"].append(result.incident_id)
            columns["book_name"].append(result.book_name)
            columns["repeat"].append(repeat)
            columns["scorer"].append(scorer.name)
            columns["scorer_version"].append(scorer.version)
            columns["score"].append(score.value)
            columns["verdict"].append(score.verdict)
            columns["explanation"].append(score.explanation)
            columns["extracted_root_cause"].append(score.extracted)
            columns["evidence_json"].append(
                json.dumps(score.evidence, default=str, sort_keys=True) if score.evidence else None)
    columns["schema_version"] = [SCHEMA_VERSION] * len(columns["execution_key"])
    return pa.table(columns, schema=SCORES_SCHEMA)


def _score_one(scorer: Scorer, label: Label | None, result: Any) -> Score:
    if result.status != "ok":
        return Score.unscored(str(result.status))
    if label is None:
        return Score.unscored("incident not in the incidents table")
    try:
        return scorer(label, _text(result.highlights) or "")
    except ReplayError:
        raise
    except Exception as exc:  # a scorer bug costs one execution's score, not the run
        logger.warning("scorer %s failed on execution %s: %s: %s", scorer.name,
                       result.execution_key, type(exc).__name__, exc)
        return Score.unscored(f"scorer error: {type(exc).__name__}: {exc}")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _words(value: Any) -> tuple[str, ...]:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ()
    items = value.split(";") if isinstance(value, str) else list(value)
    return tuple(s for s in (str(i).strip() for i in items) if s)
