"""Seeded fault draws and the server-side rate limit of the simulator.

Internal module: ``app.py`` asks it which fault, if any, a request gets.
"""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass

from replay.simulator.answers import seeded_random
from replay.simulator.config import FaultConfig

__all__ = ["FaultDraw", "TokenBucket", "draw_faults", "retry_after_value"]


@dataclass(frozen=True, slots=True)
class FaultDraw:
    """The faults one request gets. At most one of the status faults is set."""

    status: int | None = None
    """500, 503 or 429 to answer at once, or None."""
    is_hang: bool = False
    body_fault: str | None = None
    """"malformed", "truncated" or None."""
    is_short_batch: bool = False
    retry_after_as_date: bool = False


def draw_faults(faults: FaultConfig, seed: int, counter: int) -> FaultDraw:
    """Draw the faults of request number ``counter``.

    Every draw is made whatever the rates, so changing one rate does not shift the others.
    """
    rng = seeded_random(seed, "fault", counter)
    status_draw, hang_draw, body_draw, short_draw, date_draw, code_draw = (
        rng.random() for _ in range(6)
    )

    status = None
    if status_draw < faults.error_5xx_rate:
        status = 500 if code_draw < 0.7 else 503
    elif status_draw < faults.error_5xx_rate + faults.rate_429:
        status = 429

    body_fault = None
    if body_draw < faults.malformed_rate:
        body_fault = "malformed"
    elif body_draw < faults.malformed_rate + faults.truncated_rate:
        body_fault = "truncated"

    return FaultDraw(
        status=status,
        is_hang=hang_draw < faults.hang_rate,
        body_fault=body_fault,
        is_short_batch=short_draw < faults.short_batch_rate,
        retry_after_as_date=date_draw < faults.retry_after_date_share,
    )


def retry_after_value(seconds: int, *, as_date: bool) -> str:
    """Return a ``Retry-After`` value: whole seconds, or an HTTP date that far ahead.

    An HTTP date has a resolution of one second, so it is rounded up: a client that waits
    until that date never retries early.
    """
    if not as_date:
        return str(seconds)
    return email.utils.formatdate(math.ceil(time.time()) + seconds, usegmt=True)


class TokenBucket:
    """Requests-per-second limit: ``rate`` tokens per second, at most ``capacity`` stored.

    Not thread-safe: the app calls it from its single event loop.
    """

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._updated = time.monotonic()

    def take(self) -> float:
        """Take one token; return 0 on success, else the seconds until one is available."""
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
