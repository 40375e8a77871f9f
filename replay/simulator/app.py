"""The API simulator as an ASGI app: both execution endpoints, auth, validation and faults.

Behaviour that the published contract leaves open, fixed here so clients can rely on it:

- An unknown ``bookName`` gets HTTP 200 with ``{"error": "Playbook '<name>' not found"}``,
  on every call, in single and batch requests alike (in a batch only that item fails).
- A request without ``bookName`` is answered by the configured default book.
- A request that matches no incident of the world gets HTTP 200 with a "No anomaly found"
  highlight and no ``error``.
- A ``time`` older than the retention gets HTTP 200 with
  ``{"error": "No data available for the requested time window ..."}``.
- Batch inputs are answered concurrently: a batch takes as long as its slowest item.
- ``liveRun: true`` and ``channelId`` are accepted and logged as warnings, because a replay
  never sends them; ``enrichmentLink`` is present only when ``channelId`` was sent.

What the simulator decided (answer kind per item, faults) goes to the request log, never
into responses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from replay.errors import ConfigError
from replay.simulator.answers import Answerer, seeded_random
from replay.simulator.books import default_books
from replay.simulator.config import SimulatorConfig
from replay.simulator.faults import FaultDraw, TokenBucket, draw_faults, retry_after_value
from replay.simulator.requestlog import RequestLog
from replay.simulator.validation import (
    ExecutionInput,
    ValidationFailure,
    parse_batch,
    parse_execution,
    parse_json,
)
from replay.simulator.world import World, fingerprint_request

__all__ = ["EXECUTION_PATH", "BATCH_PATH", "Simulator", "create_app"]

logger = logging.getLogger(__name__)

EXECUTION_PATH = "/playbook/execution"
BATCH_PATH = "/playbook/execution/batch"
FORBIDDEN_MESSAGE = "Client ID not configured for organization"
# Unknown books, no-data and failed answers return quickly; a fraction of the median.
_QUICK_SHARE = 0.05
# Sleeps wake at least this often (seconds) to notice a server shutdown.
_SLEEP_SLICE = 1.0
_MALFORMED_BODIES = (
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    '{"highlights": "Root cause: unknown", "actionResults": [},]',
)


class Simulator:
    """State behind the app: world, books, answers, limits and the request log.

    Args:
        config: The simulator settings.

    Raises:
        ConfigError: The default book is not among the books.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.world = config.world if config.world is not None else World([])
        books = config.books if config.books is not None else default_books()
        self.books = {book.name: book for book in books}
        if config.default_book not in self.books:
            raise ConfigError(
                f"default book {config.default_book!r} is not defined; "
                f"define it in the books file or pick one of {sorted(self.books)}"
            )
        self.answerer = Answerer(self.world, config.seed)
        self.log = RequestLog(config.request_log_path)
        self.bucket = (
            TokenBucket(config.rate_limit_rps, config.rate_limit_burst)
            if config.rate_limit_rps is not None
            else None
        )
        self.is_closing = False
        self._counter = 0

    async def execute(self, request: Request) -> Response:
        """Serve ``POST /playbook/execution``."""
        return await self._serve(request, is_batch=False)

    async def execute_batch(self, request: Request) -> Response:
        """Serve ``POST /playbook/execution/batch``."""
        return await self._serve(request, is_batch=True)

    async def sleep(self, seconds: float) -> None:
        """Sleep, returning early once the server shuts down."""
        deadline = time.monotonic() + seconds
        while not self.is_closing:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await anyio.sleep(min(left, _SLEEP_SLICE))

    async def _serve(self, request: Request, *, is_batch: bool) -> Response:
        started = time.perf_counter()
        counter = self._counter
        self._counter += 1
        entry: dict[str, Any] = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(),
            "request": counter,
            "endpoint": request.url.path,
            "items": 0,
            "fault": None,
            "answers": [],
        }
        try:
            response = await self._respond(request, is_batch, counter, entry)
        except ClientDisconnect:
            # the client gave up (for example during a hang longer than its timeout)
            entry["status"] = None
            entry["fault"] = entry["fault"] or "client_disconnected"
            entry["latency_s"] = round(time.perf_counter() - started, 6)
            self.log.write(entry)
            logger.info("request %d: the client disconnected before the response", counter)
            return Response(status_code=499)
        entry["status"] = response.status_code
        entry["latency_s"] = round(time.perf_counter() - started, 6)
        self.log.write(entry)
        return response

    async def _respond(
        self, request: Request, is_batch: bool, counter: int, entry: dict[str, Any]
    ) -> Response:
        refusal = self._check_auth(request)
        if refusal is not None:
            return refusal

        if self.bucket is not None:
            wait = self.bucket.take()
            if wait > 0:
                entry["fault"] = "rate_limit"
                return _error(
                    429,
                    f"Too many requests: the limit is {self.config.rate_limit_rps:g} "
                    "requests per second",
                    {"Retry-After": str(max(1, int(wait + 0.999)))},
                )

        faults = draw_faults(self.config.faults, self.config.seed, counter)
        if faults.is_hang:
            entry["fault"] = "hang"
            await self.sleep(self.config.faults.hang_s)
        if faults.status is not None:
            entry["fault"] = str(faults.status)
            return self._status_fault(faults)

        try:
            body = parse_json(await request.body())
            if is_batch:
                inputs, batch_live_run, batch_channel = parse_batch(body)
            else:
                inputs, batch_live_run, batch_channel = [parse_execution(body)], False, None
        except ValidationFailure as failure:
            return JSONResponse({"error": failure.error}, status_code=400)
        entry["items"] = len(inputs)

        results: list[dict[str, Any]] = []
        latency = 0.0
        for index, item in enumerate(inputs):
            result, log_item, item_latency = self._execute_item(
                item, counter, index, is_batch, batch_live_run, batch_channel
            )
            results.append(result)
            entry["answers"].append(log_item)
            latency = max(latency, item_latency)
        await self.sleep(latency * self.config.latency_scale)

        if is_batch and faults.is_short_batch and len(results) > 1:
            entry["fault"] = "short_batch"
            results = results[:-1]
        payload: Any = results if is_batch else results[0]
        if faults.body_fault is not None:
            entry["fault"] = faults.body_fault
            return _broken_body(payload, faults.body_fault, counter, self.config.seed)
        return JSONResponse(payload)

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not header:
            return _error(401, "Missing bearer token", {"WWW-Authenticate": "Bearer"})
        if scheme.lower() != "bearer" or not token:
            return _error(
                401,
                "Invalid authorization header: expected 'Bearer <token>'",
                {"WWW-Authenticate": "Bearer"},
            )
        expected = self.config.token
        if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
            return _error(
                401,
                "Invalid or expired token",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if self.config.is_forbidden:
            return _error(403, FORBIDDEN_MESSAGE)
        return None

    def _status_fault(self, faults: FaultDraw) -> Response:
        if faults.status == 429:
            retry_after = retry_after_value(
                self.config.faults.retry_after_s, as_date=faults.retry_after_as_date
            )
            return _error(429, "Too many requests", {"Retry-After": retry_after})
        if faults.status == 503:
            return _error(
                503, "Service unavailable", {"Retry-After": str(self.config.faults.retry_after_s)}
            )
        return _error(500, "Internal server error")

    def _execute_item(
        self,
        item: ExecutionInput,
        counter: int,
        index: int,
        is_batch: bool,
        batch_live_run: bool,
        batch_channel: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any], float]:
        book_name = item.book_name if item.book_name is not None else self.config.default_book
        channel_id = item.channel_id or batch_channel
        if item.is_live_run or batch_live_run:
            logger.warning(
                "request %d asks for liveRun=true; a replay must send liveRun=false "
                "(the real API would post to the incident-management tool)",
                counter,
            )
        if channel_id:
            logger.warning(
                "request %d sends channelId=%r; a replay never sends one "
                "(the real API would post to that Slack channel)",
                counter,
                channel_id,
            )
        error_draw = seeded_random(self.config.seed, "error_200", counter, index).random()
        log_item: dict[str, Any] = {
            "book": book_name,
            "incident_id": None,
            "kind": None,
            "call": None,
        }

        book = self.books.get(book_name)
        if book is None:
            log_item["kind"] = "unknown_book"
            return {"error": f"Playbook '{book_name}' not found"}, log_item, 0.0
        quick = book.latency_median_s * _QUICK_SHARE

        no_data = self._no_data_error(item.time)
        if no_data is not None:
            log_item["kind"] = "no_data"
            return {"error": no_data}, log_item, quick

        fingerprint = fingerprint_request(item.time, item.title, item.details, item.attributes)
        matched = self.world.match(fingerprint, item.message_link)
        log_item["incident_id"] = matched.incident_id if matched else None
        if error_draw < self.config.faults.error_200_rate:
            log_item["kind"] = "error_200"
            title = item.title or item.message_link or "untitled"
            message = (
                f"Failed to run playbook for alert {title}"
                if is_batch
                else "Failed to execute playbook: timeout"
            )
            return {"error": message}, log_item, quick

        if matched is None:
            log_item["kind"] = "no_match"
            result = self.answerer.no_anomaly(book, item.title, item.time, counter)
            latency = book.latency_median_s
        else:
            answer = self.answerer.answer(book, matched)
            log_item["kind"] = answer.kind
            log_item["call"] = answer.call
            result, latency = answer.body, answer.latency_s
        if channel_id:
            thread = seeded_random(self.config.seed, "thread", counter, index).randrange(
                10**15, 10**16
            )
            result["enrichmentLink"] = f"https://slack.com/archives/{channel_id}/p{thread}"
        return result, log_item, latency

    def _no_data_error(self, time: dt.datetime | None) -> str | None:
        retention = self.config.retention_days
        if retention is None or time is None:
            return None
        now = self.config.now or dt.datetime.now(dt.timezone.utc)
        try:
            oldest = now - dt.timedelta(days=retention)
        except OverflowError:
            return None
        if time >= oldest:
            return None
        return (
            "No data available for the requested time window: "
            f"{time.astimezone(dt.timezone.utc).isoformat()} is older than the "
            f"{retention:g}-day retention of the observability backends"
        )


def create_app(config: SimulatorConfig | None = None) -> Starlette:
    """Build the simulator app.

    The app's state contains ``simulator`` (the ``Simulator``) and ``request_log``
    (its ``RequestLog``), so tests can read what it decided. The log file is closed when
    the ASGI lifespan ends; without a lifespan, call ``request_log.close()``.

    Raises:
        ConfigError: The settings or the books are invalid.
    """
    simulator = Simulator(config or SimulatorConfig())

    async def openapi(request: Request) -> Response:
        text = (
            resources.files("replay.simulator").joinpath("openapi.json").read_text(encoding="utf-8")
        )
        return Response(text, media_type="application/json")

    async def internal_error(request: Request, exc: Exception) -> Response:
        logger.exception("simulator failed on %s %s", request.method, request.url.path)
        return _error(500, "Internal server error")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        simulator.log.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route(EXECUTION_PATH, simulator.execute, methods=["POST"]),
            Route(BATCH_PATH, simulator.execute_batch, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={Exception: internal_error},
    )
    app.state.simulator = simulator
    app.state.request_log = simulator.log
    return app


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _broken_body(payload: Any, fault: str, counter: int, seed: int) -> Response:
    if fault == "truncated":
        text = json.dumps(payload)
        text = text[: max(1, len(text) // 2)]
    else:
        text = seeded_random(seed, "malformed", counter).choice(_MALFORMED_BODIES)
    return Response(text, status_code=200, media_type="application/json")
