"""Rate limiter and adaptive concurrency."""

from __future__ import annotations

import bisect
import random
import time

import anyio
import pytest

from replay.limits import AdaptiveConcurrency, RateLimiter


def _slots(limiter: RateLimiter, arrivals: list[float]) -> list[float]:
    return [limiter.reserve(now) for now in arrivals]


def test_rate_limiter_spaces_slots() -> None:
    slots = _slots(RateLimiter(50, burst=1), [0.0] * 26)
    gaps = [b - a for a, b in zip(slots, slots[1:])]
    assert gaps == pytest.approx([0.02] * 25)


def test_rate_limiter_burst_then_spacing() -> None:
    slots = _slots(RateLimiter(20, burst=5), [0.0] * 10)
    assert slots[:5] == [0.0] * 5
    assert slots[5:] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.25])


def test_rate_limiter_idle_refills_burst() -> None:
    limiter = RateLimiter(10, burst=3)
    _slots(limiter, [0.0] * 6)
    assert _slots(limiter, [10.0] * 4) == pytest.approx([10.0, 10.0, 10.0, 10.1])


def test_rate_limiter_no_window_over_rate() -> None:
    rng = random.Random(3)
    arrivals = sorted(rng.uniform(0, 5) for _ in range(2000))
    slots = _slots(RateLimiter(100, burst=1), arrivals)
    for i, start in enumerate(slots):
        in_window = bisect.bisect_left(slots, start + 1.0 - 1e-9) - i
        assert in_window <= 100


def test_rate_limiter_real_time() -> None:
    limiter = RateLimiter(50)
    starts: list[float] = []

    async def caller() -> None:
        await limiter.acquire()
        starts.append(time.monotonic())

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(26):
                group.start_soon(caller)

    anyio.run(main)
    # sleeps may overshoot on a loaded machine, but never start early
    assert max(starts) - min(starts) >= 0.5 - 0.01


def test_rate_limiter_unlimited_does_not_wait() -> None:
    limiter = RateLimiter(None)
    assert anyio.run(limiter.acquire) == 0.0


def test_rate_limiter_pause_delays_everyone() -> None:
    limiter = RateLimiter(None)
    limiter.pause(0.2)
    waited = anyio.run(limiter.acquire)
    assert waited == pytest.approx(0.2, abs=0.05)


def test_concurrency_halves_once_per_overload() -> None:
    slots = AdaptiveConcurrency(16, decrease_interval=60.0)
    for _ in range(3):
        slots.record_throttle()
    assert slots.limit == 8


def test_concurrency_halves_on_throttle_and_recovers() -> None:
    slots = AdaptiveConcurrency(16, increase_after=3, decrease_interval=0.0)
    slots.record_throttle()
    assert slots.limit == 8
    slots.record_throttle()
    assert slots.limit == 4
    for _ in range(6):
        slots.record_success()
    assert slots.limit == 6


def test_concurrency_never_below_one() -> None:
    slots = AdaptiveConcurrency(2, decrease_interval=0.0)
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
