"""The built-in simulator of the Wild Moose execution API, for replays without the real service.

``create_app`` builds the ASGI app, ``serve_in_thread`` serves it on loopback, and the
``simulate`` click command (in ``replay.simulator.command``) serves it from the command line.
"""

from __future__ import annotations

from replay.simulator.answers import expected_accuracy
from replay.simulator.app import create_app
from replay.simulator.books import Book, default_books, load_books
from replay.simulator.config import FaultConfig, SimulatorConfig
from replay.simulator.requestlog import RequestLog
from replay.simulator.server import serve_in_thread
from replay.simulator.world import World, WorldIncident, fingerprint_incident, fingerprint_request

__all__ = [
    "Book",
    "FaultConfig",
    "RequestLog",
    "SimulatorConfig",
    "World",
    "WorldIncident",
    "create_app",
    "default_books",
    "expected_accuracy",
    "fingerprint_incident",
    "fingerprint_request",
    "load_books",
    "serve_in_thread",
]
