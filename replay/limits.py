"""Rate and concurrency limits shared by every task of a run.

``RateLimiter`` is a GCRA-style schedule: each caller takes the next free time slot, so the
achieved rate matches the set rate exactly and a burst is spent at most once.
``AdaptiveConcurrency`` is the in-flight cap, lowered multiplicatively on 429 and grown back
one step at a time after sustained success (AIMD).
"""

from __future__ import annotations

import logging
import math
import time

import anyio

__all__ = ["AdaptiveConcurrency", "RateLimiter"]

logger = logging.getLogger(__name__)


class RateLimiter:
    """Space request starts at ``1 / rate`` seconds, allowing ``burst`` back-to-back starts.

    Args:
        rate: requests per second; ``None`` or ``0`` disables the limit.
        burst: how many requests may start at once after an idle period (at least 1).
    """

    def __init__(self, rate: float | None, burst: int = 1) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.burst = max(1, int(burst))
        self._interval = 1.0 / self.rate if self.rate else 0.0
        # the theoretical arrival time of the next request (GCRA's TAT)
        self._next_slot = -math.inf
        self._paused_until = 0.0

    async def acquire(self) -> float:
        """Wait for this caller's slot; return the seconds waited."""
        now = time.monotonic()
        wait = self.reserve(now) - now
        if wait > 0:
            await anyio.sleep(wait)
        return max(0.0, wait)

    def reserve(self, now: float) -> float:
        """Take the next free slot at or after ``now`` and return its start time (monotonic seconds).

        Callers take their slot before sleeping, so concurrent callers start in arrival order.
        """
        earliest = max(now, self._paused_until)
        if self.rate is None:
            return earliest
        tolerance = (self.burst - 1) * self._interval
        slot = max(earliest, self._next_slot - tolerance)
        self._next_slot = max(self._next_slot, slot) + self._interval
        return slot

    def pause(self, seconds: float) -> None:
        """Hold every new request start for ``seconds`` (a server asked us to back off)."""
        until = time.monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            logger.info("pausing new requests for %.1f s", seconds)


class AdaptiveConcurrency:
    """An in-flight cap between 1 and ``maximum`` that adapts to 429 responses.

    Args:
        maximum: the configured concurrency; the cap never exceeds it.
        increase_after: consecutive successes needed to raise the cap by one.
        decrease_interval: seconds after a decrease during which further 429s do not lower the
            cap again, so one overload that answers several in-flight requests with 429 halves
            the cap once, not once per response.
    """

    def __init__(self, maximum: int, increase_after: int = 20, decrease_interval: float = 1.0) -> None:
        self.maximum = max(1, int(maximum))
        self._decrease_interval = decrease_interval
        self._last_decrease = -math.inf
        self.limit = self.maximum
        self.in_flight = 0
        self._increase_after = max(1, increase_after)
        self._successes = 0
        self._changed = anyio.Event()

    async def acquire(self) -> None:
        """Wait until one more request may be in flight, then take the slot."""
        while self.in_flight >= self.limit:
            event = self._changed
            await event.wait()
        self.in_flight += 1

    def release(self) -> None:
        """Give back a slot taken by ``acquire``."""
        self.in_flight -= 1
        self._wake()

    def record_success(self) -> None:
        """Count a success; after enough in a row, raise the cap by one."""
        if self.limit >= self.maximum:
            return
        self._successes += 1
        if self._successes >= self._increase_after:
            self._successes = 0
            self.limit += 1
            self._wake()

    def record_throttle(self) -> None:
        """Halve the cap after a 429 (never below 1)."""
        self._successes = 0
        now = time.monotonic()
        if now - self._last_decrease < self._decrease_interval:
            return
        self._last_decrease = now
        new_limit = max(1, self.limit // 2)
        if new_limit != self.limit:
            logger.warning("the API throttled the run: lowering concurrency from %d to %d", self.limit, new_limit)
            self.limit = new_limit

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
