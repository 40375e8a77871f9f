"""A stub OpenAI-compatible chat server on 127.0.0.1 for the LLM judge tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["StubChat", "serve_stub"]

DEFAULT_REPLY = '{"verdict": "correct", "explanation": "same"}'


class StubChat:
    """Chat server whose next replies a test sets; records every request.

    A reply is the message content, or ``HTTP<code>`` for an error status with a plain
    body (``HTTP429 retry-after=2`` adds that Retry-After header), or ``SLOW<seconds>`` to
    answer the default reply after that delay, or ``NOT_JSON`` for an HTML body. Without
    queued replies the server sends ``fallback``.
    """

    def __init__(self) -> None:
        self.replies: list[object] = []
        self.requests: list[dict] = []
        self.auth: list[str | None] = []
        self.fallback: object = DEFAULT_REPLY

    def reset(self) -> None:
        """Forget queued replies and recorded requests, and restore the default reply."""
        self.replies.clear()
        self.requests.clear()
        self.auth.clear()
        self.fallback = DEFAULT_REPLY

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("authorization"))
        reply = self.replies.pop(0) if self.replies else self.fallback
        if isinstance(reply, str) and reply.startswith("HTTP"):
            code, _, extra = reply[4:].partition(" retry-after=")
            headers = {"Retry-After": extra} if extra else None
            return PlainTextResponse("boom", status_code=int(code), headers=headers)
        if isinstance(reply, str) and reply.startswith("SLOW"):
            await asyncio.sleep(float(reply[4:]))
            reply = DEFAULT_REPLY
        if reply == "NOT_JSON":
            return PlainTextResponse("<html>oops</html>")
        return JSONResponse({"choices": [{"message": {"role": "assistant", "content": reply}}]})


@contextmanager
def serve_stub() -> Iterator[tuple[StubChat, str]]:
    """Serve a ``StubChat`` with uvicorn on a free port; yield it and its ``/v1`` base URL."""
    stub = StubChat()
    app = Starlette(routes=[Route("/v1/chat/completions", stub.completions, methods=["POST"])])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("stub chat server did not start within 10 s")
        time.sleep(0.01)
    try:
        yield stub, f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
