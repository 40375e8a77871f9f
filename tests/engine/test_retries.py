"""Retry policy and Retry-After parsing."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from replay.retries import RetryPolicy, parse_retry_after


def test_retry_after_seconds() -> None:
    assert parse_retry_after("7") == 7.0


def test_retry_after_http_date() -> None:
    now = dt.datetime(2026, 7, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert parse_retry_after("Wed, 01 Jul 2026 12:00:30 GMT", now=now) == pytest.approx(30.0)


def test_retry_after_past_date_is_zero() -> None:
    now = dt.datetime(2026, 7, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert parse_retry_after("Wed, 01 Jul 2026 11:00:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-", "-5", "nan", "inf"])
def test_retry_after_unparseable(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_backoff_grows_and_caps() -> None:
    policy = RetryPolicy(initial_wait=1.0, max_wait=5.0, jitter=0.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_jitter_stays_in_range() -> None:
    policy = RetryPolicy(initial_wait=2.0, jitter=0.5)
    rng = random.Random(1)
    waits = [policy.backoff(1, rng) for _ in range(200)]
    assert min(waits) >= 1.0
    assert max(waits) <= 2.0
    assert len(set(waits)) > 100
