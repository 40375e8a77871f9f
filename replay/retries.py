"""Retry policy: which failures are retried, how long to wait, and when to give up.

The engine is the only retry layer: the HTTP transport never retries on its own.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
from dataclasses import dataclass

__all__ = ["RETRYABLE_STATUS_CODES", "RetryPolicy", "parse_retry_after"]

# 408 and 429 ask the client to come back later; 5xx are the server's own failures
RETRYABLE_STATUS_CODES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one execution is retried.

    The wait before retry ``n`` (1-based) is ``min(max_wait, initial_wait * 2 ** (n - 1))``
    scaled by a random factor in ``[1 - jitter, 1]``, unless the server sent Retry-After,
    which wins. Durations are in seconds.

    Attributes:
        max_attempts: attempts per execution, the first included.
        initial_wait: wait before the first retry.
        max_wait: ceiling for one computed backoff wait.
        jitter: fraction of the wait that is randomised, in [0, 1].
        deadline: total seconds one execution may take across all attempts and waits.
        max_retry_after: a Retry-After longer than this means the quota is exhausted: the
            run stops instead of waiting.
    """

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    jitter: float = 0.5
    deadline: float = 1800.0
    max_retry_after: float = 300.0

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Return the computed wait before retry ``retry_number`` (1-based)."""
        base = min(self.max_wait, self.initial_wait * 2 ** (retry_number - 1))
        factor = 1.0 - self.jitter * (rng or random).random()
        return base * factor


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Parse a Retry-After header (delay in seconds or an HTTP date) into seconds.

    Returns None for a missing, unparseable, negative or non-finite value, so the caller
    falls back to its own backoff; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())
