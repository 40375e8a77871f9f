"""Scoring of execution answers against labeled root causes.

One scorer per module (``element``, ``keywords``, ``lexical``, ``composite`` for the
default ``rca``, ``semantic``, ``judge``, ``custom``); ``pipeline`` scores a whole run and
``stats`` aggregates. ``pipeline`` and ``stats`` load pandas, so they are imported on
first use to keep ``replay --help`` fast.
"""

from __future__ import annotations

from typing import Any

from replay.scoring.base import Scorer, Thresholds
from replay.scoring.extract import Extraction, extract_root_cause
from replay.scoring.registry import DEFAULT_SCORERS, available_scorers, get_scorer

__all__ = [
    "DEFAULT_SCORERS",
    "SCORES_SCHEMA",
    "Extraction",
    "Scorer",
    "Thresholds",
    "agreement",
    "available_scorers",
    "bootstrap_mean_interval",
    "extract_root_cause",
    "get_scorer",
    "score_run",
    "summarize",
    "summarize_repeats",
    "summarize_stability",
    "wilson_interval",
]

_LAZY = {
    "SCORES_SCHEMA": "replay.scoring.pipeline",
    "score_run": "replay.scoring.pipeline",
    "agreement": "replay.scoring.agreement",
    "bootstrap_mean_interval": "replay.scoring.stats",
    "summarize": "replay.scoring.stats",
    "summarize_repeats": "replay.scoring.stats",
    "summarize_stability": "replay.scoring.stats",
    "wilson_interval": "replay.scoring.stats",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'replay.scoring' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
