"""Run ``replay`` in this process and print the peak resident memory of each stage.

Used by ``bench_memory.py``; the arguments are those of the ``replay`` command. The peak
is the kernel's high-water mark (VmHWM), reset at each stage boundary.
Environment: ``BENCH_STOP_BEFORE_REPORT=1`` exits when the report stage would start.
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

_stage = ["start", time.monotonic()]


def _memory_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _next_stage(name: str) -> None:
    now = time.monotonic()
    print(f"STAGE {_stage[0]} {now - _stage[1]:.1f} s peak {_memory_mb('VmHWM'):.0f} MB "
          f"(at its end {_memory_mb('VmRSS'):.0f} MB)", file=sys.stderr, flush=True)
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
