"""The execution engine: a fixed pool of workers that run planned executions to a terminal status.

Design, and why:

- A fixed pool of ``concurrency`` workers pulls from one shared plan iterator, so memory does
  not grow with the plan (no task and no buffered item per pending execution).
- One ``RateLimiter`` and one ``AdaptiveConcurrency`` are shared by every worker. The engine
  is the only retry layer.
- Finished executions go to one journal writer task, which appends and fsyncs them in
  groups; only then are they counted. After ``kill -9`` nothing counted is lost. With an
  ``encode`` step the group is serialised on the event loop and the thread only writes and
  fsyncs: a thread doing CPU work would hold the interpreter lock against the event loop.
- A 401/403 or an exhausted quota stops the run at once. ``request_stop`` (Ctrl-C) stops
  launching, lets in-flight work finish for a grace period, then cancels it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from replay.client import AttemptOutcome, ExecutionClient, build_request_body
from replay.errors import RemoteCallError
from replay.limits import AdaptiveConcurrency, RateLimiter
from replay.models import ExecutionResult
from replay.planning import PlannedExecution
from replay.progress import RunProgress
from replay.retries import RetryPolicy

__all__ = ["EngineOutcome", "EngineSettings", "ExecutionEngine"]

_Outcome = TypeVar("_Outcome")

logger = logging.getLogger(__name__)

# largest group of results written with one fsync
JOURNAL_GROUP = 1000


@dataclass(frozen=True)
class EngineSettings:
    """Settings of the engine: concurrency, rate, retries and thresholds.

    Attributes:
        concurrency: maximum executions (or batches) in flight.
        rate: maximum requests per second, or None for no limit.
        burst: requests that may start back to back after an idle period.
        timeout: hard deadline of one HTTP request, in seconds.
        batch_size: executions per request; above 1 the batch endpoint is used.
        retry: the retry policy.
        max_failures: stop the run once this many executions failed (an int), or this
            fraction of the finished ones (a float below 1, checked after 20 executions).
        grace_period: seconds in-flight work may finish after a stop request.
    """

    concurrency: int = 4
    rate: float | None = 2.0
    burst: int = 1
    timeout: float = 300.0
    batch_size: int = 1
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_failures: float | None = None
    grace_period: float = 30.0


@dataclass
class EngineOutcome:
    """The end state of an engine pass: ``completed``, ``stopped`` (user), ``failed`` (threshold) or ``aborted``."""

    status: str = "completed"
    reason: str | None = None
    exit_code: int = 0


class ExecutionEngine:
    """Run a plan of executions against the API and journal each result.

    Args:
        client: the API client.
        settings: concurrency, rate, retries and thresholds.
        sink: called from a worker thread with groups of finished results (or what ``encode``
            made of them); it must make them durable before returning (the journal writer does).
        progress: counters and display.
        seed: seed of the retry jitter.
        encode: called on the event loop with each group of finished results; its return
            value is passed to ``sink`` instead of the group.
    """

    def __init__(
        self,
        client: ExecutionClient,
        settings: EngineSettings,
        sink: Callable[[Sequence[ExecutionResult]], Any],
        progress: RunProgress,
        *,
        seed: int | None = None,
        encode: Callable[[Sequence[ExecutionResult]], Any] | None = None,
    ) -> None:
        self._client = client
        self._encode = encode
        self._settings = settings
        self._sink = sink
        self._progress = progress
        self._limiter = RateLimiter(settings.rate, settings.burst)
        self._slots = AdaptiveConcurrency(settings.concurrency)
        self._rng = random.Random(seed)
        self._stopping = anyio.Event()
        self._outcome = EngineOutcome()
        self._in_flight: dict[str, PlannedExecution] = {}
        self._warned_batch_length = False
        self._workers_scope: anyio.CancelScope | None = None

    @property
    def outcome(self) -> EngineOutcome:
        """How the pass ended (valid after ``run`` returns)."""
        return self._outcome

    def request_stop(self, reason: str = "interrupted") -> None:
        """Stop launching executions; in-flight ones get ``grace_period`` seconds to finish."""
        if not self._stopping.is_set():
            self._outcome = EngineOutcome("stopped", reason, 130)
            self._stopping.set()

    def cancel_in_flight(self) -> None:
        """Cancel in-flight executions now; they are journaled as ``cancelled``."""
        if self._workers_scope is not None:
            self._workers_scope.cancel()

    async def run(self, plan: Iterable[PlannedExecution]) -> EngineOutcome:
        """Run every planned execution, or until stopped; return how the pass ended."""
        results_send, results_receive = anyio.create_memory_object_stream[ExecutionResult](JOURNAL_GROUP)
        self._progress.start()
        try:
            async with anyio.create_task_group() as outer:
                outer.start_soon(self._write_journal, results_receive)
                async with results_send:
                    await self._run_workers(iter(plan), results_send)
                    await self._journal_cancelled(results_send)
        finally:
            self._progress.stop()
        return self._outcome

    async def _run_workers(
        self, plan: Iterator[PlannedExecution], results_send: MemoryObjectSendStream[ExecutionResult]
    ) -> None:
        with anyio.CancelScope() as scope:
            self._workers_scope = scope
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch_stop, scope)
                async with anyio.create_task_group() as workers:
                    for _ in range(self._settings.concurrency):
                        workers.start_soon(self._worker, plan, results_send.clone())
                # every worker is done: stop the watcher too
                scope.cancel()
        self._workers_scope = None

    async def _watch_stop(self, scope: anyio.CancelScope) -> None:
        await self._stopping.wait()
        if self._in_flight and self._settings.grace_period > 0:
            logger.warning("waiting up to %.0f s for %d in-flight executions to finish", self._settings.grace_period,
                           len(self._in_flight))
        with anyio.move_on_after(self._settings.grace_period):
            while self._in_flight:
                await anyio.sleep(0.05)
        scope.cancel()

    async def _worker(
        self, plan: Iterator[PlannedExecution], results: MemoryObjectSendStream[ExecutionResult]
    ) -> None:
        size = self._settings.batch_size
        async with results:
            while not self._stopping.is_set():
                # every worker runs on the one event loop thread, so they can share the iterator
                group = list(itertools.islice(plan, size))
                if not group:
                    return
                first = group[0]
                for planned in group:
                    self._in_flight[planned.key] = planned
                self._progress.in_flight = len(self._in_flight)
                if size > 1:
                    finished = await self._run_batch(group)
                else:
                    finished = [await self._run_single(first)]
                for result in finished:
                    self._in_flight.pop(result.execution_key, None)
                    try:
                        results.send_nowait(result)
                    except anyio.WouldBlock:
                        await results.send(result)
                self._progress.in_flight = len(self._in_flight)

    async def _run_single(self, planned: PlannedExecution, attempts_before: int = 0) -> ExecutionResult:
        body = build_request_body(planned.incident, planned.book_name)
        tracker = _Attempts(started_at=_now(), attempts=attempts_before)
        while True:
            outcome = await self._attempt(lambda: self._client.execute(body), tracker)
            if await self._should_retry(outcome, tracker, planned.key):
                continue
            return _result(planned, outcome, tracker)

    async def _run_batch(self, group: list[PlannedExecution]) -> list[ExecutionResult]:
        bodies = [build_request_body(p.incident, p.book_name) for p in group]
        tracker = _Attempts(started_at=_now())
        while True:
            outcome = await self._attempt(lambda: self._client.execute_batch(bodies), tracker)
            if isinstance(outcome, list):
                self._slots.record_success()
                return [_result(p, o, tracker) for p, o in zip(group, outcome, strict=True)]
            if await self._should_retry(outcome, tracker, f"batch of {len(group)}"):
                continue
            if outcome.kind in ("invalid_response", "http_error") and not outcome.retryable or (
                outcome.error or ""
            ).startswith("batch length"):
                self._warn_batch_fallback(outcome)
                return [await self._run_single(p, tracker.attempts) for p in group]
            return [_result(p, outcome, tracker) for p in group]

    async def _attempt(self, send: Callable[[], Awaitable[_Outcome]], tracker: _Attempts) -> _Outcome:
        """Make one attempt inside a concurrency and a rate-limit slot, and count it."""
        tracker.queue_s += await self._take_slot()
        try:
            outcome = await send()
        except RemoteCallError as exc:
            await self._abort(str(exc))
            raise
        finally:
            self._slots.release()
        tracker.attempts += 1
        return outcome

    async def _take_slot(self) -> float:
        started = time.monotonic()
        await self._slots.acquire()
        try:
            await self._limiter.acquire()
        except BaseException:
            self._slots.release()
            raise
        return time.monotonic() - started

    async def _should_retry(self, outcome: AttemptOutcome, tracker: _Attempts, what: str) -> bool:
        """Apply the retry policy to an attempt's outcome; sleep and return True to retry."""
        policy = self._settings.retry
        if outcome.kind == "auth":
            # an expired or revoked token gets one refresh and one immediate retry per execution
            if outcome.http_status == 401 and not tracker.token_refreshed and await self._refresh_token(outcome):
                tracker.token_refreshed = True
                logger.warning("the API rejected the token (HTTP 401) for %s; fetched a new token, retrying", what)
                return True
            if outcome.http_status is None:
                # the token endpoint failed before any request was sent
                await self._abort(outcome.error or "no API token could be obtained")
            await self._abort(
                f"the API answered HTTP {outcome.http_status} ({outcome.error}). "
                + ("Check that WILDMOOSE_API_TOKEN (or --token-file) holds a valid, unexpired token."
                   if outcome.http_status == 401 else
                   "The API is not enabled for this organisation: ask the vendor to enable it for your client id.")
            )
        if outcome.http_status == 429:
            self._slots.record_throttle()
            if outcome.retry_after is not None and outcome.retry_after > policy.max_retry_after:
                await self._abort(
                    f"the API asked to wait {outcome.retry_after:.0f} s (Retry-After), longer than the "
                    f"{policy.max_retry_after:.0f} s allowed: the quota looks exhausted. Resume the run later, "
                    "or raise --max-retry-after."
                )
        elif outcome.kind == "ok":
            self._slots.record_success()

        if not outcome.retryable or tracker.attempts >= policy.max_attempts:
            return False
        wait = outcome.retry_after if outcome.retry_after is not None else policy.backoff(tracker.attempts, self._rng)
        elapsed = (_now() - tracker.started_at).total_seconds()
        if elapsed + wait > policy.deadline:
            return False
        if outcome.http_status == 429:
            # everyone waits, not only this execution: the server asked the client to slow down
            self._limiter.pause(wait)
        logger.warning("retrying %s after %s (attempt %d of %d) in %.1f s", what, outcome.error or outcome.kind,
                       tracker.attempts + 1, policy.max_attempts, wait)
        self._progress.retries += 1
        await anyio.sleep(wait)
        tracker.backoff_s += wait
        return True

    async def _refresh_token(self, outcome: AttemptOutcome) -> bool:
        try:
            return await self._client.refresh_token(outcome.rejected_token)
        except RemoteCallError as exc:
            await self._abort(str(exc))
            raise

    async def _abort(self, reason: str) -> None:
        """Stop the run at once; the calling execution stays in flight and is journaled as cancelled."""
        if self._outcome.status != "aborted":
            logger.error("stopping the run: %s", reason)
            self._outcome = EngineOutcome("aborted", reason, 3)
            self._stopping.set()
        self.cancel_in_flight()
        # the scope is cancelled now, so this checkpoint raises the cancellation here
        await anyio.lowlevel.checkpoint()

    def _warn_batch_fallback(self, outcome: AttemptOutcome) -> None:
        if not self._warned_batch_length:
            self._warned_batch_length = True
            logger.warning("a batch call failed (%s); retrying its inputs as single calls. "
                           "Further fallbacks in this run are not logged.", outcome.error)

    async def _write_journal(self, receive: MemoryObjectReceiveStream[ExecutionResult]) -> None:
        async with receive:
            while True:
                try:
                    first = await receive.receive()
                except anyio.EndOfStream:
                    return
                group = [first]
                while len(group) < JOURNAL_GROUP:
                    try:
                        group.append(receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                payload = self._encode(group) if self._encode is not None else group
                # the fsync happens in a thread so the event loop keeps sending requests
                await anyio.to_thread.run_sync(self._sink, payload)
                ok = sum(1 for r in group if r.status == "ok")
                self._progress.record(ok=ok, failed=sum(1 for r in group if r.status not in ("ok", "cancelled")))
                self._check_failures()

    def _check_failures(self) -> None:
        limit = self._settings.max_failures
        progress = self._progress
        if limit is None or self._stopping.is_set():
            return
        if limit >= 1:
            crossed = progress.failed >= limit
        else:
            crossed = progress.done >= 20 and progress.failed / progress.done > limit
        if crossed:
            reason = (f"{progress.failed} of {progress.done} executions failed, past --max-failures {limit:g}. "
                      "Look at the errors in the report, fix the cause, then resume with --retry-failed.")
            logger.error("stopping the run: %s", reason)
            self._outcome = EngineOutcome("failed", reason, 1)
            self._stopping.set()

    async def _journal_cancelled(self, results: MemoryObjectSendStream[ExecutionResult]) -> None:
        now = _now()
        for planned in list(self._in_flight.values()):
            await results.send(ExecutionResult(
                execution_key=planned.key, incident_id=planned.incident.incident_id, book_name=planned.book_name,
                repeat=planned.repeat, status="cancelled", started_at=now, finished_at=now,
                error="the run was stopped before this execution finished",
            ))
        self._in_flight.clear()


@dataclass
class _Attempts:
    started_at: dt.datetime
    attempts: int = 0
    token_refreshed: bool = False
    queue_s: float = 0.0
    backoff_s: float = 0.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _result(planned: PlannedExecution, outcome: AttemptOutcome, tracker: _Attempts) -> ExecutionResult:
    status = outcome.kind if outcome.kind != "auth" else "http_error"
    fields = outcome.fields or {}
    return ExecutionResult(
        execution_key=planned.key,
        incident_id=planned.incident.incident_id,
        book_name=planned.book_name,
        repeat=planned.repeat,
        status=status,  # type: ignore[arg-type]
        attempts=tracker.attempts,
        http_status=outcome.http_status,
        latency_s=None if outcome.latency_s is None or math.isnan(outcome.latency_s) else outcome.latency_s,
        queue_s=tracker.queue_s,
        backoff_s=tracker.backoff_s,
        started_at=tracker.started_at,
        finished_at=_now(),
        error=outcome.error,
        response_body=outcome.body_text,
        **fields,
    )

