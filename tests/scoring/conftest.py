"""Fixtures of the scoring tests: one stub chat server on 127.0.0.1 for the LLM judge tests."""

from __future__ import annotations

import pytest

from tests.scoring.judge_stub import serve_stub


@pytest.fixture(scope="session")
def server():
    """Serve one stub chat server for the whole session; yield it and its ``/v1`` URL."""
    with serve_stub() as served:
        yield served


@pytest.fixture
def stub(server):
    """Return the stub chat server, reset to its default reply, and its ``/v1`` URL."""
    chat, url = server
    chat.reset()
    return chat, url
