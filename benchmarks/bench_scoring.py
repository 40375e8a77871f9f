"""Time the keyword, element and lexical scorers over 100,000 (label, highlights) pairs.

Pairs are built from the hand-graded cases in tests/data/scorer_cases.jsonl. Every pair
gets its own node name in the statement and its own pod name and latency in the evidence,
so the scorers' caches never receive the same text twice. Runs on one core. Target: under 30 s for the three scorers
together.

    /work/venv/bin/python benchmarks/bench_scoring.py [--pairs N]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from replay.models import Label
from replay.scoring.element import element_match
from replay.scoring.keywords import keyword_coverage
from replay.scoring.lexical import lexical_similarity

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "scorer_cases.jsonl"


def build_pairs(n: int, seed: int = 0) -> list[tuple[Label, str]]:
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        case = cases[i % len(cases)]
        suffix = f"{rng.randrange(16**4):04x}"
        label = Label(case["root_cause"], case["component"], case["category"],
                      tuple(case["keywords"]), tuple(case["component_aliases"]))
        highlights = (case["highlights"].replace("Root cause:", f"Root cause: [node-{i}]", 1)
                      + f" Evidence: p99 {rng.uniform(0.1, 9.9):.2f} s on pod web-{suffix}.")
        pairs.append((label, highlights))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    args = parser.parse_args()
    pairs = build_pairs(args.pairs)
    total, total_cpu = 0.0, 0.0
    for scorer in (keyword_coverage(), element_match(), lexical_similarity()):
        start, start_cpu = time.perf_counter(), time.process_time()
        for label, highlights in pairs:
            scorer(label, highlights)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        total, total_cpu = total + elapsed, total_cpu + cpu
        print(f"{scorer.name:<9} {args.pairs} pairs  {elapsed:6.2f} s wall  {cpu:6.2f} s cpu  "
              f"{args.pairs / elapsed:9.0f} pairs/s")
    # CPU time is printed too because other processes on a shared machine inflate wall time
    print(f"total     {total:6.2f} s wall  {total_cpu:6.2f} s cpu (target under 30 s)")


if __name__ == "__main__":
    main()
