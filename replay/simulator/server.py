"""Serving the simulator with uvicorn in a background thread, on loopback by default.

Used by ``replay run --simulator`` and by integration tests; the ``simulate`` command in
``command.py`` serves in the foreground instead.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["serve_in_thread"]

logger = logging.getLogger(__name__)

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0


@contextlib.contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread and yield its base URL.

    Port 0 picks a free port. The socket is bound before the thread starts, so the URL is
    valid as soon as it is yielded. On exit, requests still sleeping in the simulator
    (latency or hang faults) are woken, and the server stops.

    Raises:
        RuntimeError: The server did not start within 10 seconds.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="auto",
        access_log=False,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="replay-simulator", daemon=True
    )
    thread.start()

    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"simulator did not start on {host}:{bound_port}")
        time.sleep(0.01)

    url_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{url_host}:{bound_port}"
    logger.info("simulator serving on %s", base_url)
    try:
        yield base_url
    finally:
        simulator = getattr(getattr(app, "state", None), "simulator", None)
        if simulator is not None:
            simulator.is_closing = True
        server.should_exit = True
        thread.join(_STOP_TIMEOUT_S)
        if thread.is_alive():
            logger.warning("simulator on %s did not stop within %.0f s", base_url, _STOP_TIMEOUT_S)
        sock.close()
