"""Progress of a run: counters, and their display on a terminal or as log lines."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

__all__ = ["RunProgress"]

logger = logging.getLogger(__name__)

# seconds between two plain progress lines when stderr is not a terminal
LOG_INTERVAL_S = 10.0


@dataclass
class RunProgress:
    """Counters of one run invocation; ``done`` counts only journaled (durable) executions."""

    total: int
    done: int = 0
    ok: int = 0
    failed: int = 0
    in_flight: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)
    _bar: Progress | None = field(default=None, repr=False)
    _task: int | None = field(default=None, repr=False)
    _last_log: float = field(default=0.0, repr=False)

    def start(self, *, show_bar: bool | None = None) -> None:
        """Start the display: a bar on a terminal, periodic log lines elsewhere."""
        if show_bar is None:
            show_bar = sys.stderr.isatty()
        if show_bar:
            self._bar = Progress(
                TextColumn("[bold]replay"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ok {task.fields[ok]}  failed {task.fields[failed]}  in flight {task.fields[in_flight]}"),
                TextColumn("{task.fields[rate]:.1f}/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._bar.add_task("run", total=self.total, ok=0, failed=0, in_flight=0, rate=0.0)
            self._bar.start()
        self._last_log = time.monotonic()

    def record(self, *, ok: int, failed: int) -> None:
        """Count executions that were just made durable."""
        self.ok += ok
        self.failed += failed
        self.done += ok + failed
        self.refresh()

    def refresh(self) -> None:
        """Redraw the bar, or log a line if the interval has passed."""
        now = time.monotonic()
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done, ok=self.ok, failed=self.failed,
                             in_flight=self.in_flight, rate=self.rate)
        elif now - self._last_log >= LOG_INTERVAL_S:
            self._last_log = now
            logger.info("%d/%d executions done (%d ok, %d failed), %d in flight, %.1f/s", self.done,
                        self.total, self.ok, self.failed, self.in_flight, self.rate)

    @property
    def rate(self) -> float:
        """Durable executions per second since the start."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def stop(self) -> None:
        """Stop the display."""
        if self._bar is not None:
            self.refresh()
            self._bar.stop()
            self._bar = None
