"""Text normalisation shared by the scorers: tokens, light stemming and negation scopes.

Normalisation rules, applied in this order:

1. camelCase is split (``CheckoutAPI`` -> ``Checkout API``), then text is lower-cased.
2. Tokens are runs of ASCII letters and digits; every other character separates tokens,
   so ``checkout-api-7f9c`` is ``checkout``, ``api``, ``7f9c``.
3. Abbreviations common in operations text map to one canonical token (``db`` ->
   ``database``, ``k8s`` -> ``kubernetes``).
4. A light suffix stemmer folds inflections (``exhausted``, ``exhaustion`` and
   ``exhausting`` all become ``exhaust``). Two stems also match when one is a prefix of
   the other and they differ by at most three letters (``expir`` and ``expirat``).

Negation: words inside a negated span ("not caused by the deploy", "the deploy was
ruled out") are kept apart, so that a scorer can refuse to count them as matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

__all__ = [
    "STOPWORDS",
    "Tokens",
    "content_stems",
    "split_negation",
    "split_words",
    "stem",
    "stems_match",
    "tokenize",
    "word_stems",
]

STOPWORDS: frozenset[str] = frozenset(
    """a an the of to in on at by for from with and or as is was were are be been being it
    its this that these those there their which who whom what when where while into onto
    than then so such very has have had do does did can could should would will may might
    after before during due because via per over under up down out about also just only
    our we they he she them his her all any some each other more most less least one two""".split()
)

# words that carry no root-cause content; dropped when labels are turned into keywords
GENERIC_WORDS: frozenset[str] = frozenset(
    """root cause caused causing causes issue issues problem problems incident outage outages
    error errors failure failures failed fail failing resulting result results led lead leading
    service services system systems production prod request requests user users customer
    customers impact impacted affected affecting several many multiple some likely probably
    possibly most main primary ran run runs running out stopped stop made make became become
    went go got get every new old""".split()
)

_CANONICAL: dict[str, str] = {
    "db": "database",
    "dbs": "database",
    "svc": "service",
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "pg": "postgres",
    "postgresql": "postgres",
    "cfg": "config",
    "configuration": "config",
    "conf": "config",
    "conn": "connection",
    "conns": "connection",
    "mem": "memory",
    "cert": "certificate",
    "certs": "certificate",
    "tls": "certificate",
    "ssl": "certificate",
    "oom": "oom",
    "oomkilled": "oom",
    "deployment": "deploy",
    "deployments": "deploy",
    "rollout": "deploy",
    "msg": "message",
    "msgs": "message",
    "auth": "authentication",
    "ns": "dns",
}

_SUFFIXES: tuple[str, ...] = (
    "ations", "ation", "ments", "ment", "ings", "ing", "ions", "ion", "ies", "ied",
    "ers", "er", "ed", "es", "ly", "s", "y",
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[a-z0-9]+")
_ACRONYM_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")
# "payments-worker's" names payments-worker; the "s" would break sequence matching
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s?(?=\W|$)")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Reduce a lower-case token to a light stem.

    Args:
        word: One lower-case token.

    Returns:
        The canonical abbreviation if one applies, else the word without its longest
        matching inflection suffix (the stem keeps at least three letters), without a
        trailing ``e``.
    """
    word = _CANONICAL.get(word, word)
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        # "exceed", "speed" and "miss" end in a suffix's letters but are not inflected
        if suffix == "ed" and word.endswith("eed") or suffix == "s" and word.endswith("ss"):
            continue
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    # double consonants left by -ed/-ing ("stopped" -> "stopp") fold to one
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def stems_match(a: str, b: str, *, fuzzy: bool = True) -> bool:
    """Tell whether two stems name the same word.

    Args:
        a: A stem.
        b: Another stem.
        fuzzy: Also accept near spellings (rapidfuzz ratio of at least 88 on stems of
            six letters or more), which catches typos such as ``certifcate``.

    Returns:
        True for equal stems, a prefix within three letters, or a near spelling.
    """
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long_.startswith(short) and len(long_) - len(short) <= 3:
        return True
    if fuzzy and len(short) >= 6:
        return fuzz.ratio(a, b) >= 88
    return False


def tokenize(text: str) -> list[str]:
    """Split text into lower-case tokens after splitting camelCase words."""
    # plural acronyms ("CPUs", "APIs") stay one word
    text = _ACRONYM_PLURAL.sub(r"\1S", text)
    return _TOKEN.findall(_CAMEL.sub(" ", text).lower())


@lru_cache(maxsize=16384)
def word_stems(text: str) -> tuple[tuple[int, str], ...]:
    """Stem every token and record which whitespace-separated word it came from.

    A hyphenated or dotted name such as ``ip-10-1-2-3.eu-west-1.compute.internal`` is one
    word, so distances measured in words do not grow with the length of host names.
    Possessive endings are dropped first (``payments-worker's`` -> ``payments-worker``).

    Args:
        text: Any text.

    Returns:
        (word index, stem) pairs in text order.
    """
    pairs: list[tuple[int, str]] = []
    for index, word in enumerate(split_words(text)):
        pairs.extend((index, s) for s in _word_token_stems(word))
    return tuple(pairs)


@lru_cache(maxsize=65536)
def _word_token_stems(word: str) -> tuple[str, ...]:
    return tuple(stem(token) for token in tokenize(word))


@lru_cache(maxsize=4096)
def split_words(text: str) -> tuple[str, ...]:
    """Split text at whitespace after dropping possessive endings; see ``word_stems``."""
    return tuple(_POSSESSIVE.sub("", text).split())


def content_stems(text: str, *, drop_generic: bool = False) -> list[str]:
    """Return the stems of the tokens that are not stop words, in text order.

    Args:
        text: Any text.
        drop_generic: Also drop words such as "caused" or "outage" that every
            root-cause statement uses.
    """
    drop = STOPWORDS | GENERIC_WORDS if drop_generic else STOPWORDS
    return [stem(t) for t in tokenize(text) if t not in drop]


# "not" denies a cause only when a cause follows it: "not caused by", "not the deploy";
# "did not scale" or "was not renewed" state a failure, so they are claims
_FORWARD_CUES = re.compile(
    r"\b(?:(?:not|never|isn't|wasn't|aren't|weren't|doesn't|didn't)\s+(?:really\s+|actually\s+)?"
    r"(?=(?:caused|due|because|the|a|an|related|from|linked|triggered|responsible|a\s+result|"
    r"result|involving|involved|attributable|tied|connected|about|in|on|by)\b)|"
    r"rather than|instead of|unrelated to|no evidence (?:of|for)|no sign(?:s)? of|"
    r"no indication of|ruled out|rules out|rule out|excluded|exclude)",
    re.IGNORECASE,
)
# cues that negate the subject before them: "the deploy was ruled out"
_BACKWARD_CUES = re.compile(
    r"\b(?:(?:was|is|were|are|has been|have been)\s+(?:not\s+(?:the\s+)?(?:cause|culprit|"
    r"responsible|involved|related|to blame|the issue|the problem)|ruled out|excluded|"
    r"unrelated|innocent|a red herring|not a factor)|(?:can|could) be ruled out)\b",
    re.IGNORECASE,
)
# every cue of _FORWARD_CUES and _BACKWARD_CUES contains one of these, so a text without
# them needs no regex search
_NEGATION_HINTS = ("not", "never", "n't", "rather than", "instead of", "unrelated", "no evidence",
                   "no sign", "no indication", "rule", "exclud", "innocent", "red herring")
_NEXT_WORD = re.compile(r"\s*[\w']+")
_CLAUSE_END = re.compile(
    r"[.;:,!?()\n]|\b(?:but|however|because|since|instead|although|though|whereas|while|"
    r"due to|so)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Tokens:
    """A text split into the words it asserts and the words it negates."""

    positive: str
    negated: tuple[str, ...]


@lru_cache(maxsize=16384)
def split_negation(text: str) -> Tokens:
    """Separate the negated spans of a text from the rest.

    Args:
        text: A root-cause statement.

    Returns:
        The text with negated spans blanked out, and the negated spans.
    """
    lowered = text.lower()
    if not any(hint in lowered for hint in _NEGATION_HINTS):
        return Tokens(positive=text, negated=())
    spans: list[tuple[int, int]] = []
    for match in _BACKWARD_CUES.finditer(text):
        start = 0
        for end in _CLAUSE_END.finditer(text, 0, match.start()):
            start = end.end()
        spans.append((start, match.end()))
    for match in _FORWARD_CUES.finditer(text):
        if any(s <= match.start() < e for s, e in spans):
            continue
        # the word right after the cue belongs to the scope even when it is "due" or "because"
        first_word = _NEXT_WORD.match(text, match.end())
        stop = _CLAUSE_END.search(text, first_word.end() if first_word else match.end())
        spans.append((match.start(), stop.start() if stop else len(text)))
    if not spans:
        return Tokens(positive=text, negated=())
    spans.sort()
    pieces: list[str] = []
    negated: list[str] = []
    cursor = 0
    for start, end in spans:
        if end <= cursor:
            continue
        start = max(start, cursor)
        pieces.append(text[cursor:start])
        negated.append(text[start:end])
        pieces.append(" | ")
        cursor = end
    pieces.append(text[cursor:])
    return Tokens(positive="".join(pieces), negated=tuple(negated))
