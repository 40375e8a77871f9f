"""Element match: the component and the failure mechanism named in the root-cause statement.

This is the scoring used by public root-cause-analysis benchmarks: an answer is right when
it names the failing component and the failure mechanism. The component is matched with
aliases, pod and replica hashes and domains removed; the mechanism is matched through the
category vocabulary of ``replay.scoring.vocabulary``. Negated mentions ("not the
deploy") never count.
"""

from __future__ import annotations

from typing import Any

from replay.models import Label, Score
from replay.scoring.base import Thresholds, combine_ranked, no_answer_score, ranked_evidence
from replay.scoring.extract import extract_root_cause
from replay.scoring.text import content_stems, split_negation, stems_match
from replay.scoring.vocabulary import (
    component_variants,
    detect_mechanisms,
    find_component,
    resolve_category,
)

__all__ = ["ElementMatch", "element_match"]

# a hypothesis naming more distinct mechanisms than this is a list of guesses, not an answer;
# two are allowed because one cause often implies another ("bad config change")
DEFAULT_MAX_MECHANISMS = 2


class ElementMatch:
    """Scorer that credits the component and the mechanism of the root cause.

    With both elements in the label, each is worth half; with one, that one is worth all.
    A hypothesis that names more than ``max_mechanisms`` mechanisms gets no mechanism
    credit, because a list of guesses commits to no cause. Hedged answers are combined with ``combine_ranked``.
    """

    name = "element"
    version = "1"

    def __init__(self, *, max_mechanisms: int = DEFAULT_MAX_MECHANISMS,
                 thresholds: Thresholds = Thresholds(correct=0.99, partial=0.3)) -> None:
        if max_mechanisms < 1:
            raise ValueError(f"max_mechanisms must be at least 1, got {max_mechanisms!r}")
        self.max_mechanisms = max_mechanisms
        self.thresholds = thresholds

    def expected_mechanisms(self, label: Label) -> tuple[tuple[str, ...], str]:
        """Return the slugs the label expects and where they came from."""
        slugs = resolve_category(label.category)
        if slugs:
            return slugs, "category"
        slugs = detect_mechanisms(split_negation(label.root_cause or "").positive)
        return slugs, ("root_cause" if slugs else "none")

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        extraction = extract_root_cause(highlights)
        expected, source = self.expected_mechanisms(label)
        variants = component_variants(label.component, label.component_aliases) if label.component else ()
        # a free-text category that maps to no slug is still compared word by word
        category_words = (
            [s for s in content_stems(label.category, drop_generic=True)]
            if label.category and not expected else []
        )
        if not variants and not expected and not category_words:
            return Score.unscored("label names no component, and no mechanism was found in its category or root cause")

        empty = no_answer_score(extraction)
        if empty is not None:
            return empty

        rows: list[dict[str, Any]] = []
        for hypothesis in extraction.hypotheses:
            positive = split_negation(hypothesis).positive
            rows.append(self._judge(positive, variants, expected, category_words))
        value, rank = combine_ranked([r["value"] for r in rows])
        verdict = self.thresholds.verdict(value)
        top = rows[rank - 1] if rank else rows[0]
        explanation = _explain(top, label, expected, rank, len(rows))
        evidence = {
            "expected_mechanisms": list(expected),
            "mechanism_source": source,
            "hypotheses": rows,
            "best_rank": rank,
            **ranked_evidence([r["value"] >= self.thresholds.correct for r in rows]),
        }
        return Score(value, verdict, explanation, extracted=extraction.statement, evidence=evidence)

    def _judge(self, positive: str, variants: tuple[tuple[str, ...], ...],
               expected: tuple[str, ...], category_words: list[str]) -> dict[str, Any]:
        found = detect_mechanisms(positive)
        component = find_component(positive, variants) if variants else None
        if expected:
            mechanism_hit = any(slug in expected for slug in found)
        elif category_words:
            stems = content_stems(positive)
            covered = sum(any(stems_match(w, s) for s in stems) for w in category_words)
            mechanism_hit = covered / len(category_words) >= 0.5
        else:
            mechanism_hit = False
        mechanism_credit = float(mechanism_hit)
        if mechanism_hit and len(found) > self.max_mechanisms:
            mechanism_credit = 0.0
        has_mechanism = bool(expected or category_words)
        if variants and has_mechanism:
            value = 0.5 * (component is not None) + 0.5 * mechanism_credit
        elif variants:
            value = float(component is not None)
        else:
            value = mechanism_credit
        return {
            "text": positive.strip(),
            "mechanisms": list(found),
            "component": "-".join(component) if component else None,
            "mechanism_hit": mechanism_hit,
            "value": value,
        }


def _explain(top: dict[str, Any], label: Label, expected: tuple[str, ...], rank: int, n: int) -> str:
    parts = []
    if label.component:
        parts.append(f"component {label.component!r} " + ("named" if top["component"] else "not named"))
    if expected:
        named = ", ".join(top["mechanisms"]) or "none"
        parts.append(f"mechanism {'/'.join(expected)} " + ("named" if top["mechanism_hit"] else f"not named (named: {named})"))
    elif label.category:
        parts.append(f"category {label.category!r} " + ("matched" if top["mechanism_hit"] else "not matched"))
    if len(top["mechanisms"]) > 2:
        parts.append(f"{len(top['mechanisms'])} mechanisms named in one hypothesis")
    if n > 1:
        parts.append(f"best of {n} hypotheses at rank {rank or 1}")
    return "; ".join(parts)


def element_match(*, max_mechanisms: int = DEFAULT_MAX_MECHANISMS,
                  thresholds: Thresholds = Thresholds(correct=0.99, partial=0.3)) -> ElementMatch:
    """Build an element-match scorer.

    Args:
        max_mechanisms: Distinct mechanisms one hypothesis may name before it loses its
            mechanism credit.
        thresholds: Cut points from value to verdict.

    Returns:
        A configured ``ElementMatch``.
    """
    return ElementMatch(max_mechanisms=max_mechanisms, thresholds=thresholds)
