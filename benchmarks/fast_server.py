"""A minimal HTTP/1.1 server for the engine benchmarks: every POST gets one fixed answer.

It parses only what a keep-alive client needs (the header block and Content-Length), so
one core serves far more requests per second than the client under test can send, and the
benchmarks measure the client. ``--delay`` holds each answer for that many seconds.
``GET /stats`` returns the arrival times (``time.monotonic``, shared by every process of
the machine) of the POSTs since the previous ``GET /stats``.

    python benchmarks/fast_server.py [--port 0] [--delay 0] [--cpu 1]

It prints ``PORT <n>`` on stdout once it listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

ANSWER = json.dumps({
    "highlights": ("Root cause: the orders-db connection pool was exhausted after the 14:02 deploy raised "
                   "worker concurrency; requests queued for a connection and timed out."),
    "actionResults": [
        {"title": "Database connections", "shortAnswer": "orders-db pool at 100% of 200 connections",
         "mostImportantLink": "https://grafana.example.test/d/db?from=1&to=2"},
        {"title": "Recent deploys", "shortAnswer": "orders-api v812 at 14:02 raised workers from 8 to 32",
         "mostImportantLink": "https://deploys.example.test/orders-api/812"},
    ],
    "enrichmentLink": "https://app.example.test/investigations/123",
}).encode()


def _response(body: bytes, status: bytes = b"200 OK") -> bytes:
    head = (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\n\r\n")
    return head + body


class _Handler(asyncio.Protocol):
    def __init__(self, server: _State) -> None:
        self._state = server
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).lower()
            length = 0
            at = head.find(b"content-length:")
            if at >= 0:
                line_end = head.find(b"\r\n", at)
                length = int(head[at + 15:line_end if line_end >= 0 else len(head)])
            if len(self._buffer) < end + 4 + length:
                return
            del self._buffer[:end + 4 + length]
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        state = self._state
        if head.startswith(b"get /stats"):
            body = json.dumps({"arrivals": state.arrivals}).encode()
            state.arrivals = []
            self._transport.write(_response(body))  # type: ignore[union-attr]
            return
        state.arrivals.append(time.monotonic())
        if state.delay > 0:
            asyncio.get_running_loop().call_later(state.delay, self._write, state.payload)
        else:
            self._transport.write(state.payload)  # type: ignore[union-attr]

    def _write(self, payload: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(payload)


class _State:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.payload = _response(ANSWER)
        self.arrivals: list[float] = []


async def _serve(port: int, delay: float) -> None:
    state = _State(delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Handler(state), "127.0.0.1", port, backlog=2048)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this core")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    try:
        asyncio.run(_serve(args.port, args.delay))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
