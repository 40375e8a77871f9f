"""Latency-bound throughput: 500 executions in flight against a server that answers in 1 s.

The ideal is 500 executions per second (each slot finishes one execution per second).
The client runs on core 0 and ``fast_server.py --delay 1`` on core 1.
Bar: at least 85% of the ideal.

    /work/venv/bin/python benchmarks/bench_latency.py [--executions 5000] [--concurrency 500] [--delay 1]
"""

from __future__ import annotations

import argparse
import time

import anyio

from benchmarks._harness import fast_server, make_plan, pin_client, run_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    pin_client()
    plan = make_plan(args.executions)
    ideal = args.concurrency / args.delay
    with fast_server(delay=args.delay) as server:
        cpu = time.process_time()
        run = anyio.run(lambda: run_engine(server.url, plan, concurrency=args.concurrency))
        cpu = time.process_time() - cpu
    rate = run.done / run.elapsed_s
    print(f"{run.done} executions ({run.ok} ok, {run.status}) in {run.elapsed_s:.2f} s with {args.concurrency} in flight "
          f"and {args.delay:g} s server latency; client CPU {cpu:.2f} s")
    print(f"bar 2: {rate:.0f} executions/s = {rate / ideal:.1%} of the ideal {ideal:.0f}/s (>= 85%)")


if __name__ == "__main__":
    main()
