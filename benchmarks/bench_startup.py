"""Start-up time of the command line: ``replay --help`` in a fresh process.

Runs it ``--runs`` times after one warm-up (so the bytecode cache is filled) and prints
the median and the slowest. Bar: under 0.3 s.

    /work/venv/bin/python benchmarks/bench_startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks._harness import PYTHON

REPLAY = Path(PYTHON).with_name("replay")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    commands = {"replay --help": [str(REPLAY), "--help"], "replay run --help": [str(REPLAY), "run", "--help"]}
    for name, command in commands.items():
        subprocess.run(command, check=True, capture_output=True)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        print(f"{name:<18} median {statistics.median(times):.3f} s, slowest {max(times):.3f} s over {args.runs} runs")
    print("bar 5: the median of 'replay --help' above is to be under 0.3 s")


if __name__ == "__main__":
    main()
