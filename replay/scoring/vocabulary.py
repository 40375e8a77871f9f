"""Failure-mechanism vocabulary used by the element scorer.

Each category slug has patterns. A pattern is a list of term groups separated by spaces;
a group lists alternative words separated by ``|``. A pattern matches when every group
matches a word within ``WINDOW`` words of the first group's word, in any order. Words are
compared as stems (see ``replay.scoring.text``), so ``exhausted`` matches ``exhaust``.
Component matching lives in ``replay.scoring.component``; its two older entry points are
re-exported here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from rapidfuzz import fuzz, process

from replay.scoring.component import component_variants, find_component
from replay.scoring.text import split_words, stem, tokenize

__all__ = [
    "CATEGORY_PATTERNS",
    "CATEGORY_SLUGS",
    "WINDOW",
    "component_variants",
    "detect_mechanisms",
    "find_component",
    "mechanism_spans",
    "resolve_category",
]

# pseudo-word at the positions of the component's name, for patterns relative to it
COMPONENT_WORD = "@component"
# words between the anchor of a pattern and its other words; wider windows join unrelated
# clauses. Counted in whitespace-separated words, so a long host name counts once.
WINDOW = 10
_LIST_SEPARATOR = re.compile(r"\s*[,;/]\s*|\s+(?:or|and|and/or|as well as|plus)\s+", re.IGNORECASE)

CATEGORY_PATTERNS: dict[str, tuple[str, ...]] = {
    "connection_pool_exhaustion": (
        "pool exhaust|saturat|deplet|starv|full|maxed|max|maximum|exceed|limit|leak|contention|timeout",
        "connection exhaust|deplet|starv|maxed|leak|limit|out",
        "too many connection",
        "max|maximum connection",
    ),
    "bad_deploy": (
        "bad|faulty|broken|buggy|defective|regression deploy|release|version|build|commit",
        ("deploy|release|version|build|commit bug|regress|crash|broke|break|introduc|defect|"
         "null|exception|panic|threw|throw|5xx|chang"),
        "regression",
        "deploy|release|version|build roll|rolled|revert",
    ),
    "config_change": (
        "config|setting|parameter|yaml|env change|push|update|typo|mistake|wrong|incorrect|"
        "bad|invalid|edit|modif|error",
        "misconfigur",
        "config drift",
    ),
    "certificate_expiry": (
        "certificate expir|renew|lapse|outdat|invalid|rotat",
        "x509 expir",
    ),
    "dns_failure": (
        "dns fail|resolut|resolv|outag|error|misconfig|timeout|record|lookup|propagat|server|"
        "nxdomain|broken|issue|down",
        "nxdomain",
        "name resolut|resolv fail|error|timeout|broke|broken|down",
        "coredns",
    ),
    "disk_full": (
        "disk|volume|filesystem|partition|inode|storage full|exhaust|fill|capacity|space|100",
        "log|logs|wal rotat|fill|pile",
        "space left",
        "enospc",
    ),
    "memory_leak": (
        "memory leak|grow|growth|bloat|exhaust|pressure|oom|ran",
        "oom",
        "heap exhaust|grow|growth|leak|out|pressure|full",
        "goroutine|thread|handle|descriptor leak",
    ),
    "noisy_neighbor": (
        "noisy neighbor|neighbour",
        "neighbor|neighbour|tenant|colocat hog|steal|contention|consum|starv|saturat",
        "cpu steal",
    ),
    "dependency_outage": (
        ("upstream|downstream|dependency|third|vendor|provider|external|partner|saas outag|down|"
         "unavailabl|fail|degrad|error|timeout|unreachabl|incident|unhealthy"),
        # the label's component is the dependency itself: "an outage at CardBridge"
        "@component outag|down|unavailabl|degrad|unreachabl|503|incident",
    ),
    "clock_skew": (
        "clock skew|drift|sync|wrong|mismatch|jump",
        "time skew|drift|sync",
        "ntp|ntpd|chrony fail|drift|stop|sync|broken|unreachabl|dead|down",
        "timestamp skew|drift",
        "leap second",
    ),
    "throttling": (
        "throttl",
        "rate limit",
        "429",
    ),
    "cpu_saturation": (
        "cpu|processor saturat|spike|high|100|pegg|exhaust|bound|starv|maxed|max|hot|"
        "utiliz|contention|pin|pinned",
        "infinite|busy|tight|hot loop",
    ),
    "network_partition": (
        "network partition|split|isolat|outag|failur|fail|down|loss|blip|flap",
        "split brain",
        "packet loss|drop",
        "link fail|down|flap|cut",
        "connectivity lost|loss|outag|fail|broken",
        "router|switch|bgp fail|crash|withdraw|withdrew|withdrawn|misconfig|flap|offline",
        "partition between|isolat|heal",
    ),
    "lock_contention": (
        "lock contention|wait|timeout|held|hold|conflict|block|escalat|queue",
        "deadlock",
        "mutex contention|wait|block",
    ),
    "cache_stampede": (
        "cache stampede|miss|flush|evict|cold|invalidat|expir|herd|avalanche|wipe|restart",
        "thundering herd",
        "stampede",
        "dogpile",
    ),
    "queue_backlog": (
        "queue backlog|grow|build|lag|depth|full|pile|overflow|saturat|stuck|delay|behind",
        "consumer|worker lag|slow|stuck|behind|fell|fall|keep|catch",
        "keep|catch|behind topic|queue|stream|message|partition",
        "backlog",
    ),
    "feature_flag": (
        "feature flag|toggle|switch",
        "flag enabl|flip|turn|toggl|deploy|chang|on",
    ),
    "autoscaling_failure": (
        "autoscal",
        "hpa|asg fail|broken|limit|max|disabl|lag|slow|stuck|misconfig",
        "scale|scaling up|out fail|unable|slow|lag|stuck",
        "autoscal|hpa|scaling metric|replica|cooldown|capacity|max|maximum|limit|slow|stuck|fail|unable",
        "scaling|scale policy|cooldown|slow|lag|stuck|limit|max|maximum",
        "replica stayed|stays|stuck|capped|pinned|max|maximum|limit",
        "node group max|maximum|limit|size|full",
    ),
    "schema_migration": (
        "schema migrat|chang|lock|alter",
        "migrat lock|table|fail|alter|column|database|ddl|index|drop|renam|backfill",
        "alter table",
        "ddl lock|migrat|chang",
    ),
    "resource_quota": (
        "quota exceed|limit|hit|exhaust|reach|full|cap",
        "resource quota|limit",
        "resourcequota",
        "limitrange",
        "account|service limit reach|hit|exceed",
    ),
}

CATEGORY_SLUGS: tuple[str, ...] = tuple(CATEGORY_PATTERNS)

# pattern = tuple of groups, group = frozenset of stems
_Pattern = tuple[frozenset[str], ...]

# A text stem also matches a vocabulary word when one is the other plus one of these
# endings, which the light stemmer leaves behind: "migr" (migration) and "migrat"
# (migrated), "failur" and "fail". Other extensions are different words: "back" is not
# "backlog", "data" is not "database", "process" is not "processor".
_STEM_REMAINDERS: frozenset[str] = frozenset({"at", "ur", "th", "en", "y", "al", "ed", "e"})
# words that name a release ("v4.19.3", "4.12.0") or a mount point ("/var", "/data")
_VERSION = re.compile(r"^v?\d+(?:\.\d+)+[a-z0-9.-]*$|^v\d+$", re.IGNORECASE)
_MOUNT_PATH = re.compile(r"^/[a-z]")
_VERSION_WORD = stem("version")
_FILESYSTEM_WORD = stem("filesystem")
# last parts of hyphenated service names; "out-of-memory" or "rate-limit" stay vocabulary
_NAME_SUFFIXES: frozenset[str] = frozenset("""
    api svc service worker workers db gateway proxy server indexer dispatcher manager web app
    job daemon controller scheduler consumer producer frontend backend ui cron internal
    """.split())


def _compile() -> tuple[dict[str, list[_Pattern]], dict[str, set[str]]]:
    patterns: dict[str, list[_Pattern]] = {}
    words: set[str] = set()
    for slug, texts in CATEGORY_PATTERNS.items():
        compiled: list[_Pattern] = []
        for text in texts:
            groups = tuple(frozenset(w if w.startswith("@") else stem(w) for w in group.split("|"))
                           for group in text.split())
            compiled.append(groups)
            for group in groups:
                words.update(group)
        patterns[slug] = compiled
    prefix_index: dict[str, set[str]] = defaultdict(set)
    for word in words:
        prefix_index[word].add(word)
        for remainder in _STEM_REMAINDERS:
            if word.endswith(remainder) and len(word) - len(remainder) >= 4:
                prefix_index[word[: -len(remainder)]].add(word)
    return patterns, dict(prefix_index)


_PATTERNS, _PREFIX_INDEX = _compile()
# near spellings are tried only for stems this long, with this rapidfuzz ratio, as in
# replay.scoring.text.stems_match
_FUZZY_MIN_LENGTH = 7
_FUZZY_CUTOFF = 88
_LONG_WORDS: tuple[str, ...] = tuple(sorted(w for w in _PREFIX_INDEX if w in _PREFIX_INDEX[w] and len(w) >= 6))

# every pattern needs its first group, so only patterns whose first group a text names
# are tried; most statements name a handful of vocabulary words
_FIRST_GROUP_INDEX: dict[str, list[tuple[str, _Pattern]]] = defaultdict(list)
for _slug, _compiled in _PATTERNS.items():
    for _pattern in _compiled:
        for _word in _pattern[0]:
            _FIRST_GROUP_INDEX[_word].append((_slug, _pattern))


@lru_cache(maxsize=65536)
def _vocabulary_words(token_stem: str) -> frozenset[str]:
    found = set(_PREFIX_INDEX.get(token_stem, ()))
    for remainder in _STEM_REMAINDERS:
        shorter = token_stem[: -len(remainder)]
        if token_stem.endswith(remainder) and len(shorter) >= 4 and shorter in _PREFIX_INDEX.get(shorter, ()):
            found.add(shorter)
    if not found and len(token_stem) >= _FUZZY_MIN_LENGTH:
        # typos of long words: "certifcate", "exhuasted"
        for word, _, _ in process.extract(token_stem, _LONG_WORDS, scorer=fuzz.ratio,
                                          score_cutoff=_FUZZY_CUTOFF, limit=3):
            found.add(word)
    return frozenset(found)


def _positioned_vocabulary(text: str) -> dict[str, list[int]]:
    """Map each vocabulary word that the text names to its word positions."""
    positions: dict[str, list[int]] = defaultdict(list)
    for index, word in enumerate(split_words(text)):
        for vocabulary_word in _word_vocabulary(word):
            positions[vocabulary_word].append(index)
    return positions


@lru_cache(maxsize=65536)
def _word_vocabulary(word: str) -> tuple[str, ...]:
    found: set[str] = set()
    for token_stem in _word_vocabulary_stems(word):
        found.update(_vocabulary_words(token_stem))
    return tuple(sorted(found))


@lru_cache(maxsize=65536)
def _word_vocabulary_stems(word: str) -> tuple[str, ...]:
    """Stems of one word as mechanism vocabulary.

    Releases and mount points become a marker word. The parts of a service or host name
    ("inventory-svc", "orders-db", "payments-worker") are not vocabulary: the "svc" of a
    name says nothing about a service limit.
    """
    bare = word.strip("()[],;:'\"")
    if _VERSION.match(bare):
        return (_VERSION_WORD,)
    if _MOUNT_PATH.match(bare):
        return (_FILESYSTEM_WORD,)
    if _is_name(bare):
        return ()
    return tuple(stem(token) for token in tokenize(bare))


def _is_name(word: str) -> bool:
    lowered = word.lower()
    parts = [p for p in lowered.replace(".", "-").split("-") if p]
    if len(parts) < 2 or not all(p.isascii() and p.isalnum() for p in parts):
        return False
    return parts[-1] in _NAME_SUFFIXES or ("." in word and any(c.isdigit() for c in word))


@lru_cache(maxsize=16384)
def detect_mechanisms(text: str, masked: frozenset[int] = frozenset()) -> tuple[str, ...]:
    """Find the category slugs whose patterns match a text.

    Args:
        text: A root-cause statement, with negated spans already removed.
        masked: Word positions (see ``replay.scoring.text.word_stems``) that may not be
            the only evidence of a mechanism, typically the words of the component's
            name: "checkout-api autoscaler leaked memory" is a memory leak, while
            "payments-worker TLS certificate expired" is still a certificate expiry.

    Returns:
        Matching slugs, ordered by the word position of their first match.
    """
    positions = _positioned_vocabulary(text)
    for index in masked:
        positions[COMPONENT_WORD].append(index)
    if not positions:
        return ()

    best: dict[str, int] = {}
    candidates = {id(p): (slug, p) for word in positions for slug, p in _FIRST_GROUP_INDEX.get(word, ())}
    for slug, pattern in candidates.values():
        start = _match_pattern(pattern, positions, masked)
        if start is not None and start < best.get(slug, 10**9):
            best[slug] = start
    return tuple(slug for slug, _ in sorted(best.items(), key=lambda item: (item[1], item[0])))


def mechanism_spans(text: str) -> list[tuple[str, int]]:
    """List each slug found in each comma, "or" or "and" separated part of a text.

    Used to tell an enumeration of guesses ("pool exhaustion, disk full, a memory leak
    or DNS") from a narrative that touches several mechanisms in one clause.

    Returns:
        (slug, part index) pairs.
    """
    found: list[tuple[str, int]] = []
    for index, part in enumerate(_LIST_SEPARATOR.split(text)):
        found.extend((slug, index) for slug in detect_mechanisms(part))
    return found


def _match_pattern(pattern: _Pattern, positions: dict[str, list[int]], masked: frozenset[int]) -> int | None:
    group_positions: list[list[int]] = []
    for group in pattern:
        hits = sorted({p for word in group for p in positions.get(word, ())})
        if not hits:
            return None
        group_positions.append(hits)
    for anchor in group_positions[0]:
        chosen = [[p for p in hits if abs(p - anchor) <= WINDOW] for hits in group_positions[1:]]
        if not all(chosen):
            continue
        # at least one word of the match must lie outside the masked name
        if masked and anchor in masked and all(set(c) <= masked for c in chosen):
            continue
        return anchor
    return None


@lru_cache(maxsize=4096)
def resolve_category(category: str | None) -> tuple[str, ...]:
    """Map a label's category to vocabulary slugs.

    Args:
        category: A slug, a slug written with spaces or dashes, or free text.

    Returns:
        The slug itself when it is known, else the slugs detected in the free text
        (possibly none).
    """
    if not category or not category.strip():
        return ()
    slug = "_".join(tokenize(category))
    if slug in CATEGORY_PATTERNS:
        return (slug,)
    return detect_mechanisms(category.replace("_", " "))
