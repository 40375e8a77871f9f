"""replay: replay past incidents against investigation playbooks and score the answers.

The public API is imported lazily, so ``replay --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "ExecutionResult": "replay.models",
    "Incident": "replay.models",
    "Label": "replay.models",
    "ReplayError": "replay.errors",
    "RunSettings": "replay.settings",
    "Score": "replay.models",
    "load_incidents": "replay.datasets",
    "load_results": "replay.library",
    "load_runs": "replay.library",
    "load_scores": "replay.library",
    "run": "replay.library",
}

__all__ = sorted(["__version__", *_EXPORTS], key=str.lower)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'replay' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
