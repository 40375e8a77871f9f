"""Functions for notebooks and scripts: run the pipeline, and read runs as pandas DataFrames.

Every loader takes one run directory or several: paths, glob patterns such as
``"runs/*-shard*"``, or any iterable of paths such as ``load_runs()["path"]``. The command
line is in ``replay.cli``, and this module prints nothing to the terminal.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import difflib
import glob
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from replay.errors import ConfigError, StoreError
from replay.reporting import read_incidents, read_scores
from replay.store import read_manifest, read_results

if TYPE_CHECKING:
    from replay.runner import RunOutcome

__all__ = ["RunDirs", "load_incidents_of_run", "load_results", "load_runs", "load_scores", "run", "summarize"]

logger = logging.getLogger(__name__)

RunDirs = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
"""One run directory, a glob pattern of run directories, or an iterable of them."""

# settings that take several values, where a single string means one value
_TUPLE_SETTINGS = ("books", "scorers")
_RUNS_COLUMNS = ["run_id", "label", "status", "started_at", "finished_at", "executions", "ok", "failed", "path"]


def run(
    dataset: str | os.PathLike[str] | None = None,
    *,
    simulator: bool = False,
    resume: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
    config: str | os.PathLike[str] | None = None,
    **settings: Any,
) -> RunOutcome:
    """Run the pipeline from Python: validate, execute, score and report.

    Settings come from the keyword arguments, then the ``[run]`` table of ``config``
    (by default ``replay.toml`` in the working directory, when it exists), then the
    defaults. ``REPLAY_*`` environment variables are ignored, so a notebook's results do
    not depend on the shell that started it.

    Inside a running event loop (a Jupyter kernel has one) the pipeline runs in a worker
    thread, because it starts its own event loop.

    Args:
        dataset: The incidents file (CSV, Parquet or JSON lines); None with ``resume``.
        simulator: Serve the built-in API simulator in this process and run against it.
        resume: A run directory to continue; its manifest supplies the dataset.
        retry_failed: With ``resume``, run failed executions again.
        dry_run: Plan the run and stop before any request; the outcome's ``plan_text``
            describes the plan.
        config: A TOML file whose ``[run]`` table supplies settings.
        **settings: Any ``replay.RunSettings`` field, for example
            ``books=["incident-triage", "incident-triage-v2"]``, ``repeat=2``, ``limit=20``,
            ``simulator_latency=0`` or ``out="runs"``.

    Returns:
        The ``RunOutcome``: ``run_dir``, ``status``, ``counts``, ``summary`` (one row per
        book), ``report_path`` and ``wall_time_s``.

    Raises:
        ConfigError: For an unknown or invalid setting.
        DatasetError: For a missing or unreadable dataset, or invalid rows without
            ``skip_invalid=True``.
        StoreError: For a resume directory that is not a run directory.
    """
    from replay.runner import run_replay
    from replay.settings import RunSettings, load_settings

    # reject misspelled names here: the settings model's own message speaks of flags
    unknown = sorted(set(settings) - set(RunSettings.model_fields))
    if unknown:
        hints = [f"{name!r} (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(
            name, RunSettings.model_fields, n=1)) else repr(name) for name in unknown]
        msg = (f"run() got unknown settings: {', '.join(hints)}. "
               f"Valid settings are: {', '.join(sorted(RunSettings.model_fields))}.")
        raise ConfigError(msg)
    flags = dict(settings)
    for name in _TUPLE_SETTINGS:
        value = flags.get(name)
        if isinstance(value, str):
            flags[name] = (value,)
        elif value is not None:
            flags[name] = tuple(value)
    if isinstance(flags.get("columns"), Mapping):
        flags["columns"] = dict(flags["columns"])

    merged = load_settings(flags, config_path=Path(config) if config is not None else None, environ={})
    return _call_outside_event_loop(
        run_replay, Path(dataset) if dataset is not None else None, merged, simulator=simulator,
        resume=Path(resume) if resume is not None else None, retry_failed=retry_failed, dry_run=dry_run,
    )


def load_results(*run_dirs: RunDirs) -> pd.DataFrame:
    """Load the executions of one or more runs, for example the shards of one replay.

    Args:
        *run_dirs: Run directories, glob patterns or iterables of them.

    Returns:
        One row per execution with the columns of ``results.parquet``, ``run_id`` among
        them. Executions journaled but not yet compacted are included.

    Raises:
        ConfigError: When no run directory is given.
        StoreError: For a path that is not a run directory, or a pattern that matches none.
    """
    frames = [read_results(path) for path, _ in _open_runs(run_dirs, "load_results")]
    return _concat(frames)


def load_scores(*run_dirs: RunDirs, scorer: str | None = None) -> pd.DataFrame:
    """Load the scores of one or more runs.

    Args:
        *run_dirs: Run directories, glob patterns or iterables of them.
        scorer: Keep only this scorer's rows, for example ``"rca"``.

    Returns:
        One row per execution and scorer with the columns of ``scores.parquet`` and a
        ``run_id`` column. A run that was never scored contributes no rows.

    Raises:
        ConfigError: When no run directory is given, or ``scorer`` scored none of them.
        StoreError: For a path that is not a run directory, or a pattern that matches none.
    """
    from replay.scoring.pipeline import SCORES_SCHEMA
    from replay.scoring.stats import pick_scorer

    frames = []
    for path, run_id in _open_runs(run_dirs, "load_scores"):
        frame = read_scores(path)
        if frame.empty:
            frame = SCORES_SCHEMA.empty_table().to_pandas()
        frame.insert(1, "run_id", pd.Series(run_id, index=frame.index, dtype="string"))
        frames.append(frame)
    scores = _concat(frames)
    if scorer is not None:
        pick_scorer(scores, scorer)
        scores = scores[scores["scorer"] == scorer].reset_index(drop=True)
    return scores


def load_incidents_of_run(*run_dirs: RunDirs) -> pd.DataFrame:
    """Load the incidents that one or more runs replayed, with their labels and metadata.

    Args:
        *run_dirs: Run directories, glob patterns or iterables of them.

    Returns:
        The columns of ``incidents.parquet`` after a leading ``run_id``. Runs of the same
        dataset list the same incident once per run; shards list each incident once.

    Raises:
        ConfigError: When no run directory is given.
        StoreError: For a path that is not a run directory or has no incidents table.
    """
    frames = []
    for path, run_id in _open_runs(run_dirs, "load_incidents_of_run"):
        frame = read_incidents(path)
        frame.insert(0, "run_id", pd.Series(run_id, index=frame.index, dtype="string"))
        frames.append(frame)
    return _concat(frames)


def summarize(
    *run_dirs: RunDirs,
    by: str | Sequence[str] = ("book_name",),
    scorer: str | None = None,
) -> pd.DataFrame:
    """Summarize one or more runs per group: accuracy, mean score, failure rates, latency.

    Wraps ``replay.scoring.stats.summarize`` over the runs' results, scores and incidents.
    Executions of different runs are kept apart even when their execution keys are equal,
    so two runs of the same dataset pool their executions without mixing up their scores.

    Args:
        *run_dirs: Run directories, glob patterns or iterables of them.
        by: Group column or columns: ``book_name``, ``status``, ``run_id``, or a column
            of the incidents (``root_cause_category``, ``severity`` and other metadata);
            empty for one overall row.
        scorer: Scorer whose verdicts count; default ``rca``, else the first present.

    Returns:
        One row per group: the group columns, then ``n_executions``, ``n_scored``, the
        verdict counts, ``accuracy`` with its Wilson 95% interval (``accuracy_low``,
        ``accuracy_high``), ``mean_score`` with a bootstrap 95% interval, ``error_rate``,
        ``timeout_rate``, ``no_data_rate`` and latency percentiles in seconds.

    Raises:
        ConfigError: When no run directory is given, for a group column found nowhere,
            or for a scorer with no scores.
        StoreError: For a path that is not a run directory, or a pattern that matches none.
    """
    from replay.scoring.stats import summarize as summarize_frames

    runs = _open_runs(run_dirs, "summarize")
    results = _concat([read_results(path) for path, _ in runs])
    scores = load_scores(*(path for path, _ in runs))
    incidents = load_incidents_of_run(*(path for path, _ in runs))

    # Execution keys and incident ids repeat across runs of the same dataset, and the frames
    # are joined on them, so both are qualified with the run. Grouping by run_id then works
    # too, because the incidents frame carries it.
    for frame, key in ((results, "execution_key"), (scores, "execution_key"), (results, "incident_id"),
                       (incidents, "incident_id")):
        frame[key] = frame["run_id"].astype(str) + "/" + frame[key].astype(str)

    columns = [by] if isinstance(by, str) else list(by)
    return summarize_frames(results, scores, incidents, by=columns, scorer=scorer)


def load_runs(out: str | os.PathLike[str] = "runs") -> pd.DataFrame:
    """List the runs under a directory.

    Args:
        out: The directory holding run directories, ``runs`` by default.

    Returns:
        One row per run, oldest first: ``run_id``, ``label``, ``status``, ``started_at``,
        ``finished_at``, ``executions`` and how many were ``ok`` and ``failed`` (errors and
        cancelled, not invalid input), and its ``path``. Empty when ``out`` contains no run.
        A directory whose manifest cannot be read is skipped with a warning.
    """
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
    return pd.DataFrame(rows, columns=_RUNS_COLUMNS)


def _open_runs(run_dirs: tuple[RunDirs, ...], caller: str) -> list[tuple[Path, str]]:
    """Expand paths, patterns and iterables into run directories with their run ids."""
    paths: list[Path] = []
    for item in run_dirs:
        if isinstance(item, (str, os.PathLike)):
            paths.extend(_expand(item))
        elif isinstance(item, Iterable):
            for inner in item:
                if not isinstance(inner, (str, os.PathLike)):
                    msg = f"{caller}() takes run directories as str or Path, got {type(inner).__name__}: {inner!r}"
                    raise TypeError(msg)
                paths.extend(_expand(inner))
        else:
            msg = f"{caller}() takes run directories as str or Path, got {type(item).__name__}: {item!r}"
            raise TypeError(msg)
    if not paths:
        msg = (f"{caller}() needs at least one run directory, for example "
               f"{caller}('runs/20261204-101500-q3') or {caller}(replay.load_runs()['path']).")
        raise ConfigError(msg)

    opened = []
    for path in dict.fromkeys(paths):
        manifest = read_manifest(path)
        opened.append((path, str(manifest.get("run_id") or path.name)))
    return opened


def _expand(item: str | os.PathLike[str]) -> list[Path]:
    text = os.fspath(item)
    if not any(char in text for char in "*?[") or Path(text).exists():
        return [Path(text)]
    matches = [Path(match) for match in sorted(glob.glob(text)) if (Path(match) / "manifest.json").is_file()]
    if not matches:
        msg = f"no run directory matches {text!r}. List the runs with replay.load_runs() and check the pattern."
        raise StoreError(msg)
    return matches


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    # an empty frame can carry other column types (object for strings, for example), which
    # would widen the types of the concatenation
    filled = [frame for frame in frames if not frame.empty]
    if not filled:
        return frames[0]
    return filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)


def _call_outside_event_loop(function: Callable[..., RunOutcome], *args: Any, **kwargs: Any) -> RunOutcome:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)

    logger.info("an event loop is running in this thread; running the pipeline in a worker thread")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-run")
    try:
        return pool.submit(function, *args, **kwargs).result()
    finally:
        # NOTE: interrupting the kernel returns control here at once, but the run goes on in
        # its thread until it ends, because the pipeline listens for Ctrl-C only on the main thread.
        pool.shutdown(wait=False)
