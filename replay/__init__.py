"""replay: replay past incidents against investigation playbooks and score the answers.

The public API is imported on first use, so ``import replay`` and ``replay --help`` do not
load pandas, pyarrow or the HTTP stack.
"""

from __future__ import annotations

import importlib
import typing

__version__ = "0.1.0"

__all__ = [
    "ExecutionResult",
    "Incident",
    "Label",
    "ReplayError",
    "RunOutcome",
    "RunSettings",
    "Score",
    "__version__",
    "compare_runs",
    "load_incidents",
    "load_incidents_of_run",
    "load_results",
    "load_runs",
    "load_scores",
    "run",
    "summarize",
]

# public name -> module that defines it
_EXPORTS = {
    "ExecutionResult": "replay.models",
    "Incident": "replay.models",
    "Label": "replay.models",
    "ReplayError": "replay.errors",
    "RunOutcome": "replay.runner",
    "RunSettings": "replay.settings",
    "Score": "replay.models",
    "compare_runs": "replay.comparison",
    "load_incidents": "replay.datasets",
    "load_incidents_of_run": "replay.library",
    "load_results": "replay.library",
    "load_runs": "replay.library",
    "load_scores": "replay.library",
    "run": "replay.library",
    "summarize": "replay.library",
}

if typing.TYPE_CHECKING:
    from replay.comparison import compare_runs
    from replay.datasets import load_incidents
    from replay.errors import ReplayError
    from replay.library import (
        load_incidents_of_run,
        load_results,
        load_runs,
        load_scores,
        run,
        summarize,
    )
    from replay.models import ExecutionResult, Incident, Label, Score
    from replay.runner import RunOutcome
    from replay.settings import RunSettings


def __getattr__(name: str) -> typing.Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'replay' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    # cache it, so later lookups skip this function
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
