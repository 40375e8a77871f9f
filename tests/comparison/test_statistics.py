"""McNemar's exact test and the paired bootstrap intervals against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replay.comparison import (
    mcnemar_exact_test,
    paired_bootstrap_interval,
    paired_quantile_interval,
)


@pytest.mark.parametrize(
    ("regressions", "fixes", "expected"),
    [
        (2, 8, 2 * (1 + 10 + 45) / 1024),  # 2 * P(X <= 2), X ~ Binomial(10, 1/2)
        (8, 2, 2 * (1 + 10 + 45) / 1024),
        (0, 5, 2 / 32),
        (10, 0, 2 / 1024),
        (3, 3, 1.0),
        (0, 0, 1.0),
        (1, 2, 1.0),
    ],
)
def test_mcnemar_known_counts(regressions: int, fixes: int, expected: float) -> None:
    assert mcnemar_exact_test(regressions, fixes) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_negative_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        mcnemar_exact_test(-1, 3)


def test_bootstrap_contains_sample_delta() -> None:
    a = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0] * 5, dtype=float)
    b = np.array([1, 1, 1, 1, 0, 1, 1, 0, 1, 0] * 5, dtype=float)
    low, high = paired_bootstrap_interval(a, b)
    assert low <= 0.2 <= high
    assert low < high
    assert low >= -1
    assert high <= 1


def test_bootstrap_constant_shift_exact() -> None:
    a = np.linspace(0, 1, 30)
    low, high = paired_bootstrap_interval(a, a + 0.25)
    assert low == pytest.approx(0.25)
    assert high == pytest.approx(0.25)


def test_bootstrap_drops_nan_pairs() -> None:
    a = [1.0, 0.0, math.nan, 1.0]
    b = [1.0, 1.0, 0.0, math.nan]
    assert paired_bootstrap_interval(a, b) == paired_bootstrap_interval([1.0, 0.0], [1.0, 1.0])


def test_bootstrap_empty_is_nan() -> None:
    low, high = paired_bootstrap_interval([math.nan], [1.0])
    assert math.isnan(low)
    assert math.isnan(high)


def test_bootstrap_covers_true_delta() -> None:
    """About 95% of intervals over repeated samples contain the population's delta of 0.1."""
    rng = np.random.default_rng(42)
    trials, covered = 200, 0
    for _ in range(trials):
        u = rng.random(200)
        # A is correct when u < 0.5 and B when u < 0.6: correlated, true delta 0.1
        low, high = paired_bootstrap_interval((u < 0.5).astype(float), (u < 0.6).astype(float), n_resamples=1000)
        covered += low <= 0.1 <= high
    assert 0.88 <= covered / trials <= 0.99


def test_bootstrap_length_mismatch() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap_interval([1.0, 0.0], [1.0])


def test_quantile_shift_exact() -> None:
    a = np.arange(1.0, 11.0)
    delta, low, high = paired_quantile_interval(a, a + 1.0, 0.5)
    assert delta == pytest.approx(1.0)
    assert low == pytest.approx(1.0)
    assert high == pytest.approx(1.0)


def test_quantile_hand_computed() -> None:
    a = [1.0, 2.0, 3.0, 4.0, 5.0]
    b = [1.0, 2.0, 3.0, 4.0, 15.0]
    delta, low, high = paired_quantile_interval(a, b, 0.9)
    # linear interpolation: p90 of a is 4.6 and of b is 4 + 0.6 * 11 = 10.6
    assert delta == pytest.approx(6.0)
    assert low <= delta <= high


def test_quantile_rejects_bad_q() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        paired_quantile_interval([1.0], [1.0], 90)
