"""Rate-limit accuracy: request arrivals at the server against the set rate.

For each rate the engine sends ``10 s x rate`` executions (concurrency 64, burst 1) to
``fast_server.py``, which records when each request arrived. Printed: the achieved rate
over the run and the busiest 1 s window (a window starts at every arrival, from the very
first one). Bars: achieved rate within 1% of the set rate; no 1 s window above
``rate + max(1, 3% of rate)``.

    /work/venv/bin/python benchmarks/bench_rate.py [--rates 5,50,500] [--seconds 10] [--burst 1]
"""

from __future__ import annotations

import argparse
import bisect

import anyio
import httpx

from benchmarks._harness import fast_server, make_plan, pin_client, run_engine


def busiest_window(arrivals: list[float], width: float = 1.0) -> int:
    """Count the maximum number of arrivals in a window ``[t, t + width)`` starting at an arrival."""
    return max(bisect.bisect_left(arrivals, t + width) - i for i, t in enumerate(arrivals))


def measure(rate: float, seconds: float, burst: int) -> bool:
    """Run one rate; print its numbers; return whether both bars hold."""
    plan = make_plan(int(rate * seconds) + 1)
    with fast_server() as server:
        httpx.get(server.url + "/stats")  # start from an empty record
        run = anyio.run(lambda: run_engine(server.url, plan, concurrency=64, rate=rate, burst=burst))
        arrivals = sorted(httpx.get(server.url + "/stats").json()["arrivals"])
    span = arrivals[-1] - arrivals[0]
    achieved = (len(arrivals) - 1) / span
    worst = busiest_window(arrivals)
    allowed = rate + max(1.0, 0.03 * rate)
    accurate = abs(achieved / rate - 1) <= 0.01
    print(f"rate {rate:g}/s burst {burst}: {len(arrivals)} requests over {span:.2f} s, achieved {achieved:.2f}/s "
          f"({achieved / rate - 1:+.2%}), busiest 1 s window {worst} (allowed {allowed:g}); "
          f"{run.done} journaled, {run.status}")
    return accurate and worst <= allowed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5,50,500")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=1)
    args = parser.parse_args()
    pin_client()
    results = [measure(float(rate), args.seconds, args.burst) for rate in args.rates.split(",")]
    print(f"bar 3: met at {sum(results)} of {len(results)} rates")


if __name__ == "__main__":
    main()
