"""Engine overhead: requests per second of the replay engine against bare client loops.

Three clients send the same request bodies at the same concurrency, in turns, in one
process pinned to core 0, against a server on core 1:

- ``aiohttp``: a bare loop over a plain aiohttp session (post, parse the JSON answer);
- ``httpx``: the same bare loop over the run's own client (httpx with the httpx-aiohttp
  transport, the same limits and timeouts, built by ``replay.connection.http_client``);
- ``engine``: ``ExecutionEngine`` with that client: request bodies, rate limiter, concurrency
  cap, deadline, classification, result records and the fsynced journal.

Servers: ``fast_server.py`` (answers at once and is never the bottleneck; its CPU share is
printed) and the full simulator (``replay simulate --latency-scale 0``).
Bars: engine >= 0.9x the httpx loop and >= 0.4x the aiohttp loop against the fast server.

    /work/venv/bin/python benchmarks/bench_overhead.py [--requests 4000] [--rounds 3] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio

from benchmarks._harness import bare_aiohttp, bare_httpx, fast_server, make_plan, pin_client, run_engine, simulator_server


async def _engine_seconds(url: str, plan: list, concurrency: int) -> float:
    run = await run_engine(url, plan, concurrency=concurrency)
    if run.done != len(plan):
        raise RuntimeError(f"the engine finished {run.done} of {len(plan)} executions ({run.status})")
    return run.elapsed_s


CLIENTS = {"aiohttp": bare_aiohttp, "httpx": bare_httpx, "engine": _engine_seconds}


def measure(server_factory, name: str, plan: list, rounds: int, concurrency: int) -> dict[str, dict[str, float]]:
    """Run every client ``rounds`` times in turns; print and return the medians.

    Returns, per client, ``wall``: requests per second, and ``cpu``: requests per second
    of client CPU time (this process, all threads). The client is CPU-bound against the
    fast server, so ``cpu`` is what it reaches on a core of its own; it is also steady
    when other processes share the machine, which wall-clock rates are not.
    """
    rates: dict[str, list[float]] = {client: [] for client in CLIENTS}
    cpu_rates: dict[str, list[float]] = {client: [] for client in CLIENTS}
    with server_factory() as server:
        # warm up connections, imports and the server's caches
        for client in CLIENTS.values():
            anyio.run(_call, client, server.url, plan[:500], concurrency)
        for _ in range(rounds):
            for client_name, client in CLIENTS.items():
                cpu_before, wall_before = server.cpu_seconds(), time.perf_counter()
                client_cpu = time.process_time()
                seconds = anyio.run(_call, client, server.url, plan, concurrency)
                client_cpu = time.process_time() - client_cpu
                server_share = (server.cpu_seconds() - cpu_before) / (time.perf_counter() - wall_before)
                rates[client_name].append(len(plan) / seconds)
                cpu_rates[client_name].append(len(plan) / client_cpu)
                print(f"  {name:<9} {client_name:<8} {len(plan) / seconds:8.0f} req/s   "
                      f"{client_cpu / len(plan) * 1e6:5.0f} us client CPU per request   server CPU {server_share:4.0%}")
    medians = {client: {"wall": statistics.median(rates[client]), "cpu": statistics.median(cpu_rates[client])}
               for client in CLIENTS}
    for kind, label in (("wall", "req/s"), ("cpu", "req per client CPU s")):
        values = {client: medians[client][kind] for client in CLIENTS}
        print(f"{name}: median {label}: " + "  ".join(f"{c} {v:.0f}" for c, v in values.items())
              + f"   engine/httpx {values['engine'] / values['httpx']:.2f}x"
              + f"   engine/aiohttp {values['engine'] / values['aiohttp']:.2f}x")
    return medians


async def _call(client, url: str, plan: list, concurrency: int) -> float:
    return await client(url, plan, concurrency=concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--server", choices=("fast", "simulator", "both"), default="both")
    args = parser.parse_args()
    pin_client()
    plan = make_plan(args.requests)
    print(f"{args.requests} requests per pass, concurrency {args.concurrency}, client on core 0, server on core 1")
    if args.server in ("fast", "both"):
        fast = measure(fast_server, "fast", plan, args.rounds, args.concurrency)
        for kind in ("wall", "cpu"):
            print(f"bar 1 ({kind}): engine/httpx {fast['engine'][kind] / fast['httpx'][kind]:.2f}x (>= 0.90), "
                  f"engine/aiohttp {fast['engine'][kind] / fast['aiohttp'][kind]:.2f}x (>= 0.40)")
    if args.server in ("simulator", "both"):
        measure(simulator_server, "simulator", plan, args.rounds, args.concurrency)


if __name__ == "__main__":
    main()
