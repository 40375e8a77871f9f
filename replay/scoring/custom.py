"""User scorers loaded by import path ``package.module:attribute``.

The attribute may be a scorer (a callable taking ``(label, highlights)``) or a factory
that takes no required arguments and returns one. Whatever it returns is wrapped so that
a bad return value becomes a clear error instead of a corrupt scores file.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from replay.errors import ConfigError
from replay.models import Label, Score

__all__ = ["UserScorer", "load_scorer"]


class UserScorer:
    """A user's scorer with its name and version, and its return value checked."""

    def __init__(self, target: Any, path: str) -> None:
        self._target = target
        self.path = path
        self.name = str(getattr(target, "name", path))
        self.version = str(getattr(target, "version", "user"))

    def __call__(self, label: Label, highlights: str) -> Score:
        """Call the user's scorer and check that it returned a valid ``Score``."""
        score = self._target(label, highlights)
        if not isinstance(score, Score):
            raise ConfigError(
                f"scorer {self.path!r} returned {type(score).__name__}, expected "
                "replay.models.Score; return Score(value, verdict, explanation)"
            )
        if score.value is not None and not 0.0 <= score.value <= 1.0:
            raise ConfigError(f"scorer {self.path!r} returned value {score.value!r}, expected a number in [0, 1]")
        return score


def load_scorer(path: str) -> UserScorer:
    """Import a scorer or scorer factory named ``package.module:attribute``.

    Args:
        path: The import path.

    Returns:
        The wrapped scorer.

    Raises:
        ConfigError: When the path is malformed, the module or attribute is missing, or
            the attribute is neither a scorer nor a factory of one.
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"invalid scorer path {path!r}: write it as 'package.module:factory_or_callable'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module {module_name!r} for scorer {path!r}: {exc}; "
                          "check that it is installed or on PYTHONPATH") from exc
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"module {module_name!r} has no attribute {attribute!r} (scorer {path!r})")
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(f"scorer {path!r} is a {type(target).__name__}, not a callable")
    if _is_factory(target):
        target = target()
        if not callable(target):
            raise ConfigError(f"factory {path!r} returned a {type(target).__name__}, not a scorer")
    return UserScorer(target, path)


def _is_factory(target: Any) -> bool:
    """A factory takes no required arguments; a scorer takes (label, highlights)."""
    if hasattr(target, "name") and hasattr(target, "version") and not inspect.isclass(target):
        return False
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    required = [p for p in signature.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 0
