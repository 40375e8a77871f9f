"""Peak memory of a whole run: 100,000 executions, compaction, scoring and the report.

Builds a 1,000-incident dataset from the sample quarter (new incident ids), then runs
``replay run DATASET --repeat 100`` as a child process on core 0 against
``fast_server.py`` (no latency) on core 1, sampling the child's resident memory every
0.5 s. Printed: the highest of the stage peaks, RSS over time, and the time and peak of
each stage (start-up and execution, compaction, scoring, report). The peak of a stage is
the kernel's high-water mark, reset at each stage boundary. Bar: peak RSS under 250 MB in
every stage.

``--keep DIR`` keeps the run directory under DIR. ``--run-dir RUN`` measures only scoring
and the report of an existing run, as ``replay score RUN`` does.

    /work/venv/bin/python -m benchmarks.bench_memory [--incidents 1000] [--repeat 100]
    /work/venv/bin/python -m benchmarks.bench_memory --run-dir DIR/runs/RUN_ID
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks._harness import CLIENT_CPU, PYTHON, ROOT, SAMPLE, TOKEN, fast_server

SAMPLE_PERIOD_S = 0.5


def build_dataset(incidents: int, path: Path) -> None:
    """Write ``incidents`` rows cycled from the sample quarter, each with its own id."""
    sample = pq.read_table(SAMPLE)
    indices = pa.array([i % sample.num_rows for i in range(incidents)])
    table = sample.take(indices)
    ids = pc.binary_join_element_wise(table.column("incident_id"), pa.array([f"{i:05d}" for i in range(incidents)]), "-")
    table = table.set_column(table.schema.get_field_index("incident_id"), "incident_id", ids)
    pq.write_table(table, path)


def peak_and_current(pid: int) -> tuple[float, float]:
    """Read the process's peak and current resident memory, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmHWM", 0.0), values.get("VmRSS", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--no-report", action="store_true", help="stop before the report stage")
    parser.add_argument("--keep", type=Path, help="create the run under this directory and keep it")
    parser.add_argument("--run-dir", type=Path, help="score and report this existing run only")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        env = dict(os.environ, WILDMOOSE_API_TOKEN=TOKEN, PYTHONPATH=str(ROOT),
                   BENCH_STOP_BEFORE_REPORT=str(int(args.no_report)))
        if args.run_dir:
            folder = str(args.run_dir.resolve().parent)
            arguments = ["score", str(args.run_dir.resolve())]
        else:
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                folder = str(args.keep.resolve())
            else:
                folder = stack.enter_context(tempfile.TemporaryDirectory(dir=ROOT / "benchmarks"))
            server = stack.enter_context(fast_server())
            dataset = Path(folder) / "incidents.parquet"
            build_dataset(args.incidents, dataset)
            arguments = ["run", str(dataset), "--api-url", server.url, "--repeat", str(args.repeat), "--concurrency",
                         str(args.concurrency), "--rate", "0", "--out", str(Path(folder) / "runs")]
        command = ["taskset", "-c", str(CLIENT_CPU), PYTHON, "-m", "benchmarks._memory_child", *arguments]
        started = time.monotonic()
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        samples: list[tuple[float, float]] = []
        while child.poll() is None:
            try:
                _, current = peak_and_current(child.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            samples.append((time.monotonic() - started, current))
            time.sleep(SAMPLE_PERIOD_S)
        stdout, stderr = child.communicate()
        elapsed = time.monotonic() - started
    if child.returncode != 0:
        print(stderr[-3000:])
        raise SystemExit(f"the run failed (exit {child.returncode})")
    stages = [line.split(" ", 1)[1] for line in stderr.splitlines() if line.startswith("STAGE ")]
    # the high-water mark is reset at each stage boundary, so the run's peak is the highest stage peak
    peak = max([float(line.split(" peak ", 1)[1].split()[0]) for line in stages] or [0.0])
    if args.run_dir:
        print(f"replay score {args.run_dir}: whole command {elapsed:.1f} s")
    else:
        print(f"{args.incidents * args.repeat} executions ({args.incidents} incidents x repeat {args.repeat}), "
              f"concurrency {args.concurrency}: whole command {elapsed:.1f} s")
    print("RSS over time (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in samples[:: max(1, len(samples) // 12)]))
    print(f"bar 4: peak RSS {peak:.0f} MB (< 250 MB)")
    print("stages (time, peak RSS within the stage):\n  " + "\n  ".join(stages))
    print(stdout.strip()[-600:])


if __name__ == "__main__":
    main()
