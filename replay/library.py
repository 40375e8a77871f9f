"""Functions for notebooks and scripts: run the pipeline, and read runs as pandas DataFrames."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from replay.errors import StoreError
from replay.reporting import read_incidents, read_scores
from replay.store import read_manifest, read_results

__all__ = ["load_incidents_of_run", "load_results", "load_runs", "load_scores", "run"]

logger = logging.getLogger(__name__)


def run(dataset: str | Path, *, simulator: bool = False, **settings: Any):
    """Run the pipeline from Python and return its ``RunOutcome``.

    Args:
        dataset: the incidents file.
        simulator: run against the built-in simulator in this process.
        **settings: any ``RunSettings`` field, for example ``books=("a", "b")``, ``repeat=3``.
    """
    from replay.runner import run_replay
    from replay.settings import load_settings

    if "books" in settings:
        settings["books"] = tuple(settings["books"])
    return run_replay(Path(dataset), load_settings(settings, environ={}), simulator=simulator)


def load_results(*run_dirs: str | Path) -> pd.DataFrame:
    """Return the executions of one or more runs (for example the shards of one replay)."""
    return pd.concat([read_results(Path(d)) for d in run_dirs], ignore_index=True)


def load_scores(*run_dirs: str | Path) -> pd.DataFrame:
    """Return the scores of one or more runs."""
    frames = [read_scores(Path(d)).assign(run_id=read_manifest(Path(d))["run_id"]) for d in run_dirs]
    return pd.concat(frames, ignore_index=True)


def load_incidents_of_run(run_dir: str | Path) -> pd.DataFrame:
    """Return the incidents a run replayed, with their labels and metadata."""
    return read_incidents(Path(run_dir))


def load_runs(out: str | Path = "runs") -> pd.DataFrame:
    """List the runs under ``out``: id, label, status, times, executions and their statuses."""
    rows = []
    for path in sorted(Path(out).glob("*/manifest.json")):
        try:
            manifest = read_manifest(path.parent)
        except StoreError as exc:
            logger.warning("skipping %s: %s", path.parent, exc)
            continue
        counts = manifest.get("counts") or {}
        rows.append({
            "run_id": manifest.get("run_id"),
            "label": manifest.get("label"),
            "status": manifest.get("status"),
            "started_at": manifest.get("started_at"),
            "finished_at": manifest.get("finished_at"),
            "executions": sum(counts.values()),
            "ok": counts.get("ok", 0),
            "failed": sum(v for k, v in counts.items() if k not in ("ok", "invalid_input")),
            "path": str(path.parent),
        })
    return pd.DataFrame(rows, columns=["run_id", "label", "status", "started_at", "finished_at", "executions", "ok",
                                       "failed", "path"])
