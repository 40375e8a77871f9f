"""Extraction of the root-cause statement from an execution's ``highlights``.

The API writes ``Root cause: ...`` first, then supporting evidence and ``Immediate
action: ...``. Scorers look only at the root-cause statement, so an answer whose evidence
lists many candidate causes is not credited for any of them. A hedged statement ("Most
likely X; alternatively Y") is split into ranked hypotheses.

Rules, in order:

1. Empty or whitespace-only highlights: ``is_empty``.
2. A ``Root cause:`` style marker (also "Probable root cause", "Likely cause", "RCA")
   starts the statement. Without a marker the first sentence is the statement.
3. The statement ends at the next section marker ("Evidence:", "Immediate action:",
   "Mitigation:", ...) or at the end of its first sentence. Following sentences that open
   with a hedge ("Alternatively, ...", "Less likely: ...") are kept as further hypotheses.
4. The statement is split into hypotheses at hedge words and at numbered options
   ("(1) ... (2) ..."); hedge prefixes such as "most likely" are removed from each.
5. A statement that gives no cause ("no conclusive root cause", "inconclusive", "no
   anomaly found", "unable to determine") sets ``is_inconclusive``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Extraction", "extract_root_cause"]

# longest statement kept; a model that writes an essay after "Root cause:" is cut here
MAX_STATEMENT_CHARS = 600

_ROOT_MARKER = re.compile(
    r"(?:^|(?<=[\s*#>\-]))(?:\*\*)?(?:(?:most\s+)?(?:probable|likely|suspected|primary|"
    r"identified|final)\s+)?(?:root[\s-]?cause(?:\s+analysis)?|rca|cause)(?:\*\*)?\s*(?:is|was)?"
    r"\s*[:\-\u2013\u2014]\s*(?:\*\*)?",
    re.IGNORECASE,
)
_SECTION_MARKER = re.compile(
    r"(?:^|(?<=[\s*#>]))(?:\*\*)?(?:supporting\s+)?(?:evidence|immediate\s+actions?|"
    r"actions?|mitigations?|next\s+steps?|recommendations?|remediation|impact|timeline|"
    r"details|findings|summary|observations?|fix|resolution|contributing\s+factors?)"
    r"(?:\*\*)?\s*:",
    re.IGNORECASE,
)
# sentence end: punctuation then space and an upper-case letter, a digit or a bullet;
# "1.5 s", "v2.3" and "db-1.prod.internal" do not end a sentence
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*\-\u2022(\"'])|\n\s*\n|\n(?=\s*[-*\u2022])")
_ABBREVIATION_END = re.compile(r"\b(?:e\.g|i\.e|etc|vs|approx|incl|cf)\.$", re.IGNORECASE)

_HEDGE_SPLIT = re.compile(
    r"\s*(?:;|,)?\s*\b(?:alternatively|or\s+possibly|or\s+perhaps|or\s+maybe|"
    r"another\s+(?:possibility|candidate|hypothesis)(?:\s+is)?|"
    r"(?:a\s+)?(?:second|secondary|less\s+likely)\s+(?:hypothesis|candidate|possibility|option)"
    r"(?:\s+is)?|less\s+likely)\b\s*[:,]?\s*|\s*\(\d\)\s*|(?:^|\s)\d\)\s+",
    re.IGNORECASE,
)
# every alternative of _INCONCLUSIVE contains one of these, except a statement that is only
# "unknown", "n/a" or "none", which is at most this long
_INCONCLUSIVE_HINTS = ("inconclusive", "undetermined", "indeterminate", "no ", "not", "n't", "unable",
                       "nothing", "sufficient", "unknown", "unclear")
_SHORT_STATEMENT = 12
# every alternative of _HEDGE_SPLIT contains one of these (statements are lower-cased and
# whitespace-normalised before the test)
_HEDGE_HINTS = ("alternatively", "or possibly", "or perhaps", "or maybe", "another", "second",
                "less likely", ")")
_HEDGE_SENTENCE = re.compile(
    r"^\s*(?:alternatively|or\s+possibly|or\s+perhaps|another\s+(?:possibility|candidate|"
    r"hypothesis)|a\s+second\s+(?:possibility|hypothesis|candidate)|less\s+likely|"
    r"it\s+(?:could|may|might)\s+also\s+be|second(?:ly)?\b|(?:hypothesis|option)\s+2)",
    re.IGNORECASE,
)
_HEDGE_PREFIX = re.compile(
    r"^\s*(?:(?:the\s+)?(?:root\s+cause|cause)\s+(?:is|was|appears\s+to\s+be|seems\s+to\s+be)"
    r"\s+)?(?:(?:most|more|very)\s+)?(?:likely|probably|possibly|perhaps|maybe|"
    r"it\s+(?:is|was)\s+(?:most\s+)?likely|it\s+(?:could|may|might)\s+(?:also\s+)?be|"
    r"(?:hypothesis|option)\s+\d|this\s+(?:is|was)\s+(?:most\s+)?likely|"
    r"appears\s+to\s+be|seems\s+to\s+be|suspected|primary|first)?\s*[:,\-]?\s*"
    r"(?:(?:that|due\s+to|caused\s+by)\s+)?",
    re.IGNORECASE,
)
_INCONCLUSIVE = re.compile(
    r"\b(?:inconclusive|undetermined|indeterminate|"
    r"no\s+(?:conclusive|clear|definitive|obvious|single|identifiable|specific)\s+"
    r"(?:root[\s-]?cause|cause)|"
    r"no\s+(?:root[\s-]?cause|cause)\s+(?:was\s+|could\s+be\s+)?(?:found|identified|determined)|"
    r"(?:could|can)\s*(?:not|n't)\s+(?:determine|identify|find|establish|pinpoint)|"
    r"unable\s+to\s+(?:determine|identify|find|establish|pinpoint)|"
    r"no\s+(?:anomal(?:y|ies)|issues?|problems?)\s+(?:was\s+|were\s+)?(?:found|detected|observed)|"
    r"(?:found|detected|observed)\s+no\s+(?:anomal(?:y|ies)|issues?|problems?)|"
    r"nothing\s+(?:abnormal|anomalous|unusual)|"
    r"(?:not|in)sufficient\s+(?:data|evidence|information)|not\s+enough\s+(?:data|evidence)|"
    r"root[\s-]?cause\s+(?:is\s+|remains\s+)?(?:unknown|unclear|not\s+known)|^\s*(?:unknown|n/?a|none)\W*$)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Extraction:
    """The root-cause statement found in one ``highlights`` text.

    Attributes:
        statement: The root-cause statement, whitespace-normalised ("" when empty).
        hypotheses: The candidate causes in the order the answer ranks them.
        is_empty: The highlights held no text.
        is_inconclusive: The statement says no root cause was found.
        has_marker: The statement followed an explicit "Root cause:" marker.
    """

    statement: str
    hypotheses: tuple[str, ...]
    is_empty: bool = False
    is_inconclusive: bool = False
    has_marker: bool = False

    @property
    def is_answer(self) -> bool:
        """True when the statement names at least one cause."""
        return not (self.is_empty or self.is_inconclusive) and bool(self.hypotheses)


@lru_cache(maxsize=8192)
def extract_root_cause(highlights: str | None) -> Extraction:
    """Find the root-cause statement and its ranked hypotheses in ``highlights``.

    Args:
        highlights: The API's free-text conclusion, or None.

    Returns:
        The extraction; see the module docstring for the rules.
    """
    text = (highlights or "").strip()
    if not text:
        return Extraction(statement="", hypotheses=(), is_empty=True)

    marker = _ROOT_MARKER.search(text)
    body = text[marker.end() :] if marker else text
    statement, rest = _first_statement(body)
    extra = _hedged_followers(rest)
    statement = " ".join(statement.split())[:MAX_STATEMENT_CHARS]

    if not statement:
        return Extraction(statement="", hypotheses=(), is_empty=True, has_marker=bool(marker))
    if _may_be_inconclusive(statement) and _INCONCLUSIVE.search(statement):
        return Extraction(statement, (), is_inconclusive=True, has_marker=bool(marker))

    parts = _HEDGE_SPLIT.split(statement) if _may_hedge(statement) else [statement]
    hypotheses = [h for h in (_clean(p) for p in parts) if h]
    hypotheses += [h for h in (_clean(s) for s in extra) if h]
    if not hypotheses:
        hypotheses = [statement]
    full = statement if not extra else statement + " " + " ".join(extra)
    return Extraction(full, tuple(hypotheses), has_marker=bool(marker))


def _may_be_inconclusive(statement: str) -> bool:
    """Cheap test that skips the inconclusive pattern for most statements; never misses one."""
    lowered = statement.lower()
    return len(lowered) <= _SHORT_STATEMENT or any(hint in lowered for hint in _INCONCLUSIVE_HINTS)


def _may_hedge(statement: str) -> bool:
    """Cheap test that skips the hedge split for most statements; never misses a hedge."""
    lowered = statement.lower()
    return any(hint in lowered for hint in _HEDGE_HINTS)


def _first_statement(body: str) -> tuple[str, str]:
    """Cut the statement at the next section marker or sentence end."""
    section = _SECTION_MARKER.search(body)
    head = body[: section.start()] if section else body
    rest = body[section.start() :] if section else ""
    for end in _SENTENCE_END.finditer(head):
        before = head[: end.start()]
        if _ABBREVIATION_END.search(before):
            continue
        return before, head[end.end() :] + " " + rest
    return head, rest


def _hedged_followers(rest: str) -> list[str]:
    """Collect the sentences right after the statement that open with a hedge."""
    found: list[str] = []
    while rest.strip():
        sentence, rest = _first_statement(rest.strip())
        if not _HEDGE_SENTENCE.match(sentence) or _SECTION_MARKER.match(sentence):
            break
        found.append(" ".join(sentence.split()))
    return found


def _clean(part: str) -> str:
    part = _HEDGE_SPLIT.sub(" ", part) if _HEDGE_SENTENCE.match(part) else part
    part = _HEDGE_PREFIX.sub("", part, count=1)
    return part.strip(" .,;:-*\u2022\"'").strip()
