"""The execution API client: request bodies, one HTTP attempt, and response classification.

Retries, rate limits and concurrency belong to the engine; this module makes exactly one
attempt per call and reports its outcome. httpx exceptions are translated here, once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import httpx

from replay.auth import TokenProvider
from replay.errors import RemoteCallError
from replay.models import ActionableMitigation, ActionResult, GadgetHighlight, Incident
from replay.retries import RETRYABLE_STATUS_CODES, parse_retry_after

__all__ = ["AttemptOutcome", "ExecutionClient", "build_request_body", "parse_result_fields"]

logger = logging.getLogger(__name__)

SINGLE_PATH = "/playbook/execution"
BATCH_PATH = "/playbook/execution/batch"
# bodies larger than this are cut in the stored raw body (the parsed fields are kept whole)
MAX_STORED_BODY_CHARS = 200_000
# A response body larger than this is abandoned as invalid_response, so one misbehaving server
# cannot exhaust memory at high concurrency. Real results are a few kilobytes.
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
REDACTED = "[redacted]"
# shorter tokens (test fixtures) are not redacted: replacing them would corrupt ordinary text
MIN_REDACTED_TOKEN_CHARS = 8


class _ResponseTooLarge(Exception):
    """Raised while reading a body that passes MAX_RESPONSE_BYTES."""

OutcomeKind = Literal["ok", "playbook_error", "no_data", "http_error", "timeout", "invalid_response", "auth"]


@dataclass(slots=True)
class AttemptOutcome:
    """What one HTTP attempt produced for one execution.

    ``retryable`` tells whether the engine may try again; ``retry_after`` is the server's
    requested wait in seconds, when it sent one.
    """

    kind: OutcomeKind
    retryable: bool = False
    http_status: int | None = None
    latency_s: float | None = None
    retry_after: float | None = None
    error: str | None = None
    body_text: str | None = None
    fields: dict[str, Any] | None = None
    rejected_token: str | None = field(default=None, repr=False)
    """The bearer token a 401 answer refused; kept out of ``repr`` because it is a secret."""


def build_request_body(incident: Incident, book_name: str) -> dict[str, Any]:
    """Build the API input for one execution.

    Replays never post anywhere: ``liveRun`` is always false and ``channelId`` is never sent.
    """
    body: dict[str, Any] = {"bookName": book_name}
    if incident.time is not None:
        # isoformat pads years below 1000 to four digits, which strftime("%Y") does not on Linux
        utc = incident.time.astimezone(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
        body["time"] = utc.isoformat() + "Z"
    if incident.title:
        body["title"] = incident.title
    if incident.details:
        body["details"] = incident.details
    if incident.message_link:
        body["messageLink"] = incident.message_link
    if incident.attributes:
        body["attributes"] = {str(k): str(v) for k, v in incident.attributes.items()}
    body["liveRun"] = False
    return body


class ExecutionClient:
    """Send executions to the API over one shared ``httpx.AsyncClient``.

    Requests are built once per call from the client's base URL, default headers and
    timeouts. With ``transport`` (the client's own transport) they go straight to it: the
    client's cookie, redirect and auth layers do nothing for this API and cost more CPU
    per request than the transport itself.

    Args:
        http: an open client whose base URL is the API's.
        tokens: supplies the bearer token.
        timeout: seconds one request may take, connect to last byte.
        transport: the transport ``http`` was built with, to send through directly.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenProvider | None,
        timeout: float,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._timeout = timeout
        self._transport = transport
        self._urls = {path: http.build_request("POST", path).url for path in (SINGLE_PATH, BATCH_PATH)}
        self._headers = {**http.headers, "Content-Type": "application/json"}
        self._extensions = {"timeout": http.timeout.as_dict()}

    async def execute(self, body: dict[str, Any]) -> AttemptOutcome:
        """Make one attempt at a single execution."""
        sent = await self._post_json(SINGLE_PATH, body)
        if isinstance(sent, AttemptOutcome):
            return sent
        response, latency, parsed = sent
        return classify_result(parsed, response.status_code, latency, _stored_text(response.text))

    async def execute_batch(self, bodies: list[dict[str, Any]]) -> list[AttemptOutcome] | AttemptOutcome:
        """Make one attempt at a batch of executions.

        Returns one outcome per input when the API returned exactly one result per input;
        otherwise a single outcome for the whole call. A wrong-length array is reported as an
        ``invalid_response`` outcome with ``error`` starting with "batch length", so the
        caller can fall back to single calls.
        """
        sent = await self._post_json(BATCH_PATH, {"inputList": bodies, "liveRun": False})
        if isinstance(sent, AttemptOutcome):
            return sent
        response, latency, parsed = sent
        if isinstance(parsed, dict) and "error" in parsed:
            return classify_result(parsed, response.status_code, latency, _stored_text(response.text))
        if not isinstance(parsed, list):
            return _invalid(response, latency, "the batch response is not a JSON array")
        if len(parsed) != len(bodies):
            msg = f"batch length mismatch: sent {len(bodies)} input(s), received {len(parsed)} result(s)"
            return AttemptOutcome("invalid_response", retryable=False, http_status=response.status_code,
                                  latency_s=latency, error=msg, body_text=_stored_text(response.text))
        return [
            classify_result(item, response.status_code, latency, json.dumps(item, ensure_ascii=False))
            for item in parsed
        ]

    async def refresh_token(self, rejected: str | None) -> bool:
        """Replace the token the API rejected; return False when the provider cannot refresh.

        Raises:
            RemoteCallError: The token endpoint failed.
        """
        if self._tokens is None or not self._tokens.can_refresh:
            return False
        await self._tokens.token(refresh=True, rejected=rejected)
        return True

    async def _post_json(self, path: str, payload: dict[str, Any]) -> tuple[httpx.Response, float, Any] | AttemptOutcome:
        """POST and parse a 200 body; return an outcome instead for a failed or non-200 call."""
        response, outcome = await self._post(path, payload)
        if outcome is not None:
            return outcome
        assert response is not None
        latency = response.elapsed_s  # type: ignore[attr-defined]
        status_outcome = classify_status(response, latency)
        if status_outcome is not None:
            if status_outcome.http_status == 401:
                header = response.request.headers.get("authorization", "")
                status_outcome.rejected_token = header.removeprefix("Bearer ") or None
            return status_outcome
        if "charset" not in response.headers.get("content-type", ""):
            # JSON is UTF-8; saying so skips httpx's costly charset lookup in the headers
            response.encoding = "utf-8"
        try:
            parsed = json.loads(response.text)
        except ValueError:
            return _invalid(response, latency, "the response body is not valid JSON")
        return response, latency, parsed

    async def _post(self, path: str, payload: dict[str, Any]) -> tuple[httpx.Response | None, AttemptOutcome | None]:
        headers = dict(self._headers)
        token = ""
        if self._tokens is not None:
            try:
                token = await self._tokens.token()
            except RemoteCallError as exc:
                # the token endpoint failed: the run cannot go on, like after a 401
                return None, AttemptOutcome("auth", error=str(exc))
            headers["Authorization"] = f"Bearer {token}"

        # the same bytes httpx's json= would send
        content = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        request = httpx.Request("POST", self._urls[path], headers=headers, content=content,
                                extensions=self._extensions)

        # send under a hard deadline; every transport failure becomes an outcome
        started = time.perf_counter()
        try:
            # the hard deadline covers what httpx's per-phase timeouts do not (a server that
            # trickles bytes forever)
            with anyio.fail_after(self._timeout):
                response = await self._send(request)
        except TimeoutError:
            elapsed = time.perf_counter() - started
            return None, AttemptOutcome("timeout", retryable=True, latency_s=elapsed,
                                        error=f"no response within {self._timeout:g} s")
        except httpx.TimeoutException as exc:
            # the aiohttp transport reports a refused connection as a connect timeout, so keep its text
            elapsed = time.perf_counter() - started
            detail = str(exc) or f"no response within {self._timeout:g} s"
            return None, AttemptOutcome("timeout", retryable=True, latency_s=elapsed,
                                        error=f"{type(exc).__name__}: {detail}")
        except httpx.TransportError as exc:
            elapsed = time.perf_counter() - started
            return None, AttemptOutcome("timeout", retryable=True, latency_s=elapsed,
                                        error=f"connection failed: {type(exc).__name__}: {exc}")
        except _ResponseTooLarge:
            elapsed = time.perf_counter() - started
            return None, AttemptOutcome("invalid_response", latency_s=elapsed,
                                        error=f"the response body is larger than {MAX_RESPONSE_BYTES} bytes")

        if len(token) >= MIN_REDACTED_TOKEN_CHARS and token.encode("utf-8") in response.content:
            # a server that echoes the token must not get it into results, scores or reports
            response = _replace_body(response, response.content.replace(token.encode("utf-8"), REDACTED.encode()))
        response.elapsed_s = time.perf_counter() - started  # type: ignore[attr-defined]
        logger.debug("POST %s -> %d in %.3f s", path, response.status_code, response.elapsed_s)  # type: ignore[attr-defined]
        return response, None

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send the request and read the whole body."""
        if self._transport is None:
            return await self._http.send(request)
        response = await self._transport.handle_async_request(request)
        response.request = request
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise _ResponseTooLarge
                chunks.append(chunk)
        finally:
            # give the connection back even when the deadline cancelled the read
            with anyio.CancelScope(shield=True):
                await response.aclose()
        return _replace_body(response, b"".join(chunks))


def _replace_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """Return a copy of a read response with a decoded ``body`` in place of its content."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
    copy = httpx.Response(response.status_code, headers=headers, content=body, request=response.request,
                          extensions=response.extensions)
    return copy


def classify_status(response: httpx.Response, latency: float) -> AttemptOutcome | None:
    """Classify a non-200 response; return None for a 200."""
    status = response.status_code
    if status == 200:
        return None
    text = _stored_text(response.text)
    message = _error_message(response.text) or f"HTTP {status}"
    if status in (401, 403):
        return AttemptOutcome("auth", http_status=status, latency_s=latency, error=message, body_text=text)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return AttemptOutcome(
        "http_error",
        retryable=status in RETRYABLE_STATUS_CODES,
        http_status=status,
        latency_s=latency,
        retry_after=retry_after,
        error=f"HTTP {status}: {message}" if message != f"HTTP {status}" else message,
        body_text=text,
    )


def classify_result(parsed: Any, http_status: int, latency: float, body_text: str | None) -> AttemptOutcome:
    """Classify one parsed ``PlaybookExecutionResult``."""
    if not isinstance(parsed, dict):
        return AttemptOutcome("invalid_response", http_status=http_status, latency_s=latency,
                              error="the result is not a JSON object", body_text=body_text)
    error = parsed.get("error")
    if error is not None:
        text = error if isinstance(error, str) else json.dumps(error)
        kind: OutcomeKind = "no_data" if "no data" in text.lower() else "playbook_error"
        return AttemptOutcome(kind, http_status=http_status, latency_s=latency, error=text, body_text=body_text)
    try:
        fields = parse_result_fields(parsed)
    except (TypeError, ValueError) as exc:
        return AttemptOutcome("invalid_response", http_status=http_status, latency_s=latency,
                              error=f"the result does not match the contract: {exc}", body_text=body_text)
    return AttemptOutcome("ok", http_status=http_status, latency_s=latency, body_text=body_text, fields=fields)


def parse_result_fields(parsed: dict[str, Any]) -> dict[str, Any]:
    """Turn a result object into typed ExecutionResult fields; raise ValueError on wrong types."""
    highlights = _optional_str(parsed, "highlights")
    action_results = tuple(
        ActionResult(
            title=_optional_str(item, "title"),
            short_answer=_optional_str(item, "shortAnswer"),
            most_important_link=_optional_str(item, "mostImportantLink"),
        )
        for item in _object_list(parsed, "actionResults")
    )
    gadgets = tuple(
        GadgetHighlight(
            title=_optional_str(item, "title") or "",
            highlights=_optional_str(item, "highlights"),
            args_json=json.dumps(item["args"], ensure_ascii=False) if item.get("args") is not None else None,
        )
        for item in _object_list(parsed, "gadgetsHighlights")
    )
    mitigations = tuple(
        ActionableMitigation(
            tool_name=_optional_str(item, "toolName") or "",
            custom_name=_optional_str(item, "customName"),
            url=_optional_str(item, "url"),
            action_json=json.dumps(item["action"], ensure_ascii=False) if item.get("action") is not None else None,
        )
        for item in _object_list(parsed, "actionableMitigations")
    )
    return {
        "highlights": highlights,
        "action_results": action_results,
        "gadgets_highlights": gadgets,
        "actionable_mitigations": mitigations,
        "enrichment_link": _optional_str(parsed, "enrichmentLink"),
    }


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    msg = f"field {key!r} should be a string, got {type(value).__name__}"
    raise ValueError(msg)


def _object_list(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        msg = f"field {key!r} should be an array of objects"
        raise ValueError(msg)
    return value


def _error_message(text: str) -> str | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if isinstance(parsed, dict) and "error" in parsed:
        error = parsed["error"]
        return error if isinstance(error, str) else json.dumps(error)
    return None


def _invalid(response: httpx.Response, latency: float, message: str) -> AttemptOutcome:
    # a malformed body is usually a transient fault of a proxy or the service, so retry it
    return AttemptOutcome("invalid_response", retryable=True, http_status=response.status_code,
                          latency_s=latency, error=message, body_text=_stored_text(response.text))


def _stored_text(text: str) -> str:
    return text if len(text) <= MAX_STORED_BODY_CHARS else text[:MAX_STORED_BODY_CHARS]

