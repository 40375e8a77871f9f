"""Benchmark: render the run report of 10,000 executions and print the time and file size.

Run from the repository root:
    python benchmarks/bench_report.py [--incidents N] [--books B] [--highlights C] [--out PATH]

The target is under 10 s and under 20 MB for 10,000 executions (5,000 incidents x 2 books,
3 scorers, about 400 characters of highlights each, with action results, gadget highlights
and mitigations on every successful execution).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))

from report_builders import make_run_frames, render_sample  # noqa: E402  (path set above)

TARGET_SECONDS = 10.0
TARGET_MEGABYTES = 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=5_000, help="incidents (default 5000)")
    parser.add_argument(
        "--books", type=int, default=2, choices=(1, 2), help="books per incident (default 2)"
    )
    parser.add_argument(
        "--highlights", type=int, default=400, help="characters of highlights (default 400)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report path (default: a temporary file)"
    )
    arguments = parser.parse_args()

    books = ("incident-triage", "db-checks")[: arguments.books]
    started = time.perf_counter()
    frames = make_run_frames(
        arguments.incidents, books=books, seed=1, highlights_chars=arguments.highlights
    )
    built = time.perf_counter() - started
    n_executions = len(frames["results"])

    with tempfile.TemporaryDirectory() as directory:
        path = arguments.out or Path(directory) / "report.html"
        started = time.perf_counter()
        render_sample(frames, path)
        seconds = time.perf_counter() - started
        megabytes = path.stat().st_size / 1_000_000

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {python}")
    print(f"frames built in {built:.2f} s (not counted)")
    print(f"executions: {n_executions:,}, scores: {len(frames['scores']):,}")
    print(f"render time: {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s)")
    print(f"file size: {megabytes:.2f} MB (target < {TARGET_MEGABYTES:.0f} MB)")
    is_within = seconds < TARGET_SECONDS and megabytes < TARGET_MEGABYTES
    print("result: " + ("within target" if is_within else "OVER TARGET"))
    return 0 if is_within else 1


if __name__ == "__main__":
    sys.exit(main())
