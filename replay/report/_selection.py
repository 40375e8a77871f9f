"""Internal: which executions a large run report embeds, and the run-wide counts it shows.

A report page holds at most ``MAX_EMBEDDED_EXECUTIONS`` executions in its interactive
table, because every embedded execution costs memory while the page is built and while
it is open. Summary numbers, status counts and latency charts still come from every
execution.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MAX_EMBEDDED_EXECUTIONS", "Overview", "choose_embedded", "overview"]

MAX_EMBEDDED_EXECUTIONS = 10_000
SAMPLE_SEED = 0

# tiers of the choice, best first; an (incident, book) group takes its best member's tier
TIER_FAILED, TIER_DISAGREES, TIER_WRONG, TIER_REST = range(4)


@dataclass(frozen=True)
class Overview:
    """Counts over every execution of a run, whether embedded in the page or not."""

    n_executions: int
    status_counts: dict[str, Counter[str]]
    latencies_by_book: dict[str, list[float]]
    has_repeats: bool


def overview(results: pd.DataFrame) -> Overview:
    """Count statuses and collect latencies per book over every execution of ``results``."""
    books = results["book_name"].astype(object).where(results["book_name"].notna(), "(no book)")
    statuses = results["status"].astype(object).where(results["status"].notna(), "(no status)")
    status_counts: dict[str, Counter[str]] = {}
    for (book, status), count in pd.crosstab(books, statuses).stack().items():
        if count:
            status_counts.setdefault(str(book), Counter())[str(status)] = int(count)
    latencies_by_book: dict[str, list[float]] = {}
    if "latency_s" in results.columns:
        latency = pd.to_numeric(results["latency_s"], errors="coerce").astype(float)
        finite = np.isfinite(latency.to_numpy())
        # 0.1 ms is finer than any latency worth reading and keeps the page short
        rounded = latency[finite].round(4)
        for book, values in rounded.groupby(books[finite], sort=True):
            latencies_by_book[str(book)] = values.tolist()
    has_repeats = bool(results.duplicated(["incident_id", "book_name"]).any())
    return Overview(len(results.index), status_counts, latencies_by_book, has_repeats)


def choose_embedded(results: pd.DataFrame, scores: pd.DataFrame, primary: str | None,
                    limit: int = MAX_EMBEDDED_EXECUTIONS) -> pd.Series:
    """Choose at most ``limit`` executions to embed; return a mask over ``results``.

    The repeats of an incident against a book stay together, so the table's agreement
    column counts all of them. Groups come in tiers: a failed execution (status other than
    ``ok``), then verdicts that disagree (across scorers on one execution, or across the
    repeats under ``primary``), then a ``partial`` or ``incorrect`` verdict of ``primary``,
    then the rest. Within a tier the order is a seeded random one, so a report of the same
    run embeds the same executions. A group larger than the room left is passed over;
    when not even one group fits, the first group's executions fill the table.

    Args:
        results: Every execution, with ``execution_key``, ``incident_id``, ``book_name``
            and ``status``.
        scores: Scores with ``execution_key``, ``scorer`` and ``verdict``.
        primary: The scorer whose verdicts the table shows first.
        limit: The most executions to embed.
    """
    keys = results["execution_key"].astype(object)
    tier = pd.Series(TIER_REST, index=results.index)
    if primary is not None and len(scores.index):
        chosen = scores.loc[scores["scorer"].astype(object) == primary, ["execution_key", "verdict"]]
        verdict = keys.map(chosen.drop_duplicates("execution_key").set_index("execution_key")["verdict"]
                           .astype(object))
        tier[verdict.isin(("partial", "incorrect")).to_numpy()] = TIER_WRONG
        scored = verdict.where(verdict != "unscored")
        differ = scored.groupby([results["incident_id"], results["book_name"]], dropna=False).transform("nunique")
        tier[(differ > 1).to_numpy()] = TIER_DISAGREES
    if len(scores.index):
        judged = scores.loc[scores["verdict"].astype(object) != "unscored"]
        kinds = judged.groupby(judged["execution_key"].astype(object), observed=True)["verdict"].nunique()
        tier[keys.isin(kinds.index[kinds > 1]).to_numpy()] = TIER_DISAGREES
    tier[(results["status"].astype(object) != "ok").to_numpy()] = TIER_FAILED

    groups = pd.DataFrame({"incident_id": results["incident_id"].astype(object),
                           "book_name": results["book_name"].astype(object), "tier": tier})
    group_id = groups.groupby(["incident_id", "book_name"], dropna=False, sort=True).ngroup().to_numpy()
    n_groups = int(group_id.max()) + 1 if len(group_id) else 0
    sizes = np.bincount(group_id, minlength=n_groups)
    best = np.full(n_groups, TIER_REST)
    np.minimum.at(best, group_id, tier.to_numpy())
    shuffle = np.random.default_rng(SAMPLE_SEED).permutation(n_groups)
    order = np.lexsort((shuffle, best))

    taken = np.zeros(n_groups, dtype=bool)
    room = limit
    for group in order:
        if sizes[group] <= room:
            taken[group] = True
            room -= int(sizes[group])
        if room == 0:
            break
    mask = taken[group_id]
    if not mask.any() and len(order) and limit > 0:
        first = np.flatnonzero(group_id == order[0])[:limit]
        mask[first] = True
    return pd.Series(mask, index=results.index)
