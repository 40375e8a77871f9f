"""Element match: the component and the failure mechanism named in the root-cause statement.

This is the scoring used by public root-cause-analysis benchmarks: an answer is right when
it names the failing component and the failure mechanism. The component is matched by
``replay.scoring.component`` (whole name, distinctive parts, aliases, pod hashes and
domains removed); the mechanism through the category vocabulary of
``replay.scoring.vocabulary``, ignoring the words of the component's own name. Negated
mentions ("not the deploy") never count.

When the label's component does not occur in the label's own root-cause text (a
component "cluster DNS resolver" for "a stale DNS record pointed auth-service at a
retired load balancer"), the root-cause text is the better description of what failed:
an answer that restates most of its content words also names the component.
"""

from __future__ import annotations

from typing import Any

from replay.models import Label, Score
from replay.scoring.base import Thresholds, combine_ranked, no_answer_score, ranked_evidence
from replay.scoring.component import ComponentSpec, component_spec, match_component
from replay.scoring.extract import extract_root_cause
from replay.scoring.keywords import derive_keywords, match_keywords
from replay.scoring.text import content_stems, split_negation, stems_match
from replay.scoring.vocabulary import detect_mechanisms, mechanism_spans, resolve_category

__all__ = ["ElementMatch", "element_match"]

# a hypothesis naming more distinct mechanisms than this must lead with the labeled one;
# two are allowed anywhere because one cause often implies another ("bad config change")
DEFAULT_MAX_MECHANISMS = 2
# this many mechanisms in separate list items ("a, b or c") is a list of guesses
ENUMERATION_SIZE = 3
# share of the root cause's content words an answer must repeat to stand in for a
# component that the root-cause text does not name
RESTATEMENT_COVERAGE = 0.6


class ElementMatch:
    """Scorer that credits the component and the mechanism of the root cause.

    With both elements in the label, each is worth half; with one, that one is worth all.
    A hypothesis that names more than ``max_mechanisms`` mechanisms gets mechanism credit
    only when it names the labeled one first and does not list them as alternatives,
    because a list of guesses commits to no cause. Hedged answers are combined with
    ``combine_ranked``.
    """

    name = "element"
    version = "2"

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
        spec = component_spec(label.component, label.component_aliases)
        # a free-text category that maps to no slug is still compared word by word
        category_words = (
            [s for s in content_stems(label.category, drop_generic=True)]
            if label.category and not expected else []
        )
        if spec.is_empty and not expected and not category_words:
            return Score.unscored("label names no component, and no mechanism was found in its category or root cause")

        empty = no_answer_score(extraction)
        if empty is not None:
            return empty

        restatement = _restatement_keywords(label, spec)
        rows: list[dict[str, Any]] = []
        for hypothesis in extraction.hypotheses:
            positive = split_negation(hypothesis).positive
            rows.append(self._judge(positive, spec, expected, category_words, restatement))
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

    def _judge(self, positive: str, spec: ComponentSpec, expected: tuple[str, ...],
               category_words: list[str], restatement: tuple[str, ...]) -> dict[str, Any]:
        component = match_component(positive, spec)
        masked = component.positions if component else frozenset()
        found = detect_mechanisms(positive, masked)
        rule = component.rule if component else None
        if component is None and restatement:
            matched, _, _ = match_keywords(restatement, positive)
            if len(matched) / len(restatement) >= RESTATEMENT_COVERAGE:
                rule = "restates root cause"

        if expected:
            mechanism_hit = any(slug in expected for slug in found)
        elif category_words:
            stems = content_stems(positive)
            covered = sum(any(stems_match(w, s) for s in stems) for w in category_words)
            mechanism_hit = covered / len(category_words) >= 0.5
        else:
            mechanism_hit = False

        # several mechanisms: a list of guesses earns nothing, a narrative must lead with
        # the labeled mechanism (its main claim)
        is_enumeration = False
        mechanism_credit = float(mechanism_hit)
        if mechanism_hit and len(found) > self.max_mechanisms:
            is_enumeration = _is_enumeration(positive)
            leads = bool(expected) and found[0] in expected
            mechanism_credit = float(leads and not is_enumeration)

        has_mechanism = bool(expected or category_words)
        named = rule is not None
        if not spec.is_empty and has_mechanism:
            value = 0.5 * named + 0.5 * mechanism_credit
        elif not spec.is_empty:
            value = float(named)
        else:
            value = mechanism_credit
        return {
            "text": positive.strip(),
            "mechanisms": list(found),
            "component": component.text if component else None,
            "component_rule": rule,
            "mechanism_hit": mechanism_hit,
            "mechanism_credit": mechanism_credit,
            "enumeration": is_enumeration,
            "value": value,
        }


def _restatement_keywords(label: Label, spec: ComponentSpec) -> tuple[str, ...]:
    """Content words of the root cause, when they must stand in for the component."""
    root_cause = split_negation(label.root_cause or "").positive
    if spec.is_empty or not root_cause.strip() or match_component(root_cause, spec) is not None:
        return ()
    return derive_keywords(root_cause)


def _is_enumeration(text: str) -> bool:
    spans = mechanism_spans(text)
    return len({slug for slug, _ in spans}) >= ENUMERATION_SIZE and len({i for _, i in spans}) >= ENUMERATION_SIZE


def _explain(top: dict[str, Any], label: Label, expected: tuple[str, ...], rank: int, n: int) -> str:
    parts = []
    if label.component:
        rule = top["component_rule"]
        if rule is None:
            named = "not named"
        elif rule == "name":
            named = "named"
        else:
            named = f"named ({rule})"
        parts.append(f"component {label.component!r} {named}")
    if expected:
        named = ", ".join(top["mechanisms"]) or "none"
        parts.append(f"mechanism {'/'.join(expected)} " + ("named" if top["mechanism_hit"] else f"not named (named: {named})"))
    elif label.category:
        parts.append(f"category {label.category!r} " + ("matched" if top["mechanism_hit"] else "not matched"))
    if top["enumeration"] and top["mechanism_hit"] and not top["mechanism_credit"]:
        parts.append(f"{len(top['mechanisms'])} mechanisms listed as guesses")
    elif top["mechanism_hit"] and not top["mechanism_credit"]:
        parts.append(f"{len(top['mechanisms'])} mechanisms named and the labeled one is not the main claim")
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
