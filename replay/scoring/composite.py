"""The default scorer, ``rca``: element match first, keyword coverage to confirm.

Decision rules, in order:

1. Empty or inconclusive answer: ``incorrect`` (value 0).
2. The label has a mechanism (category, or one detected in its root cause) or a
   component: the element verdict decides. Keyword coverage (the label's keywords, or the
   content words of its root cause when it has none) then adjusts it:
   - element ``correct`` with only a mechanism known and coverage below
     ``confirm_coverage`` becomes ``partial``: the right mechanism on an unnamed or
     wrong component;
   - element ``incorrect`` with coverage of at least ``rescue_coverage`` becomes
     ``partial``: the answer uses the label's words for a mechanism outside the
     vocabulary.
3. Otherwise (free-text label with no recognisable mechanism): a weighted mix of
   keyword coverage (0.7) and lexical similarity (0.3).
"""

from __future__ import annotations

from typing import Any

from replay.models import Label, Score, Verdict
from replay.scoring.base import Thresholds, no_answer_score
from replay.scoring.element import ElementMatch
from replay.scoring.extract import extract_root_cause
from replay.scoring.keywords import KeywordCoverage
from replay.scoring.lexical import LexicalSimilarity

__all__ = ["CompositeScorer", "rca"]

_VALUES: dict[str, float] = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0}


class CompositeScorer:
    """The default root-cause scorer; see the module docstring for its rules."""

    name = "rca"
    version = "2"

    def __init__(self, *, confirm_coverage: float = 0.5, rescue_coverage: float = 0.8,
                 fallback: Thresholds = Thresholds(correct=0.6, partial=0.3)) -> None:
        self.confirm_coverage = confirm_coverage
        self.rescue_coverage = rescue_coverage
        self.fallback = fallback
        self._element = ElementMatch()
        self._keywords = KeywordCoverage(derive=True)
        self._lexical = LexicalSimilarity()

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        extraction = extract_root_cause(highlights)
        empty = no_answer_score(extraction)
        if empty is not None:
            return empty

        element = self._element(label, highlights)
        keywords = self._keywords(label, highlights)
        lexical = self._lexical(label, highlights)
        coverage = keywords.value if keywords.value is not None else 0.0
        evidence: dict[str, Any] = {
            "element": _brief(element),
            "keywords": _brief(keywords),
            "lexical": _brief(lexical),
        }

        if element.verdict != "unscored":
            verdict: Verdict = element.verdict
            rule = "element"
            mechanism_only = not label.component
            if verdict == "correct" and mechanism_only and coverage < self.confirm_coverage:
                verdict, rule = "partial", "element correct, keywords not confirmed"
            elif verdict == "incorrect" and coverage >= self.rescue_coverage:
                verdict, rule = "partial", "element incorrect, keywords matched"
            value = 0.8 * _VALUES[verdict] + 0.2 * coverage
            explanation = f"{verdict} by {rule}: {element.explanation}; {keywords.explanation}"
        else:
            lexical_value = lexical.value if lexical.value is not None else 0.0
            value = 0.7 * coverage + 0.3 * lexical_value
            verdict = self.fallback.verdict(value)
            rule = "keywords and lexical"
            explanation = f"{verdict} by {rule}: {keywords.explanation}; {lexical.explanation}"
            if keywords.verdict == "unscored" and lexical.verdict == "unscored":
                return Score.unscored("label has no root cause text, keywords, category or component")

        evidence["rule"] = rule
        return Score(round(value, 6), verdict, explanation, extracted=extraction.statement, evidence=evidence)


def _brief(score: Score) -> dict[str, Any]:
    return {"value": score.value, "verdict": score.verdict, "explanation": score.explanation}


def rca(*, confirm_coverage: float = 0.5, rescue_coverage: float = 0.8,
        fallback: Thresholds = Thresholds(correct=0.6, partial=0.3)) -> CompositeScorer:
    """Build the default composite scorer.

    Args:
        confirm_coverage: Keyword coverage a mechanism-only ``correct`` needs to stay
            ``correct``.
        rescue_coverage: Keyword coverage that lifts an element ``incorrect`` to
            ``partial``.
        fallback: Cut points of the keyword and lexical mix used for labels with no
            recognisable element.

    Returns:
        A configured ``CompositeScorer``.
    """
    return CompositeScorer(confirm_coverage=confirm_coverage, rescue_coverage=rescue_coverage,
                           fallback=fallback)
