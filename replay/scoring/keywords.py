"""Keyword coverage: the share of the label's keywords that the root-cause statement names.

Matching is tolerant to case and inflection (light stemming, see ``replay.scoring.text``)
and to near spellings (rapidfuzz). A keyword of several words matches when each of its
words is named. Words inside a negated span ("not caused by the deploy") do not match;
such keywords are listed as ``negated`` in the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from replay.models import Label, Score
from replay.scoring.base import Thresholds, combine_ranked, no_answer_score, ranked_evidence
from replay.scoring.extract import extract_root_cause
from replay.scoring.text import content_stems, split_negation, stem, stems_match, tokenize

__all__ = ["KeywordCoverage", "derive_keywords", "keyword_coverage", "match_keywords"]

# labels without keywords get at most this many, taken from the root cause text
MAX_DERIVED_KEYWORDS = 8


@lru_cache(maxsize=8192)
def _keyword_stems(keyword: str) -> tuple[str, ...]:
    stems = content_stems(keyword)
    return tuple(stems) if stems else tuple(stem(t) for t in tokenize(keyword))


def derive_keywords(root_cause: str) -> tuple[str, ...]:
    """Take the distinct content words of a free-text root cause as keywords.

    Args:
        root_cause: The label's root cause.

    Returns:
        Up to ``MAX_DERIVED_KEYWORDS`` words, stop words and generic words such as
        "caused" or "outage" removed, in text order.
    """
    seen: dict[str, str] = {}
    for token in tokenize(split_negation(root_cause).positive):
        stemmed = stem(token)
        if stemmed in seen or len(content_stems(token, drop_generic=True)) == 0:
            continue
        seen[stemmed] = token
    return tuple(seen.values())[:MAX_DERIVED_KEYWORDS]


def match_keywords(keywords: Sequence[str], text: str, *, fuzzy: bool = True) -> tuple[list[str], list[str], list[str]]:
    """Match keywords against one statement.

    Args:
        keywords: The keywords to look for.
        text: The statement.
        fuzzy: Accept near spellings.

    Returns:
        Matched, negated (named only inside a negated span) and missing keywords.
    """
    parts = split_negation(text)
    positive = content_stems(parts.positive)
    positive_set = set(positive)
    negated = [s for span in parts.negated for s in content_stems(span)]
    matched: list[str] = []
    denied: list[str] = []
    missing: list[str] = []
    for keyword in keywords:
        stems = _keyword_stems(keyword)
        if not stems:
            continue
        if all(s in positive_set or any(stems_match(s, p, fuzzy=fuzzy) for p in positive) for s in stems):
            matched.append(keyword)
        elif negated and all(any(stems_match(s, n, fuzzy=fuzzy) for n in negated) for s in stems):
            denied.append(keyword)
        else:
            missing.append(keyword)
    return matched, denied, missing


class KeywordCoverage:
    """Scorer that measures which of ``label.keywords`` the root-cause statement names."""

    name = "keywords"
    version = "1"

    def __init__(self, *, fuzzy: bool = True, derive: bool = False,
                 thresholds: Thresholds = Thresholds(correct=0.75, partial=0.34)) -> None:
        self.fuzzy = fuzzy
        self.derive = derive
        self.thresholds = thresholds

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        keywords = tuple(k for k in label.keywords if k and k.strip())
        source = "label"
        if not keywords and self.derive:
            keywords, source = derive_keywords(label.root_cause or ""), "root_cause"
        if not keywords:
            return Score.unscored("label has no keywords")

        extraction = extract_root_cause(highlights)
        empty = no_answer_score(extraction)
        if empty is not None:
            return empty

        rows = []
        for hypothesis in extraction.hypotheses:
            matched, denied, missing = match_keywords(keywords, hypothesis, fuzzy=self.fuzzy)
            total = len(matched) + len(denied) + len(missing)
            rows.append({"matched": matched, "negated": denied, "missing": missing,
                         "value": len(matched) / total if total else 0.0})
        value, rank = combine_ranked([r["value"] for r in rows])
        top = rows[rank - 1] if rank else rows[0]
        explanation = f"matched {len(top['matched'])}/{len(top['matched']) + len(top['negated']) + len(top['missing'])} keywords"
        if top["matched"]:
            explanation += ": " + ", ".join(top["matched"])
        if top["negated"]:
            explanation += "; negated: " + ", ".join(top["negated"])
        if len(rows) > 1:
            explanation += f"; best of {len(rows)} hypotheses at rank {rank or 1}"
        evidence = {
            "keywords": list(keywords),
            "keyword_source": source,
            **{k: top[k] for k in ("matched", "negated", "missing")},
            "best_rank": rank,
            **ranked_evidence([r["value"] >= self.thresholds.correct for r in rows]),
        }
        return Score(value, self.thresholds.verdict(value), explanation,
                     extracted=extraction.statement, evidence=evidence)


def keyword_coverage(*, fuzzy: bool = True, derive: bool = False,
                     thresholds: Thresholds = Thresholds(correct=0.75, partial=0.34)) -> KeywordCoverage:
    """Build a keyword-coverage scorer.

    Args:
        fuzzy: Accept near spellings of keywords (rapidfuzz ratio >= 88).
        derive: When the label has no keywords, use the content words of its root cause
            instead of returning unscored.
        thresholds: Cut points from coverage to verdict.

    Returns:
        A configured ``KeywordCoverage``.
    """
    return KeywordCoverage(fuzzy=fuzzy, derive=derive, thresholds=thresholds)
