"""Rate limiter and adaptive concurrency."""

from __future__ import annotations

import time

import anyio
import pytest

from replay.limits import AdaptiveConcurrency, RateLimiter


def _starts(rate: float, burst: int, callers: int) -> list[float]:
    limiter = RateLimiter(rate, burst)
    starts: list[float] = []

    async def caller() -> None:
        await limiter.acquire()
        starts.append(time.monotonic())

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(callers):
                group.start_soon(caller)

    anyio.run(main)
    return sorted(starts)


def test_rate_limiter_spaces_starts() -> None:
    starts = _starts(rate=50, burst=1, callers=26)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) > 0.015
    assert starts[-1] - starts[0] == pytest.approx(0.5, abs=0.05)


def test_rate_limiter_burst_then_spacing() -> None:
    starts = _starts(rate=20, burst=5, callers=10)
    first = starts[0]
    assert sum(1 for s in starts if s - first < 0.02) == 5
    assert starts[-1] - first == pytest.approx(0.25, abs=0.04)


def test_rate_limiter_no_window_over_rate() -> None:
    starts = _starts(rate=100, burst=1, callers=150)
    for i, start in enumerate(starts):
        in_window = sum(1 for s in starts[i:] if s - start < 1.0)
        assert in_window <= 101


def test_rate_limiter_unlimited_does_not_wait() -> None:
    limiter = RateLimiter(None)
    assert anyio.run(limiter.acquire) == 0.0


def test_rate_limiter_pause_delays_everyone() -> None:
    limiter = RateLimiter(None)
    limiter.pause(0.2)
    waited = anyio.run(limiter.acquire)
    assert waited == pytest.approx(0.2, abs=0.05)


def test_concurrency_halves_on_throttle_and_recovers() -> None:
    slots = AdaptiveConcurrency(16, increase_after=3)
    slots.record_throttle()
    assert slots.limit == 8
    slots.record_throttle()
    assert slots.limit == 4
    for _ in range(6):
        slots.record_success()
    assert slots.limit == 6


def test_concurrency_never_below_one() -> None:
    slots = AdaptiveConcurrency(2)
    for _ in range(5):
        slots.record_throttle()
    assert slots.limit == 1


def test_concurrency_caps_in_flight() -> None:
    slots = AdaptiveConcurrency(3)
    peak = 0

    async def task() -> None:
        nonlocal peak
        await slots.acquire()
        peak = max(peak, slots.in_flight)
        await anyio.sleep(0.01)
        slots.release()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(task)

    anyio.run(main)
    assert peak == 3
    assert slots.in_flight == 0
