"""Pairing of two sides' executions by incident, after collapsing repeated executions.

Repeats of one incident on one side become one row: the majority verdict over scored
repeats (a tie goes to the worse verdict, as in ``replay.scoring.stats``), the share of
correct repeats, and means of score, latency and failure shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay.errors import StoreError
from replay.models import ERROR_STATUSES

__all__ = ["EXECUTION_COLUMNS", "OUTCOMES", "collapse_repeats", "pair_incidents"]

EXECUTION_COLUMNS = ("incident_id", "repeat", "status", "latency_s", "highlights", "verdict", "score")
"""Columns of one side's executions frame; only ``incident_id`` and ``verdict`` are required."""

OUTCOMES = ("regression", "fix", "still_wrong", "both_correct", "unscored", "only_a", "only_b")
"""Values of the pair frame's ``outcome`` column, one per incident.

``unscored`` marks an incident present on both sides but without a scored execution on
at least one of them (every repeat failed, timed out or returned no data).
"""

_SIDE_COLUMNS = ("n_executions", "n_scored", "n_correct", "verdict", "correct_share", "score", "latency_s",
                 "error_share", "timeout_share", "no_data_share", "statuses", "highlights")
_DEFAULTS = {"repeat": None, "status": "ok", "latency_s": np.nan, "highlights": None, "score": np.nan}


def collapse_repeats(executions: pd.DataFrame) -> pd.DataFrame:
    """Reduce one side's executions to one row per incident.

    Args:
        executions: One row per execution with the columns ``EXECUTION_COLUMNS``. A
            missing ``status`` counts as ``ok`` and a missing ``repeat`` as the row order.

    Returns:
        A frame indexed by ``incident_id`` with ``n_executions``, ``n_scored``,
        ``n_correct``, ``verdict`` (majority of scored repeats, None when none was
        scored), ``correct_share``, ``score`` (mean over scored repeats), ``latency_s``
        (mean over repeats with a latency), ``error_share``, ``timeout_share``,
        ``no_data_share``, ``statuses`` (the distinct statuses, comma-separated) and
        ``highlights`` (of the first repeat whose verdict is the majority verdict).

    Raises:
        StoreError: When ``incident_id`` or ``verdict`` is missing.
    """
    frame = _normalized(executions)
    scored = frame["verdict"] != "unscored"
    frame["is_scored"] = scored
    for verdict in ("correct", "partial", "incorrect"):
        frame[f"is_{verdict}"] = frame["verdict"] == verdict
    frame["scored_score"] = frame["score"].where(scored)
    frame["is_error"] = frame["status"].isin(ERROR_STATUSES)
    frame["is_timeout"] = frame["status"] == "timeout"
    frame["is_no_data"] = frame["status"] == "no_data"

    groups = frame.groupby("incident_id", sort=False)
    collapsed = groups.agg(
        n_executions=("verdict", "size"),
        n_scored=("is_scored", "sum"),
        n_correct=("is_correct", "sum"),
        n_partial=("is_partial", "sum"),
        n_incorrect=("is_incorrect", "sum"),
        score=("scored_score", "mean"),
        latency_s=("latency_s", "mean"),
        error_share=("is_error", "mean"),
        timeout_share=("is_timeout", "mean"),
        no_data_share=("is_no_data", "mean"),
    )
    collapsed["statuses"] = groups["status"].agg(lambda s: ",".join(sorted(set(map(str, s)))))

    # majority verdict; checking the worse verdicts first sends a tie to the worse one
    top = collapsed[["n_correct", "n_partial", "n_incorrect"]].max(axis=1)
    collapsed["verdict"] = np.select(
        [collapsed["n_scored"] == 0, collapsed["n_incorrect"] == top, collapsed["n_partial"] == top],
        [None, "incorrect", "partial"], default="correct",
    )
    collapsed["verdict"] = collapsed["verdict"].astype(object).where(collapsed["n_scored"] > 0, None)
    collapsed["correct_share"] = (collapsed["n_correct"] / collapsed["n_scored"]).where(collapsed["n_scored"] > 0)

    # the highlights shown for an incident come from a repeat that has the majority verdict
    majority = frame["incident_id"].map(collapsed["verdict"])
    ranked = frame.assign(is_majority=frame["verdict"].eq(majority)).sort_values(
        ["is_majority", "repeat"], ascending=[False, True], kind="stable")
    collapsed["highlights"] = ranked.drop_duplicates("incident_id").set_index("incident_id")["highlights"]

    for name in ("n_executions", "n_scored", "n_correct"):
        collapsed[name] = collapsed[name].astype(int)
    return collapsed[list(_SIDE_COLUMNS)]


def pair_incidents(a: pd.DataFrame, b: pd.DataFrame, incidents: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pair two sides' executions by incident.

    Args:
        a: Executions of side A (see ``collapse_repeats``).
        b: Executions of side B.
        incidents: Optional incidents frame; its ``title``, ``root_cause`` and
            ``message_link`` are copied onto the pairs.

    Returns:
        One row per incident found on either side, sorted by incident id: ``incident_id``,
        ``outcome`` (one of ``OUTCOMES``), the side columns of ``collapse_repeats`` with
        the suffixes ``_a`` and ``_b``, and ``title``, ``root_cause``, ``message_link``.
    """
    side_a, side_b = collapse_repeats(a), collapse_repeats(b)
    pairs = side_a.add_suffix("_a").join(side_b.add_suffix("_b"), how="outer")
    pairs.index.name = "incident_id"
    pairs = pairs.reset_index().sort_values("incident_id", kind="stable").reset_index(drop=True)
    for name in ("n_executions", "n_scored", "n_correct"):
        for suffix in ("_a", "_b"):
            pairs[name + suffix] = pairs[name + suffix].astype("Int64")

    has_a = pairs["incident_id"].isin(side_a.index)
    has_b = pairs["incident_id"].isin(side_b.index)
    is_scored = (pairs["n_scored_a"].fillna(0) > 0) & (pairs["n_scored_b"].fillna(0) > 0)
    right_a, right_b = pairs["verdict_a"].eq("correct"), pairs["verdict_b"].eq("correct")
    pairs.insert(1, "outcome", np.select(
        [~has_b, ~has_a, ~is_scored, right_a & ~right_b, ~right_a & right_b, ~right_a & ~right_b],
        ["only_a", "only_b", "unscored", "regression", "fix", "still_wrong"], default="both_correct"))

    for column in ("title", "root_cause", "message_link"):
        if incidents is not None and column in incidents.columns and "incident_id" in incidents.columns:
            texts = incidents.drop_duplicates("incident_id").set_index("incident_id")[column]
            pairs[column] = pairs["incident_id"].map(texts).astype(object)
            pairs[column] = pairs[column].where(pairs[column].notna(), None)
        else:
            pairs[column] = None
    return pairs


def _normalized(executions: pd.DataFrame) -> pd.DataFrame:
    missing = [name for name in ("incident_id", "verdict") if name not in executions.columns]
    if missing:
        raise StoreError(f"the executions frame has no {', '.join(missing)} column; expected the columns "
                         f"{', '.join(EXECUTION_COLUMNS)} (incident_id and verdict are required)")
    frame = executions.reset_index(drop=True).copy()
    for name, default in _DEFAULTS.items():
        if name not in frame.columns:
            frame[name] = default
    if frame["repeat"].isna().all():
        frame["repeat"] = np.arange(len(frame))
    frame["incident_id"] = frame["incident_id"].astype(str)
    frame["verdict"] = frame["verdict"].fillna("unscored").astype(str)
    frame["status"] = frame["status"].fillna("ok").astype(str)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    frame["latency_s"] = pd.to_numeric(frame["latency_s"], errors="coerce").astype(float)
    return frame
