"""Servers of the auth tests: an OAuth token endpoint and a gateway that checks tokens before the simulator."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN_PATH = "/oauth/token"


@dataclass
class TokenIssuer:
    """An OAuth 2.0 client-credentials token endpoint that remembers what it issued.

    Attributes:
        client_id: the only client id it accepts.
        client_secret: that client's secret.
        audience: the only audience it issues tokens for.
        expires_in: lifetime of each token in seconds, as sent in ``expires_in``.
        token_prefix: start of every issued token, so tests can search for tokens.
    """

    client_id: str
    client_secret: str
    audience: str
    expires_in: float = 3600.0
    token_prefix: str = "access"
    requests: list[dict[str, str]] = field(default_factory=list)
    issued: dict[str, float] = field(default_factory=dict)
    """Issued token -> wall-clock time it expires."""
    revoked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        """Build the ASGI app that serves ``POST /oauth/token``."""
        return Starlette(routes=[Route(TOKEN_PATH, self._serve, methods=["POST"])])

    async def _serve(self, request: Request) -> Response:
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        with self._lock:
            self.requests.append(form)
            number = len(self.requests)
        valid = (form.get("grant_type") == "client_credentials" and form.get("client_id") == self.client_id
                 and form.get("client_secret") == self.client_secret and form.get("audience") == self.audience)
        if not valid:
            return JSONResponse({"error": "access_denied"}, status_code=401)
        token = f"{self.token_prefix}-{number}"
        with self._lock:
            self.issued[token] = time.time() + self.expires_in
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in})

    def check(self, token: str) -> tuple[int, str] | None:
        """Return the refusal of a request with ``token``, or None to let it through."""
        with self._lock:
            expires_at = self.issued.get(token)
            if expires_at is None or token in self.revoked:
                return 401, "Invalid or revoked token"
            if time.time() >= expires_at:
                return 401, "Expired token"
        return None

    def revoke(self, token: str) -> None:
        """Make the API refuse ``token`` from now on."""
        with self._lock:
            self.revoked.add(token)


@dataclass
class GatewayRequest:
    """One API request as the gateway saw it."""

    token: str
    status: int | None
    """The status the gateway refused it with, or None when it went on to the simulator."""
    arrived: float


class Gateway:
    """ASGI wrapper that checks the bearer token of each API request before the simulator receives it.

    Args:
        app: the simulator app (built to accept any bearer token).
        decide: called with the token and the number of requests before this one; returns
            ``(status, message)`` to refuse the request, or None to pass it on.
    """

    def __init__(self, app: Any, decide: Callable[[str, int], tuple[int, str] | None]) -> None:
        self.app = app
        self.state = app.state  # serve_in_thread wakes the simulator's sleeps through it
        self.decide = decide
        self.requests: list[GatewayRequest] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
        refusal = self.decide(token, len(self.requests))
        self.requests.append(GatewayRequest(token, refusal[0] if refusal else None, time.time()))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": refusal[1]}).encode()
        await send({"type": "http.response.start", "status": refusal[0],
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def refused(self) -> list[GatewayRequest]:
        """Return the requests the gateway refused."""
        return [request for request in self.requests if request.status is not None]
