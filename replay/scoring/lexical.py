"""Lexical similarity between the labeled root cause and the extracted statement.

Both texts are reduced to content-word stems (stop words and negated spans removed), then
compared with a rapidfuzz token ratio. Fast and transparent, but blind to meaning: it
rewards shared words, so "disk exhausted" looks close to "connection pool exhausted".
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz import fuzz

from replay.models import Label, Score
from replay.scoring.base import Thresholds, combine_ranked, no_answer_score
from replay.scoring.extract import extract_root_cause
from replay.scoring.text import content_stems, split_negation

__all__ = ["METHODS", "LexicalSimilarity", "lexical_similarity"]

METHODS: dict[str, Callable[..., float]] = {
    "token_set": fuzz.token_set_ratio,
    "token_sort": fuzz.token_sort_ratio,
    "partial_token_sort": fuzz.partial_token_sort_ratio,
    "ratio": fuzz.ratio,
}


def _normalise(text: str) -> str:
    return " ".join(content_stems(split_negation(text).positive, drop_generic=True))


class LexicalSimilarity:
    """Scorer that compares the words of the label's root cause with the answer's."""

    name = "lexical"
    version = "1"

    def __init__(self, *, method: str = "token_set",
                 thresholds: Thresholds = Thresholds(correct=0.7, partial=0.45)) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown lexical method {method!r}; choose one of {', '.join(METHODS)}")
        self.method = method
        self._ratio = METHODS[method]
        self.thresholds = thresholds

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        reference = _normalise(label.root_cause or "")
        if not reference:
            return Score.unscored("label has no root cause text")
        extraction = extract_root_cause(highlights)
        empty = no_answer_score(extraction)
        if empty is not None:
            return empty
        values = [self._ratio(reference, _normalise(h)) / 100.0 for h in extraction.hypotheses]
        value, rank = combine_ranked(values)
        explanation = f"{self.method} similarity {value:.2f}"
        if len(values) > 1:
            explanation += f"; best of {len(values)} hypotheses at rank {rank or 1}"
        return Score(value, self.thresholds.verdict(value), explanation,
                     extracted=extraction.statement,
                     evidence={"method": self.method, "per_hypothesis": [round(v, 4) for v in values]})


def lexical_similarity(*, method: str = "token_set",
                       thresholds: Thresholds = Thresholds(correct=0.7, partial=0.45)) -> LexicalSimilarity:
    """Build a lexical-similarity scorer.

    Args:
        method: One of ``METHODS``: ``token_set`` (default), ``token_sort``,
            ``partial_token_sort`` or ``ratio``.
        thresholds: Cut points from similarity to verdict.

    Returns:
        A configured ``LexicalSimilarity``.

    Raises:
        ValueError: For an unknown method.
    """
    return LexicalSimilarity(method=method, thresholds=thresholds)
