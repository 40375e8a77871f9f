"""Aggregate statistics over scored executions, per group and over repeats.

Per group: accuracy with Wilson intervals, mean score with bootstrap intervals, failure
rates and latency percentiles. Over repeats: consistency, majority vote and pass@k, per
incident (``summarize_repeats``) and per book (``summarize_stability``).
Agreement with human verdicts lives in ``replay.scoring.agreement`` and is re-exported.

A scorer's rows of several versions may coexist in one scores frame, because a rescoring
with a new version keeps the old rows for comparison. Every summary here reads only the
newest version of each scorer (``newest_versions``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from replay.errors import ConfigError
from replay.models import ERROR_STATUSES
from replay.scoring.agreement import agreement

__all__ = [
    "SUMMARY_COLUMNS",
    "agreement",
    "bootstrap_mean_interval",
    "newest_versions",
    "pick_scorer",
    "summarize",
    "summarize_repeats",
    "summarize_stability",
    "wilson_interval",
]

SUMMARY_COLUMNS: tuple[str, ...] = (
    "n_executions", "n_scored", "n_correct", "n_partial", "n_incorrect", "n_unscored",
    "accuracy", "accuracy_low", "accuracy_high",
    "mean_score", "mean_score_low", "mean_score_high",
    "error_rate", "timeout_rate", "no_data_rate",
    "latency_p50_s", "latency_p90_s", "latency_p99_s",
)

STABILITY_COLUMNS: tuple[str, ...] = (
    "n_incidents", "repeats", "consistency", "consistency_low", "consistency_high",
    "n_unstable", "unstable_rate", "majority_accuracy", "pass_at_1", "pass_at_k",
)

# resampled values drawn per batch, so a large sample x 2,000 resamples never sits in memory
# at once (1,000,000 indices and values take 16 MB)
_BOOTSTRAP_VALUES = 1_000_000
# a tie in the majority vote goes to the worse verdict, so ties never flatter a book
_VERDICT_ORDER = ("incorrect", "partial", "correct")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion k/n.

    Args:
        k: Successes.
        n: Trials.
        confidence: Two-sided confidence level.

    Returns:
        (low, high); (nan, nan) when n is 0.
    """
    if n <= 0:
        return (math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"wilson_interval needs 0 <= k <= n, got k={k}, n={n}")
    # the standard library's normal quantile, because importing scipy.stats costs about 60 MB
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # the bounds at k = 0 and k = n are exactly 0 and 1; rounding would leave a trace
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return (low, high)


def bootstrap_mean_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95,
                            n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Return a percentile bootstrap interval of the mean.

    Args:
        values: The sample; NaN values are dropped.
        confidence: Two-sided confidence level.
        n_resamples: Bootstrap resamples.
        seed: Seed of the generator, so reports are reproducible.

    Returns:
        (low, high); (nan, nan) for an empty sample and (x, x) for a constant one.
    """
    sample = np.asarray(values, dtype=float)
    sample = sample[~np.isnan(sample)]
    if sample.size == 0:
        return (math.nan, math.nan)
    if np.all(sample == sample[0]):
        return (float(sample[0]), float(sample[0]))
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    # An even batch draws an even count of indices. numpy then consumes the generator's
    # stream the same way as in one draw, so the interval does not depend on the batch.
    batch = max(2, min(250, _BOOTSTRAP_VALUES // sample.size) // 2 * 2)
    for start in range(0, n_resamples, batch):
        stop = min(start + batch, n_resamples)
        means[start:stop] = sample[rng.integers(0, sample.size, (stop - start, sample.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return (float(low), float(high))


def pick_scorer(scores: pd.DataFrame, scorer: str | None) -> str | None:
    """Choose the scorer a summary uses: the one named, else ``rca``, else the first."""
    # pd.unique keeps the order of first appearance without a Python object per row
    names = list(dict.fromkeys(pd.unique(scores["scorer"]))) if "scorer" in scores.columns else []
    if scorer is not None:
        if scorer not in names:
            raise ConfigError(f"scorer {scorer!r} has no scores in this run; scored by: {', '.join(names) or 'none'}")
        return scorer
    if "rca" in names:
        return "rca"
    return names[0] if names else None


def newest_versions(scores: pd.DataFrame) -> pd.DataFrame:
    """Keep only the rows of each scorer's newest ``scorer_version``.

    Versions compare part by part, numbers as numbers, so ``"10"`` is newer than ``"9"``
    and ``"1.1"`` newer than ``"1"``. A missing version is older than any other.

    Args:
        scores: The scores frame; without a ``scorer_version`` column it is returned as is.

    Returns:
        ``scores`` itself when every scorer has one version, else the filtered rows.
    """
    if scores.empty or "scorer_version" not in scores.columns or "scorer" not in scores.columns:
        return scores
    # the distinct pairs first, because converting every row to Python text costs memory
    pairs = scores[["scorer", "scorer_version"]].drop_duplicates()
    pairs = pd.DataFrame({"scorer": pairs["scorer"].astype(object),
                          "version": pairs["scorer_version"].astype(object).where(pairs["scorer_version"].notna(), "")})
    pairs = pairs.drop_duplicates()
    if not pairs["scorer"].duplicated().any():
        return scores
    versions = scores["scorer_version"].astype(object).where(scores["scorer_version"].notna(), "")
    newest: dict[object, str] = {}
    for name, version in pairs.itertuples(index=False):
        if name not in newest or _version_key(str(version)) > _version_key(newest[name]):
            newest[name] = str(version)
    keep = versions.astype(str).to_numpy() == scores["scorer"].astype(object).map(newest).to_numpy()
    return scores[keep]


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    # a trailing word makes a version newer, so "1.0rc" counts as newer than "1.0"
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|[^\d.]+", version))


def summarize(results: pd.DataFrame, scores: pd.DataFrame, incidents: pd.DataFrame,
              by: Sequence[str] = ("book_name",), scorer: str | None = None) -> pd.DataFrame:
    """Aggregate one scorer's verdicts and the executions' outcomes per group.

    Accuracy is correct / scored, with a Wilson interval. Mean score is over scored
    executions, with a bootstrap interval. ``error_rate`` counts every failed execution
    over all executions: the statuses in ``replay.models.ERROR_STATUSES``, timeouts and
    no-data included. Latency percentiles are over executions with a latency.

    Args:
        results: The results frame.
        scores: The scores frame.
        incidents: The incidents frame; supplies group columns such as ``severity`` or
            ``root_cause_category``.
        by: Group columns; empty for one overall row.
        scorer: Scorer whose verdicts count; default ``rca`` or the first present.

    Returns:
        One row per group: the group columns, then ``SUMMARY_COLUMNS``.

    Raises:
        ConfigError: For a group column found in neither frame, or an unknown scorer.
    """
    by = list(by)
    scores = newest_versions(scores)
    frame = _joined(results, scores, incidents, by, pick_scorer(scores, scorer))
    if frame.empty:
        return pd.DataFrame(columns=[*by, *SUMMARY_COLUMNS])
    groups = frame.groupby(by, dropna=False, sort=True) if by else [((), frame)]
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), **_summary_row(group)})
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


def _joined(results: pd.DataFrame, scores: pd.DataFrame, incidents: pd.DataFrame,
            by: list[str], scorer: str | None) -> pd.DataFrame:
    # Rows are matched by position through an index of keys instead of merges, because a
    # merge copies every column of a large run several times over.
    frame = pd.DataFrame({column: results[column].to_numpy(copy=False)
                          for column in ("incident_id", "book_name", "status", "latency_s")})
    verdict = np.full(len(frame.index), "unscored", dtype=object)
    score = np.full(len(frame.index), np.nan)
    if scorer is not None:
        chosen = scores.loc[scores["scorer"] == scorer, ["execution_key", "score", "verdict"]]
        chosen = chosen.drop_duplicates("execution_key")
        position = pd.Index(chosen["execution_key"]).get_indexer(results["execution_key"])
        found = position >= 0
        score[found] = chosen["score"].to_numpy(dtype=float, na_value=np.nan)[position[found]]
        chosen_verdicts = chosen["verdict"].astype(object).to_numpy()[position[found]]
        verdict[found] = np.where(pd.isna(chosen_verdicts), "unscored", chosen_verdicts)
    frame["score"] = score
    frame["verdict"] = pd.Categorical(verdict)
    extra = [c for c in by if c not in frame.columns]
    unknown = [c for c in extra if c not in incidents.columns]
    if unknown:
        raise ConfigError(f"cannot group by {unknown}: not a column of the results or incidents; "
                          f"incident columns are {', '.join(map(str, incidents.columns))}")
    if extra:
        labels = incidents[["incident_id", *extra]].drop_duplicates("incident_id")
        position = pd.Index(labels["incident_id"]).get_indexer(results["incident_id"])
        for column in extra:
            values = labels[column].astype(object).to_numpy()
            frame[column] = np.where(position >= 0, values[position], None)
    return frame


def _summary_row(group: pd.DataFrame) -> dict[str, float | int]:
    verdicts = group["verdict"].value_counts()
    n = len(group)
    correct, partial, incorrect = (int(verdicts.get(v, 0)) for v in ("correct", "partial", "incorrect"))
    scored = correct + partial + incorrect
    low, high = wilson_interval(correct, scored)
    values = group.loc[group["verdict"] != "unscored", "score"].astype(float).to_numpy()
    mean = float(np.nanmean(values)) if values.size and not np.all(np.isnan(values)) else math.nan
    mean_low, mean_high = bootstrap_mean_interval(values)
    status = group["status"]
    latency = group["latency_s"].dropna().astype(float).to_numpy()
    p50, p90, p99 = (np.quantile(latency, [0.5, 0.9, 0.99]) if latency.size else (math.nan,) * 3)
    return {
        "n_executions": n, "n_scored": scored, "n_correct": correct, "n_partial": partial,
        "n_incorrect": incorrect, "n_unscored": n - scored,
        "accuracy": correct / scored if scored else math.nan,
        "accuracy_low": low, "accuracy_high": high,
        "mean_score": mean, "mean_score_low": mean_low, "mean_score_high": mean_high,
        "error_rate": float(status.isin(ERROR_STATUSES).mean()),
        "timeout_rate": float((status == "timeout").mean()),
        "no_data_rate": float((status == "no_data").mean()),
        "latency_p50_s": float(p50), "latency_p90_s": float(p90), "latency_p99_s": float(p99),
    }


def summarize_repeats(scores: pd.DataFrame, scorer: str | None = None, k: int | None = None) -> pd.DataFrame:
    """Summarise repeated executions of each (book, incident).

    Args:
        scores: The scores frame.
        scorer: Scorer whose verdicts count; default ``rca`` or the first present.
        k: The k of pass@k; default the number of scored repeats of each pair.

    Returns:
        One row per book_name and incident_id with ``n_repeats``, ``n_scored``,
        ``n_correct``, ``majority_verdict``, ``consistency``, ``pass_at_k`` and
        ``mean_score``. A tie in the majority vote goes to the worse verdict.
        ``consistency`` is the share of scored repeats that agree with the majority.
        ``pass_at_k`` is the chance that at least one of k repeats, drawn without
        replacement, is correct.
    """
    columns = ["book_name", "incident_id", "n_repeats", "n_scored", "n_correct", "majority_verdict",
               "consistency", "pass_at_k", "mean_score"]
    scores = newest_versions(scores)
    name = pick_scorer(scores, scorer)
    if name is None:
        return pd.DataFrame(columns=columns)
    chosen = scores[scores["scorer"] == name]
    rows = []
    for (book, incident), group in chosen.groupby(["book_name", "incident_id"], dropna=False, sort=True):
        scored = group[group["verdict"] != "unscored"]
        counts = scored["verdict"].value_counts()
        n, c = len(scored), int(counts.get("correct", 0))
        majority = None
        if n:
            top = counts.max()
            majority = next(v for v in _VERDICT_ORDER if counts.get(v, 0) == top)
        draws = k if k is not None else n
        rows.append({
            "book_name": book, "incident_id": incident, "n_repeats": len(group), "n_scored": n,
            "n_correct": c, "majority_verdict": majority,
            "consistency": counts.max() / n if n else math.nan,
            "pass_at_k": _pass_at_k(n, c, draws) if n else math.nan,
            "mean_score": float(scored["score"].mean()) if n else math.nan,
        })
    return pd.DataFrame(rows, columns=columns)


def summarize_stability(scores: pd.DataFrame, scorer: str | None = None) -> pd.DataFrame:
    """Summarise per book how stable a book's verdicts are across repeated executions.

    Only incidents with at least two scored repeats count, so a run without ``--repeat``
    gives an empty frame and the report can leave the section out.

    Args:
        scores: The scores frame.
        scorer: Scorer whose verdicts count; default ``rca`` or the first present.

    Returns:
        One row per ``book_name`` with ``STABILITY_COLUMNS``: ``n_incidents`` (incidents
        with two or more scored repeats), ``repeats`` (the median number of scored
        repeats, the k of ``pass_at_k``), ``consistency`` (mean share of an incident's
        repeats that agree with its majority verdict) with a bootstrap 95% interval,
        ``n_unstable`` and ``unstable_rate`` (incidents whose repeats disagree),
        ``majority_accuracy`` (incidents whose majority verdict is correct),
        ``pass_at_1`` (mean share of correct repeats) and ``pass_at_k`` (mean chance
        that at least one of k repeats is correct).
    """
    per_incident = summarize_repeats(scores, scorer=scorer)
    per_incident = per_incident[per_incident["n_scored"] >= 2]
    if per_incident.empty:
        return pd.DataFrame(columns=["book_name", *STABILITY_COLUMNS])
    rows = []
    for book, group in per_incident.groupby("book_name", dropna=False, sort=True):
        consistency = group["consistency"].astype(float).to_numpy()
        low, high = bootstrap_mean_interval(consistency)
        unstable = int((consistency < 1.0).sum())
        rows.append({
            "book_name": book, "n_incidents": len(group), "repeats": int(group["n_scored"].median()),
            "consistency": float(consistency.mean()), "consistency_low": low, "consistency_high": high,
            "n_unstable": unstable, "unstable_rate": unstable / len(group),
            "majority_accuracy": float((group["majority_verdict"] == "correct").mean()),
            "pass_at_1": float((group["n_correct"] / group["n_scored"]).mean()),
            "pass_at_k": float(group["pass_at_k"].astype(float).mean()),
        })
    return pd.DataFrame(rows, columns=["book_name", *STABILITY_COLUMNS])


def _pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: 1 - C(n-c, k) / C(n, k)."""
    k = max(1, min(k, n))
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)
