"""Scorer registry: built-in scorer names and user scorers by import path."""

from __future__ import annotations

from collections.abc import Callable

from replay.errors import ConfigError
from replay.scoring.base import Scorer

__all__ = ["DEFAULT_SCORERS", "available_scorers", "get_scorer"]

# scorers used when the user names none: the composite verdict and two transparent parts
DEFAULT_SCORERS: tuple[str, ...] = ("rca", "keywords", "lexical")


def _rca() -> Scorer:
    from replay.scoring.composite import rca

    return rca()


def _element() -> Scorer:
    from replay.scoring.element import element_match

    return element_match()


def _keywords() -> Scorer:
    from replay.scoring.keywords import keyword_coverage

    return keyword_coverage()


def _lexical() -> Scorer:
    from replay.scoring.lexical import lexical_similarity

    return lexical_similarity()


def _semantic() -> Scorer:
    from replay.scoring.semantic import semantic_similarity

    return semantic_similarity()


def _judge() -> Scorer:
    from replay.scoring.judge import llm_judge

    return llm_judge()


_BUILT_IN: dict[str, Callable[[], Scorer]] = {
    "rca": _rca,
    "element": _element,
    "keywords": _keywords,
    "lexical": _lexical,
    "semantic": _semantic,
    "llm_judge": _judge,
}


def available_scorers() -> list[str]:
    """Return the names of the built-in scorers, sorted."""
    return sorted(_BUILT_IN)


def get_scorer(name_or_path: str) -> Scorer:
    """Build a scorer from a built-in name or a ``package.module:attribute`` path.

    Args:
        name_or_path: One of ``available_scorers()``, or an import path.

    Returns:
        A scorer with default settings; call the factories for other settings.

    Raises:
        ConfigError: For an unknown name, an import path that does not load, or a
            built-in scorer whose optional package or settings are missing.
    """
    key = name_or_path.strip()
    if ":" in key:
        from replay.scoring.custom import load_scorer

        return load_scorer(key)
    factory = _BUILT_IN.get(key)
    if factory is None:
        raise ConfigError(f"unknown scorer {name_or_path!r}; choose one of {', '.join(available_scorers())} "
                          "or give an import path 'package.module:factory'")
    return factory()
