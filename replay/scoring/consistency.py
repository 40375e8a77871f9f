"""Consistency of the LLM judge: the same stored answer graded several times.

A verdict that changes between repeated executions of a playbook may come from the
playbook or from the grader. ``judge_agreement`` separates the two: it grades each stored
answer ``repeats`` times (the repeats bypass the judge's cache) and measures how often the
judge agrees with itself. A judge that agrees with itself on nearly every answer makes a
change across executions the playbook's; a judge that does not is the noise to fix first.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from replay.errors import ConfigError, StoreError
from replay.scoring.judge import LLMJudge
from replay.scoring.pipeline import label_from_row

__all__ = ["AGREEMENT_ROW_COLUMNS", "JudgeAgreement", "fleiss_kappa", "format_judge_agreement",
           "judge_agreement", "judge_agreement_run"]

logger = logging.getLogger(__name__)

AGREEMENT_ROW_COLUMNS: tuple[str, ...] = (
    "execution_key", "incident_id", "book_name", "n_graded", "n_unscored", "verdicts",
    "majority_verdict", "agreement",
)
_CATEGORIES = ("correct", "partial", "incorrect")


@dataclass(frozen=True)
class JudgeAgreement:
    """Agreement of the judge with itself over repeated grading of the same answers.

    Attributes:
        repeats: Gradings asked for per answer.
        per_execution: One row per graded execution with ``AGREEMENT_ROW_COLUMNS``;
            ``agreement`` is the share of its scored gradings equal to the majority.
        mean_agreement: Mean of ``agreement`` over executions with two or more scored
            gradings.
        mean_pairwise: Share of agreeing pairs among all pairs of gradings of the same
            answer, averaged over those executions (the observed agreement of Fleiss' kappa).
        fleiss_kappa: Fleiss' kappa over those executions; nan when every grading gave
            the same verdict, since chance agreement is then total.
        n_skipped: Executions not graded: not ``ok``, no label, or an empty answer that the
            judge decides without a call.
    """

    repeats: int
    per_execution: pd.DataFrame
    mean_agreement: float
    mean_pairwise: float
    fleiss_kappa: float
    n_skipped: int


def fleiss_kappa(counts: np.ndarray) -> tuple[float, float]:
    """Return the mean pairwise agreement and Fleiss' kappa of a subjects x categories table.

    Rows may have different totals (the unweighted generalisation of Fleiss' kappa); rows
    with fewer than two ratings are ignored.

    Args:
        counts: ``counts[i, j]`` is how many ratings put subject ``i`` in category ``j``.

    Returns:
        ``(mean_pairwise, kappa)``; both nan without a usable row, kappa nan when the
        chance agreement is 1.
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2:
        raise ValueError(f"fleiss_kappa needs a 2-D table, got {table.ndim} dimensions")
    totals = table.sum(axis=1)
    table, totals = table[totals >= 2], totals[totals >= 2]
    if not len(totals):
        return (math.nan, math.nan)
    observed = float(np.mean(((table * table).sum(axis=1) - totals) / (totals * (totals - 1))))
    shares = table.sum(axis=0) / totals.sum()
    chance = float((shares * shares).sum())
    if chance >= 1.0:
        return (observed, math.nan)
    return (observed, (observed - chance) / (1.0 - chance))


def judge_agreement(results: pd.DataFrame, incidents: pd.DataFrame, judge: LLMJudge, *,
                    repeats: int = 3) -> JudgeAgreement:
    """Grade every stored answer ``repeats`` times and measure the judge's self-agreement.

    The first grading may come from the judge's cache. The other gradings always call the
    model and are not cached, so they measure the model rather than the cache.

    Args:
        results: The results frame (``execution_key``, ``incident_id``, ``book_name``,
            ``status``, ``highlights``).
        incidents: The incidents frame.
        judge: The LLM judge to check.
        repeats: Gradings per answer, at least 2.

    Returns:
        A ``JudgeAgreement``.

    Raises:
        ConfigError: When ``repeats`` is below 2.
        RemoteCallError: When the judge's calls fail above its maximum error rate.
    """
    if repeats < 2:
        raise ConfigError(f"judge repeats must be at least 2 to measure agreement, got {repeats}")
    missing = [c for c in ("execution_key", "incident_id", "book_name", "status", "highlights")
               if c not in results.columns]
    if missing:
        raise StoreError(f"results frame is missing columns {missing}; expected the columns of results.parquet")
    labels = {str(row["incident_id"]): label_from_row(row)
              for row in incidents.drop_duplicates("incident_id").to_dict("records")}
    rows, skipped = [], 0
    for result in results.itertuples(index=False):
        label = labels.get(str(result.incident_id))
        highlights = result.highlights if isinstance(result.highlights, str) else ""
        if result.status != "ok" or label is None:
            skipped += 1
            continue
        first = judge.grade(label, highlights)
        if "cache_key" not in first.evidence:
            # an empty answer is graded without the model, so it says nothing about the judge
            skipped += 1
            continue
        verdicts = [first.verdict, *(judge.grade(label, highlights, use_cache=False).verdict
                                     for _ in range(repeats - 1))]
        rows.append(_execution_row(result, verdicts))
    judge.finish()
    frame = pd.DataFrame(rows, columns=list(AGREEMENT_ROW_COLUMNS))
    counts = np.array([[Counter(r["verdicts"].split(","))[c] for c in _CATEGORIES] for r in rows]
                      ).reshape(len(rows), len(_CATEGORIES))
    pairwise, kappa = fleiss_kappa(counts)
    usable = frame.loc[frame["n_graded"] - frame["n_unscored"] >= 2, "agreement"]
    mean_agreement = float(usable.mean()) if len(usable) else math.nan
    logger.info("judge agreement over %d executions: mean %.3f, kappa %.3f", len(rows), mean_agreement, kappa)
    return JudgeAgreement(repeats, frame, mean_agreement, pairwise, kappa, skipped)


def _execution_row(result: object, verdicts: Sequence[str]) -> dict[str, object]:
    scored = [v for v in verdicts if v != "unscored"]
    counts = Counter(scored)
    majority = None
    if counts:
        top = max(counts.values())
        # a tie goes to the worse verdict, as in the repeat summaries
        majority = next(v for v in reversed(_CATEGORIES) if counts.get(v, 0) == top)
    return {
        "execution_key": result.execution_key, "incident_id": result.incident_id,  # type: ignore[attr-defined]
        "book_name": result.book_name, "n_graded": len(verdicts),  # type: ignore[attr-defined]
        "n_unscored": len(verdicts) - len(scored), "verdicts": ",".join(scored),
        "majority_verdict": majority, "agreement": counts[majority] / len(scored) if scored else math.nan,
    }


def judge_agreement_run(run_dir: str | Path, repeats: int = 3, judge: LLMJudge | None = None) -> JudgeAgreement:
    """Run ``judge_agreement`` over a stored run.

    Args:
        run_dir: The run directory.
        repeats: Gradings per answer, at least 2.
        judge: The judge to check; default ``llm_judge()`` configured from the environment.

    Returns:
        A ``JudgeAgreement``.
    """
    from replay.reporting import read_incidents
    from replay.scoring.judge import llm_judge
    from replay.store import read_results

    run_dir = Path(run_dir)
    judge = judge if judge is not None else llm_judge()
    results = read_results(run_dir, columns=("execution_key", "incident_id", "book_name", "status", "highlights"))
    return judge_agreement(results, read_incidents(run_dir), judge, repeats=repeats)


def format_judge_agreement(agreement: JudgeAgreement) -> str:
    """Return a few lines of text that summarise a ``JudgeAgreement`` for the terminal."""
    frame = agreement.per_execution
    usable = frame[frame["n_graded"] - frame["n_unscored"] >= 2]
    flaky = usable[usable["agreement"] < 1.0]
    header = (f"judge agreement over {len(usable)} answers graded {agreement.repeats} times "
              f"({agreement.n_skipped} executions skipped):")
    measures = (f"  mean agreement with the majority {agreement.mean_agreement:.3f}, "
                f"mean pairwise agreement {agreement.mean_pairwise:.3f}, "
                f"Fleiss' kappa {agreement.fleiss_kappa:.3f}")
    return "\n".join([header, measures, f"  answers whose verdict changed between gradings: {len(flaky)}"])
