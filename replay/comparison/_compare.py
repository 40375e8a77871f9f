"""The comparison of two sides: paired metrics, McNemar's test and the incident lists.

How repeats count: each incident's repeats on a side are collapsed first (see
``replay.comparison._pairs``). With ``repeats="majority"`` an incident is correct when the
majority of its scored repeats is correct; with ``repeats="mean"`` it counts as its share
of correct repeats. McNemar's test and the lists always use the majority verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from replay.comparison._pairs import pair_incidents
from replay.comparison._runs import Side, select_sides
from replay.comparison._statistics import (
    mcnemar_exact_test,
    paired_bootstrap_interval,
    paired_quantile_interval,
)
from replay.errors import ConfigError

__all__ = ["Comparison", "McNemarTest", "Metric", "RepeatRule", "compare_executions", "compare_runs"]

RepeatRule = Literal["majority", "mean"]
REPEAT_RULES: tuple[str, ...] = ("majority", "mean")

# metrics over incidents present on both sides: (name, unit, pair column, needs a score on both sides)
_MEAN_METRICS = (
    ("mean_score", "score", "score", True),
    ("error_rate", "fraction", "error_share", False),
    ("timeout_rate", "fraction", "timeout_share", False),
    ("no_data_rate", "fraction", "no_data_share", False),
)
_LATENCY_METRICS = (("latency_p50_s", 0.5), ("latency_p90_s", 0.9))
LOWER_IS_BETTER = frozenset({"error_rate", "timeout_rate", "no_data_rate", "latency_p50_s", "latency_p90_s"})
"""Metrics whose decrease is an improvement."""


@dataclass(frozen=True)
class Metric:
    """One metric of both sides and its paired difference (B minus A).

    Fractions are in [0, 1], latencies in seconds. ``delta_low`` and ``delta_high`` bound
    a 95% paired bootstrap interval over incidents; every value is NaN when no incident
    has the metric on both sides.
    """

    name: str
    unit: Literal["fraction", "score", "seconds", "count"]
    a: float
    b: float
    delta: float
    delta_low: float
    delta_high: float
    n: int
    """Incidents the metric is computed over."""

    @property
    def is_lower_better(self) -> bool:
        """Whether a decrease of this metric is an improvement."""
        return self.name in LOWER_IS_BETTER


@dataclass(frozen=True)
class McNemarTest:
    """McNemar's exact test on the incidents whose correctness differs between A and B."""

    regressions: int
    """Incidents correct with A and not correct with B."""
    fixes: int
    """Incidents not correct with A and correct with B."""
    p_value: float


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two versions compared incident by incident.

    ``pairs`` contains one row per incident found on either side (see
    ``replay.comparison.pair_incidents``); the incident-id lists are drawn from it.
    """

    a: Side
    b: Side
    scorer: str
    repeats: RepeatRule
    metrics: tuple[Metric, ...]
    mcnemar: McNemarTest
    pairs: pd.DataFrame
    notes: tuple[str, ...] = ()

    def metric(self, name: str) -> Metric:
        """Return the metric called ``name``; raise KeyError when there is none."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"no metric {name!r}; metrics are {', '.join(m.name for m in self.metrics)}")

    @property
    def accuracy(self) -> Metric:
        """Accuracy (correct / scored) of each side over the incidents scored on both."""
        return self.metric("accuracy")

    @property
    def accuracy_drop_points(self) -> float:
        """How many percentage points accuracy fell from A to B; negative for a rise, NaN when unknown."""
        return -self.accuracy.delta * 100

    def incident_ids(self, outcome: str) -> list[str]:
        """Return the ids of incidents with ``outcome`` (one of ``OUTCOMES``), sorted."""
        return self.pairs.loc[self.pairs["outcome"] == outcome, "incident_id"].tolist()

    @property
    def regressions(self) -> list[str]:
        """Incidents correct with A and not correct with B."""
        return self.incident_ids("regression")

    @property
    def fixes(self) -> list[str]:
        """Incidents not correct with A and correct with B."""
        return self.incident_ids("fix")

    @property
    def still_wrong(self) -> list[str]:
        """Incidents scored on both sides and correct on neither."""
        return self.incident_ids("still_wrong")

    @property
    def unscored(self) -> list[str]:
        """Incidents on both sides without a scored execution on at least one."""
        return self.incident_ids("unscored")

    @property
    def only_a(self) -> list[str]:
        """Incidents executed on side A only."""
        return self.incident_ids("only_a")

    @property
    def only_b(self) -> list[str]:
        """Incidents executed on side B only."""
        return self.incident_ids("only_b")

    @property
    def n_pairs(self) -> int:
        """Incidents executed on both sides."""
        return int(self.pairs["outcome"].isin(["regression", "fix", "still_wrong", "both_correct", "unscored"]).sum())

    @property
    def n_scored_pairs(self) -> int:
        """Incidents with a scored execution on both sides: the base of accuracy and McNemar's test."""
        return self.n_pairs - len(self.unscored)

    def exceeds_drop(self, points: float) -> bool:
        """Tell whether accuracy fell by more than ``points`` percentage points from A to B.

        A comparison without any incident scored on both sides exceeds every limit,
        because a gate must not pass on no evidence.
        """
        drop = self.accuracy_drop_points
        if math.isnan(drop):
            return True
        # rounding keeps a drop of exactly the limit (e.g. 1/60 of the incidents) from failing
        return round(drop, 9) > points


def compare_executions(executions_a: pd.DataFrame, executions_b: pd.DataFrame, *,
                       incidents: pd.DataFrame | None = None, repeats: RepeatRule = "majority",
                       a: Side | None = None, b: Side | None = None, scorer: str = "",
                       notes: tuple[str, ...] = ()) -> Comparison:
    """Compare two executions frames, one per side, paired by incident.

    Args:
        executions_a: Side A, one row per execution with ``incident_id`` and ``verdict``
            and optionally ``repeat``, ``status``, ``score``, ``latency_s``, ``highlights``.
        executions_b: Side B, the same columns.
        incidents: Optional incidents frame for titles, labels and links in the lists.
        repeats: How an incident's repeats count for accuracy: ``majority`` or ``mean``.
        a: Description of side A; default a side labeled "A".
        b: Description of side B; default a side labeled "B".
        scorer: Name of the scorer whose verdicts the frames hold, for display.
        notes: Warnings to carry along, for example about mismatched runs.

    Returns:
        The comparison. Accuracy and mean score are over incidents scored on both sides;
        failure rates and latency are over incidents executed on both sides.

    Raises:
        ConfigError: For an unknown ``repeats`` rule.
        StoreError: When a frame lacks ``incident_id`` or ``verdict``.
    """
    if repeats not in REPEAT_RULES:
        raise ConfigError(f"unknown repeat rule {repeats!r}; use one of {', '.join(REPEAT_RULES)}")
    pairs = pair_incidents(executions_a, executions_b, incidents)
    both = pairs[~pairs["outcome"].isin(["only_a", "only_b"])]
    scored = both[both["outcome"] != "unscored"]

    if repeats == "majority":
        right_a = scored["verdict_a"].eq("correct").astype(float)
        right_b = scored["verdict_b"].eq("correct").astype(float)
    else:
        right_a, right_b = scored["correct_share_a"].astype(float), scored["correct_share_b"].astype(float)
    metrics = [_mean_metric("accuracy", "fraction", right_a.to_numpy(), right_b.to_numpy())]
    for name, unit, column, needs_score in _MEAN_METRICS:
        base = scored if needs_score else both
        metrics.append(_mean_metric(name, unit, _column(base, f"{column}_a"), _column(base, f"{column}_b")))
    for name, q in _LATENCY_METRICS:
        latency_a, latency_b = _column(both, "latency_s_a"), _column(both, "latency_s_b")
        delta, low, high = paired_quantile_interval(latency_a, latency_b, q)
        has_both = ~(np.isnan(latency_a) | np.isnan(latency_b))
        metrics.append(Metric(name, "seconds", _quantile(latency_a[has_both], q), _quantile(latency_b[has_both], q),
                              delta, low, high, int(has_both.sum())))

    regressions = int((pairs["outcome"] == "regression").sum())
    fixes = int((pairs["outcome"] == "fix").sum())
    test = McNemarTest(regressions, fixes, mcnemar_exact_test(regressions, fixes))
    return Comparison(a or Side("A"), b or Side("B"), scorer, repeats, tuple(metrics), test, pairs, tuple(notes))


def compare_runs(run_a: str | Path, run_b: str | Path | None = None, *, book_a: str | None = None,
                 book_b: str | None = None, scorer: str | None = None,
                 repeats: RepeatRule = "majority") -> Comparison:
    """Compare two playbook versions: two books of one run, or one book of each of two runs.

    Executions are paired by incident id. Incidents found on one side only are kept in
    the comparison's ``pairs`` (outcome ``only_a`` or ``only_b``) and left out of the
    paired metrics.

    Args:
        run_a: Run directory of side A (and of B when ``run_b`` is None).
        run_b: Run directory of side B, or None to compare two books of ``run_a``.
        book_a: Book of side A; default the run's only book, or with one run the first of
            its two books.
        book_b: Book of side B; default the run's only book, or the book named like A's,
            or with one run the second of its two books.
        scorer: Scorer whose verdicts count; default ``rca``, else the first scorer
            stored for both sides. A scorer without stored scores is run in memory.
        repeats: How an incident's repeats count for accuracy: ``majority`` or ``mean``.

    Returns:
        The comparison.

    Raises:
        StoreError: When a directory is not a readable run.
        ConfigError: When a book is missing or ambiguous, or the scorer is unknown.
    """
    selection = select_sides(Path(run_a), None if run_b is None else Path(run_b), book_a=book_a,
                             book_b=book_b, scorer=scorer)
    return compare_executions(selection.executions_a, selection.executions_b, incidents=selection.incidents,
                              repeats=repeats, a=selection.a, b=selection.b, scorer=selection.scorer,
                              notes=selection.notes)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def _mean_metric(name: str, unit: Literal["fraction", "score"], a: np.ndarray, b: np.ndarray) -> Metric:
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size == 0:
        return Metric(name, unit, math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    low, high = paired_bootstrap_interval(a, b)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    return Metric(name, unit, mean_a, mean_b, float((b - a).mean()), low, high, int(a.size))


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if values.size else math.nan
