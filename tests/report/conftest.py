"""Fixtures for the report tests."""

from __future__ import annotations

from typing import Any

import pytest
from report_builders import make_hostile_frames, make_run_frames


@pytest.fixture
def run_frames() -> dict[str, Any]:
    """Frames of a 40-incident run against two books."""
    return make_run_frames(40, seed=3)


@pytest.fixture
def hostile_frames() -> dict[str, Any]:
    """Frames whose first execution carries hostile strings in every text field."""
    return make_hostile_frames()
