"""Run ``replay`` in this process and print the peak resident memory of each stage.

Used by ``bench_memory.py``; the arguments are those of the ``replay`` command. The peak
is the kernel's high-water mark (VmHWM), reset at each stage boundary.
Environment: ``BENCH_STOP_BEFORE_REPORT=1`` exits when the report stage would start;
``BENCH_SCORING_COLUMNS=1`` makes scoring read only the result columns scorers use.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import replay.reporting
import replay.runner
from replay.cli import main
from replay.store import read_results

_stage = ["start", time.monotonic()]
SCORING_COLUMNS = ("execution_key", "incident_id", "book_name", "repeat", "status", "highlights")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _next_stage(name: str) -> None:
    now = time.monotonic()
    print(f"STAGE {_stage[0]} {now - _stage[1]:.1f} s peak {_peak_mb():.0f} MB", file=sys.stderr, flush=True)
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    _stage[:] = [name, now]


def _hook(module, name: str, *stages: str) -> None:
    """Start the next of ``stages`` at each call of ``module.name``."""
    original = getattr(module, name)
    upcoming = list(stages)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if upcoming:
            _next_stage(upcoming.pop(0))
        if _stage[0] == "report" and os.environ.get("BENCH_STOP_BEFORE_REPORT") == "1":
            _next_stage("end")
            os._exit(0)
        if _stage[0] == "scoring" and os.environ.get("BENCH_SCORING_COLUMNS") == "1":
            # what scoring reads when it asks read_results for the columns scorers use
            replay.reporting.read_results = functools.partial(read_results, columns=SCORING_COLUMNS)
            try:
                return original(*args, **kwargs)
            finally:
                replay.reporting.read_results = read_results
        return original(*args, **kwargs)

    setattr(module, name, wrapper)


# the run compacts once before executing (to find finished executions) and once after
_hook(replay.runner, "compact_run", "execution", "compaction")
_hook(replay.reporting, "score_run_dir", "scoring")
_hook(replay.reporting, "render_report", "report")

if __name__ == "__main__":
    try:
        main(sys.argv[1:], prog_name="replay")
    finally:
        _next_stage("end")
