"""Paired statistics of a comparison: McNemar's exact test and paired bootstrap intervals.

Each function takes one value per incident and side, already paired, so the order of the
two arrays matters and NaN handling is the caller's job (except where stated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest

from replay.scoring.stats import bootstrap_mean_interval

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CONFIDENCE",
    "mcnemar_exact_test",
    "paired_bootstrap_interval",
    "paired_quantile_interval",
]

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
# a fixed seed, so the same two runs always give the same intervals
BOOTSTRAP_SEED = 0
# resamples drawn at once, to bound memory at 250 x n_incidents values per side
_BATCH = 250


def mcnemar_exact_test(regressions: int, fixes: int) -> float:
    """Return the two-sided p-value of McNemar's exact test.

    Under the null hypothesis both versions are equally accurate, so each discordant
    incident is a regression or a fix with probability 1/2 and the regressions follow
    Binomial(regressions + fixes, 1/2).

    Args:
        regressions: Incidents correct with A and not correct with B.
        fixes: Incidents not correct with A and correct with B.

    Returns:
        The p-value; 1.0 when there is no discordant incident.

    Raises:
        ValueError: For a negative count.
    """
    if regressions < 0 or fixes < 0:
        raise ValueError(f"counts must be non-negative, got regressions={regressions}, fixes={fixes}")
    discordant = regressions + fixes
    if discordant == 0:
        return 1.0
    return float(binomtest(regressions, discordant, 0.5, alternative="two-sided").pvalue)


def paired_bootstrap_interval(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                              confidence: float = CONFIDENCE, n_resamples: int = BOOTSTRAP_RESAMPLES,
                              seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Return a percentile bootstrap interval of mean(b) - mean(a) over paired values.

    Incidents are resampled as pairs, so the interval of the difference is as narrow as
    the correlation between the two versions allows. Pairs with a NaN on either side are
    dropped.

    Returns:
        (low, high); (nan, nan) when no pair is left.

    Raises:
        ValueError: When ``a`` and ``b`` differ in length.
    """
    first, second = _paired_arrays(a, b)
    keep = ~(np.isnan(first) | np.isnan(second))
    return bootstrap_mean_interval(second[keep] - first[keep], confidence, n_resamples, seed)


def paired_quantile_interval(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, q: float,
                             confidence: float = CONFIDENCE, n_resamples: int = BOOTSTRAP_RESAMPLES,
                             seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """Return quantile(b) - quantile(a) and its percentile bootstrap interval over paired values.

    Each resample draws incidents with replacement and takes the q-quantile of both sides
    over the same incidents. Pairs with a NaN on either side are dropped.

    Args:
        a: Values of side A, one per incident (for example latency in seconds).
        b: Values of side B for the same incidents, in the same order.
        q: The quantile in [0, 1], e.g. 0.9 for p90.
        confidence: Two-sided confidence level.
        n_resamples: Bootstrap resamples.
        seed: Seed of the generator.

    Returns:
        (delta, low, high); all NaN when no pair is left.

    Raises:
        ValueError: When ``a`` and ``b`` differ in length or q is outside [0, 1].
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q must be in [0, 1], got {q}")
    first, second = _paired_arrays(a, b)
    keep = ~(np.isnan(first) | np.isnan(second))
    first, second = first[keep], second[keep]
    if first.size == 0:
        return (math.nan, math.nan, math.nan)
    delta = float(np.quantile(second, q) - np.quantile(first, q))

    rng = np.random.default_rng(seed)
    deltas = np.empty(n_resamples)
    for start in range(0, n_resamples, _BATCH):
        stop = min(start + _BATCH, n_resamples)
        rows = rng.integers(0, first.size, (stop - start, first.size))
        deltas[start:stop] = np.quantile(second[rows], q, axis=1) - np.quantile(first[rows], q, axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(deltas, [alpha, 1 - alpha])
    return (delta, float(low), float(high))


def _paired_arrays(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if first.shape != second.shape:
        raise ValueError(f"paired values need equal lengths, got {first.size} and {second.size}")
    return first, second
