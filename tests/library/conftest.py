"""Small runs of the bundled sample against the in-process simulator, shared by the library tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import replay

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "q3.parquet"
BOOKS = ("incident-triage", "incident-triage-v2")


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run the sample three times: two shards, and shard 1 again with another simulator seed.

    Each run has 4 incidents x 2 books x 2 repeats. The runs get distinct labels because a
    run id is made of the start second and the label.
    """
    work = tmp_path_factory.mktemp("library")
    common = {"simulator": True, "books": BOOKS, "repeat": 2, "limit": 4, "simulator_latency": 0,
              "out": str(work / "runs"), "reports_dir": str(work / "reports")}
    runs = {}
    for name, extra in (("shard1", {"shard": "1/2"}), ("shard2", {"shard": "2/2"}),
                        ("rerun", {"shard": "1/2", "seed": 7})):
        outcome = replay.run(SAMPLE, label=f"q3-{name}", **common, **extra)
        assert outcome.status == "completed", outcome.reason
        assert outcome.run_dir is not None
        runs[name] = outcome.run_dir
    return runs
