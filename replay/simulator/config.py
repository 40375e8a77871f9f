"""Settings of the API simulator: its world, books, authentication and seeded faults.

Building the app from these settings lives in ``app.py``; the books file format in ``books.py``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from replay.errors import ConfigError

if TYPE_CHECKING:
    from replay.simulator.books import Book
    from replay.simulator.world import World

__all__ = ["DEFAULT_BOOK", "FaultConfig", "SimulatorConfig"]

DEFAULT_BOOK = "incident-triage"
"""Book that answers a request without ``bookName`` (the real API picks one by title)."""


def _check_rate(name: str, value: float) -> None:
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise ConfigError(
            f"simulator fault rate {name}={value!r} is invalid: expected a fraction "
            "between 0 and 1 (0.05 means 5% of requests)"
        )


def _check_positive(name: str, value: float | None, *, allow_zero: bool = True) -> None:
    if value is None:
        return
    is_bad = math.isnan(value) or value < 0 or (value == 0 and not allow_zero)
    if is_bad:
        bound = "0 or more" if allow_zero else "more than 0"
        raise ConfigError(f"simulator setting {name}={value!r} is invalid: expected {bound}")


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Seeded fault rates of the simulator. Each rate is a fraction of requests (0 to 1).

    Faults are drawn per request from the simulator seed and a request counter, so a
    client that sends requests in the same order sees the same faults.
    """

    error_5xx_rate: float = 0.0
    """Requests answered with 500 or 503 and ``{"error": ...}``."""
    rate_429: float = 0.0
    """Requests answered with 429 and a ``Retry-After`` header."""
    retry_after_s: int = 1
    """Seconds announced in ``Retry-After`` (whole seconds, as the header requires)."""
    retry_after_date_share: float = 0.5
    """Share of 429 answers whose ``Retry-After`` is an HTTP date instead of seconds."""
    hang_rate: float = 0.0
    """Requests that stall for ``hang_s`` seconds before the normal answer."""
    hang_s: float = 30.0
    """Stall of a hanging request, in seconds; set it above the client timeout."""
    malformed_rate: float = 0.0
    """200 answers whose body is not JSON at all."""
    truncated_rate: float = 0.0
    """200 answers whose JSON body is cut in the middle."""
    short_batch_rate: float = 0.0
    """Batch answers that drop the last result, so the array is shorter than the input."""
    error_200_rate: float = 0.0
    """Results replaced by HTTP 200 with ``error`` (a failed investigation)."""

    def __post_init__(self) -> None:
        for name in (
            "error_5xx_rate",
            "rate_429",
            "retry_after_date_share",
            "hang_rate",
            "malformed_rate",
            "truncated_rate",
            "short_batch_rate",
            "error_200_rate",
        ):
            _check_rate(name, getattr(self, name))
        _check_positive("retry_after_s", self.retry_after_s)
        _check_positive("hang_s", self.hang_s)

    @property
    def has_faults(self) -> bool:
        """Whether any fault rate is above zero."""
        rates = (
            self.error_5xx_rate,
            self.rate_429,
            self.hang_rate,
            self.malformed_rate,
            self.truncated_rate,
            self.short_batch_rate,
            self.error_200_rate,
        )
        return any(rate > 0 for rate in rates)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything ``create_app`` needs. The defaults give a fault-free, open simulator.

    ``token`` is a secret: it is kept out of ``repr`` and never logged.
    """

    world: World | None = None
    """Incidents the simulator knows; None means an empty world (every request is unmatched)."""
    books: tuple[Book, ...] | None = None
    """Books it serves; None loads the bundled ``books.toml``."""
    token: str | None = field(default=None, repr=False)
    """Required bearer token; None accepts any non-empty bearer token."""
    is_forbidden: bool = False
    """Answer every authenticated request with 403 (API not enabled for the organization)."""
    seed: int = 0
    """Seed of every random choice: answers, latencies and faults."""
    latency_scale: float = 1.0
    """Factor on the books' latency profiles; 0 answers at once."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    """Seeded fault rates."""
    rate_limit_rps: float | None = None
    """Server-side limit in requests per second (429 beyond it); None for no limit."""
    rate_limit_burst: float | None = None
    """Token-bucket capacity of the server-side limit; None means max(1, rate_limit_rps)."""
    retention_days: float | None = None
    """Age beyond which a request ``time`` gets the "No data available" error; None keeps all."""
    now: dt.datetime | None = None
    """Fixed "now" for the retention check (timezone-aware); None uses the wall clock."""
    default_book: str = DEFAULT_BOOK
    """Book that answers requests without ``bookName``."""
    request_log_path: Path | None = None
    """JSONL file that receives one line per request, flushed per line; None keeps memory only."""

    def __post_init__(self) -> None:
        _check_positive("latency_scale", self.latency_scale)
        _check_positive("rate_limit_rps", self.rate_limit_rps, allow_zero=False)
        _check_positive("rate_limit_burst", self.rate_limit_burst, allow_zero=False)
        _check_positive("retention_days", self.retention_days)
        if self.now is not None and self.now.tzinfo is None:
            raise ConfigError(
                f"simulator setting now={self.now.isoformat()!r} has no time zone: "
                "pass a timezone-aware datetime such as datetime.now(timezone.utc)"
            )
        if self.token is not None and not self.token.strip():
            raise ConfigError(
                "simulator token is empty: set a non-empty token or None to accept any"
            )
