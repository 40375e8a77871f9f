"""The run pipeline: validate, plan, execute, compact, score and report, in one call.

This module wires the stages together; each stage lives in its own module. It also owns the
run directory's life cycle: creation, resume, the manifest's attempts and final status.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shlex
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pandas as pd
import pyarrow.parquet as pq

from replay import __version__
from replay.client import ExecutionClient
from replay.connection import api_endpoint, http_client, token_provider
from replay.datasets import LoadedDataset, format_problems, incidents_from_table, incidents_table, load_incidents
from replay.engine import EngineOutcome, EngineSettings, ExecutionEngine
from replay.errors import ConfigError, DatasetError, ReplayError, StoreError
from replay.journal import JournalWriter, encode_results
from replay.models import ERROR_STATUSES, ExecutionResult, Incident
from replay.planning import count_executions, execution_key, parse_shard, plan_executions, select_incidents
from replay.progress import RunProgress
from replay.retries import RetryPolicy
from replay.settings import RunSettings
from replay.store import compact_run, read_manifest, read_results, write_manifest, write_table

__all__ = ["RunOutcome", "finish_run", "run_replay"]

logger = logging.getLogger(__name__)

INCIDENTS = "incidents.parquet"
# a latency guess for --dry-run estimates when nothing better is known, in seconds
DRY_RUN_LATENCY_GUESS_S = 20.0
# the bundled books' median latency at --simulator-latency 1, in seconds (a round middle value)
SIMULATOR_MEDIAN_LATENCY_S = 6.0


@dataclass
class RunOutcome:
    """The outcome of ``run_replay``: where the run is, its status and its numbers."""

    run_dir: Path | None
    status: str
    exit_code: int = 0
    reason: str | None = None
    report_path: Path | None = None
    summary: pd.DataFrame | None = None
    executions: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    wall_time_s: float = 0.0
    resume_command: str | None = None
    plan_text: str | None = None
    planned: int | None = None


def run_replay(
    dataset: Path | None,
    settings: RunSettings,
    *,
    simulator: bool = False,
    resume: Path | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
) -> RunOutcome:
    """Run the whole pipeline and return where its results are.

    Args:
        dataset: the incidents file; None when resuming (the manifest names it).
        settings: the merged run settings.
        simulator: serve the built-in simulator in this process and run against it.
        resume: an existing run directory to continue.
        retry_failed: with ``resume``, run failed executions again and keep successful ones.
        dry_run: print the plan and stop before any request.
    """
    started = time.monotonic()
    run_dir, manifest = _open_run(dataset, settings, simulator, resume)
    dataset_path = Path(manifest["dataset_path"])

    # validate, or on resume read back exactly the incidents the run planned
    if resume is None:
        loaded = _load_dataset(dataset_path, settings)
        shard = parse_shard(settings.shard) if settings.shard else None
        incidents = select_incidents(loaded.incidents, shard=shard, sample=settings.sample, seed=settings.seed,
                                     limit=settings.limit)
        invalid_rows = len(loaded.invalid_rows)
    else:
        loaded = None
        if not (run_dir / INCIDENTS).exists():
            msg = f"{run_dir} has no {INCIDENTS}: the run stopped before it planned anything. Start a new run."
            raise StoreError(msg)
        incidents = incidents_from_table(pq.read_table(run_dir / INCIDENTS))
        invalid_rows = int(manifest.get("invalid_rows", 0))
    books = list(settings.books) or None
    total = count_executions(incidents, books, settings.repeat)

    if dry_run:
        return RunOutcome(None, "dry_run", plan_text=_describe_plan(total, incidents, books, settings, simulator))

    # fail on a missing token before anything is written
    if not simulator:
        token_provider(settings)

    # create or reopen the run directory
    if loaded is not None:
        run_dir = _claim_run_dir(run_dir)
        manifest["run_id"] = run_dir.name
        manifest["dataset_sha256"] = loaded.sha256
        manifest["invalid_rows"] = invalid_rows
        write_table(incidents_table(incidents), run_dir / INCIDENTS)
    attempt = {"started_at": _iso_now(), "finished_at": None, "status": "running", "retry_failed": retry_failed}
    manifest.setdefault("attempts", []).append(attempt)
    manifest.update(status="running", planned_executions=total + invalid_rows)
    write_manifest(run_dir, manifest)

    try:
        # plan what is left
        compact_run(run_dir, manifest["run_id"])
        done = _finished_keys(run_dir, retry_failed)
        plan = (p for p in plan_executions(incidents, books, settings.repeat) if p.key not in done)
        remaining = total - sum(1 for key in done if not key.startswith("-/"))
        logger.info("run %s: %d executions planned, %d already finished, %d to run", manifest["run_id"], total,
                    total - remaining, remaining)

        # execute
        progress = RunProgress(total=max(remaining, 0))
        with JournalWriter(run_dir) as journal:
            if loaded is not None:
                journal.append_many(_invalid_input_results(loaded, books))
            world = loaded.incidents if loaded is not None else incidents
            outcome = _run_engine(plan, settings, simulator, world, journal, progress)

        # store, score and report
        return finish_run(run_dir, manifest, attempt, outcome, started, progress)
    except KeyboardInterrupt:
        # Ctrl-C outside the execution phase, which handles it itself (before the engine
        # listens for it, or while scoring). The journal contains every finished execution.
        return _close_interrupted(run_dir, manifest, attempt, started)


def _run_engine(plan, settings: RunSettings, simulator: bool, world: list[Incident], journal: JournalWriter,
                progress: RunProgress) -> EngineOutcome:
    """Run the engine; a ReplayError raised inside its task groups comes out unwrapped."""
    try:
        return anyio.run(_execute, plan, settings, simulator, world, journal, progress)
    except BaseExceptionGroup as group:
        replay_errors = [exc for exc in _leaves(group) if isinstance(exc, ReplayError)]
        if replay_errors:
            raise replay_errors[0] from None
        raise


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


def finish_run(
    run_dir: Path,
    manifest: dict[str, Any],
    attempt: dict[str, Any],
    outcome: EngineOutcome,
    started: float,
    progress: RunProgress | None = None,
) -> RunOutcome:
    """Compact the journal, score, render the report and close the manifest."""
    from replay.reporting import score_and_report

    table = compact_run(run_dir, manifest["run_id"])
    counts = table.column("status").to_pandas().value_counts().to_dict()
    status = "completed" if outcome.status == "completed" else outcome.status
    executed = sum(v for k, v in counts.items() if k not in ("invalid_input", "cancelled"))
    if status == "completed" and executed and not counts.get("ok"):
        # nothing succeeded: most likely a wrong --api-url, a network problem or an unknown book
        first_error = _first_error(run_dir)
        outcome = EngineOutcome("failed", f"every execution failed; the first error: {first_error}. "
                                "Check --api-url, the network and the book names.", 1)
        status = "failed"
    attempt.update(finished_at=_iso_now(), status=status, reason=outcome.reason,
                   executed=progress.done if progress else None)
    manifest.update(status=status, finished_at=attempt["finished_at"], counts=counts, reason=outcome.reason,
                    started_at=manifest["attempts"][0]["started_at"])
    write_manifest(run_dir, manifest)
    report_path, summary = score_and_report(run_dir)

    resume_command = _resume_command(run_dir, manifest) if status in ("stopped", "aborted") else None
    return RunOutcome(
        run_dir=run_dir, status=status, exit_code=outcome.exit_code, reason=outcome.reason, report_path=report_path,
        summary=summary, executions=table.num_rows, counts={str(k): int(v) for k, v in counts.items()},
        wall_time_s=time.monotonic() - started, resume_command=resume_command,
        planned=manifest.get("planned_executions"),
    )


def _first_error(run_dir: Path) -> str:
    results = read_results(run_dir, columns=["status", "error"])
    failed = results[~results["status"].isin(["ok", "invalid_input", "cancelled"])]
    return str(failed["error"].iloc[0]) if len(failed) else "unknown"


def _close_interrupted(run_dir: Path, manifest: dict[str, Any], attempt: dict[str, Any], started: float) -> RunOutcome:
    """Mark the run stopped after a Ctrl-C outside the execution phase, and offer the resume command."""
    reason = "interrupted (Ctrl-C)"
    logger.warning("interrupted: keeping the finished executions of run %s", manifest["run_id"])
    table = compact_run(run_dir, manifest["run_id"])
    counts = {str(k): int(v) for k, v in table.column("status").to_pandas().value_counts().items()}
    attempt.update(finished_at=_iso_now(), status="stopped", reason=reason)
    manifest.update(status="stopped", finished_at=attempt["finished_at"], counts=counts, reason=reason)
    write_manifest(run_dir, manifest)
    report = run_dir / "report.html"
    return RunOutcome(
        run_dir=run_dir, status="stopped", exit_code=130, reason=reason,
        report_path=report if report.exists() else None, executions=table.num_rows, counts=counts,
        wall_time_s=time.monotonic() - started, resume_command=_resume_command(run_dir, manifest),
    )


def _resume_command(run_dir: Path, manifest: dict[str, Any]) -> str:
    command = f"replay run --resume {shlex.quote(str(run_dir))}"
    if manifest.get("simulator"):
        command += " --simulator"
    return command


async def _execute(plan, settings: RunSettings, simulator: bool, world: list[Incident], journal: JournalWriter,
                   progress: RunProgress) -> EngineOutcome:
    engine_settings = EngineSettings(
        concurrency=settings.effective_concurrency(simulator),
        rate=settings.effective_rate(simulator),
        burst=settings.burst,
        timeout=settings.timeout,
        batch_size=settings.batch_size,
        retry=RetryPolicy(max_attempts=settings.max_attempts, max_retry_after=settings.max_retry_after,
                          deadline=settings.execution_deadline),
        max_failures=settings.max_failures,
        grace_period=settings.grace_period,
    )
    with api_endpoint(settings, simulator, world) as (base_url, tokens):
        async with http_client(base_url, engine_settings) as (http, transport):
            client = ExecutionClient(http, tokens, settings.timeout, transport=transport)
            engine = ExecutionEngine(client, engine_settings, journal.write_encoded, progress, seed=settings.seed,
                                     encode=encode_results)
            async with anyio.create_task_group() as group:
                group.start_soon(_handle_signals, engine, group.cancel_scope)
                outcome = await engine.run(plan)
                group.cancel_scope.cancel()
    return outcome


async def _handle_signals(engine: ExecutionEngine, scope: anyio.CancelScope) -> None:
    # signals can only be received on the main thread; elsewhere (tests) run without them
    try:
        receiver = anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM)
        receiver_context = receiver.__enter__()
    except (ValueError, NotImplementedError, RuntimeError):
        return
    try:
        count = 0
        async for _signum in receiver_context:
            count += 1
            if count == 1:
                print("\nstopping: no new executions will start; waiting for in-flight ones to finish "
                      "(press Ctrl-C again to cancel them)", file=sys.stderr)
                engine.request_stop()
            else:
                print("cancelling in-flight executions", file=sys.stderr)
                engine.cancel_in_flight()
    finally:
        receiver.__exit__(None, None, None)


def _open_run(dataset: Path | None, settings: RunSettings, simulator: bool,
              resume: Path | None) -> tuple[Path, dict[str, Any]]:
    if resume is not None:
        manifest = read_manifest(resume)
        if manifest.get("status") == "completed" and not manifest.get("allow_rerun"):
            logger.info("run %s already completed; resuming only adds what is missing", manifest["run_id"])
        return Path(resume), manifest
    if dataset is None:
        msg = "no dataset given. Pass a dataset file, or --resume RUN_DIR to continue a run."
        raise ConfigError(msg)
    now = dt.datetime.now(dt.timezone.utc)
    stem = (settings.label or dataset.name.split(".")[0]).replace("/", "-").replace(" ", "-")[:40]
    run_id = f"{now:%Y%m%d-%H%M%S}-{stem}"
    if settings.shard:
        run_id += f"-shard{settings.shard.replace('/', 'of')}"
    run_dir = Path(settings.out) / run_id
    manifest = {
        "schema_version": 1,
        "run_id": run_id,
        "label": settings.label,
        "dataset_path": str(dataset.resolve()),
        "dataset_sha256": None,
        "replay_version": __version__,
        "simulator": simulator,
        "settings": settings.model_dump(mode="json"),
        "started_at": now.isoformat(),
        "status": "created",
    }
    return run_dir, manifest


def _claim_run_dir(run_dir: Path) -> Path:
    """Create the run directory; add a suffix when another run took the same id (same second)."""
    candidate = run_dir
    try:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        for number in range(2, 1000):
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                candidate = run_dir.with_name(f"{run_dir.name}-{number}")
    except OSError as exc:
        msg = (f"cannot create the run directory {str(candidate)!r}: {exc.strerror}. "
               "Pass --out with a writable directory.")
        raise StoreError(msg) from None
    msg = f"cannot create a run directory under {run_dir.parent}: too many runs named {run_dir.name}. Pass --label."
    raise StoreError(msg)


def _load_dataset(path: Path, settings: RunSettings) -> LoadedDataset:
    loaded = load_incidents(path, column_map=settings.columns or None, default_zone=settings.time_zone,
                            allow_partial_dates=settings.allow_partial_dates,
                            default_book=settings.books[0] if settings.books else None)
    if loaded.problems and not settings.skip_invalid:
        msg = (format_problems(loaded.problems, path)
               + f"\n\n{len(loaded.invalid_rows)} of {len(loaded.invalid_rows) + len(loaded.incidents)} rows are "
               "invalid. Fix them, or pass --skip-invalid to run the valid rows and record the others as invalid_input.")
        raise DatasetError(msg, path=str(path), problems=loaded.problems)
    if loaded.problems:
        logger.warning("skipping %d invalid rows of %s; they are recorded as invalid_input",
                       len(loaded.invalid_rows), path)
    if not loaded.incidents:
        msg = f"{path} has no valid incident to replay. Run 'replay validate {path}' to see why."
        raise DatasetError(msg, path=str(path))
    return loaded


def _finished_keys(run_dir: Path, retry_failed: bool) -> set[str]:
    results = read_results(run_dir)
    if results.empty:
        return set()
    # cancelled executions never finished: they always run again
    keep = results["status"] != "cancelled"
    if retry_failed:
        keep &= ~results["status"].isin(ERROR_STATUSES)
    return set(results.loc[keep, "execution_key"])


def _invalid_input_results(loaded: LoadedDataset, books: list[str] | None) -> list[ExecutionResult]:
    now = dt.datetime.now(dt.timezone.utc)
    results = []
    for invalid in loaded.invalid_rows:
        incident_id = invalid.incident_id or f"row-{invalid.row}"
        results.append(ExecutionResult(
            execution_key=execution_key(incident_id, "-", invalid.row), incident_id=incident_id,
            book_name=(books[0] if books else ""), repeat=1, status="invalid_input", started_at=now,
            finished_at=now, error=f"row {invalid.row}: {invalid.message}",
        ))
    return results


def _describe_plan(total: int, incidents: list[Incident], books: list[str] | None, settings: RunSettings,
                   simulator: bool) -> str:
    concurrency = settings.effective_concurrency(simulator)
    rate = settings.effective_rate(simulator)
    latency = SIMULATOR_MEDIAN_LATENCY_S * settings.simulator_latency if simulator else DRY_RUN_LATENCY_GUESS_S
    throughput = concurrency / latency if latency > 0 else math.inf
    if rate:
        throughput = min(throughput, rate)
    seconds = total / throughput if 0 < throughput < math.inf else 0.0
    book_text = ", ".join(books) if books else "each incident's own book_name"
    return (f"{total} executions: {len(incidents)} incidents x books ({book_text}) x {settings.repeat} repeat(s)\n"
            f"concurrency {concurrency}, rate {'unlimited' if not rate else f'{rate:g}/s'}, "
            f"latency guess {latency:g} s per execution\n"
            f"expected duration about {dt.timedelta(seconds=round(seconds))} (an estimate)")


def _iso_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()
