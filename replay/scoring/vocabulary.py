"""Failure-mechanism vocabulary and component matching used by the element scorer.

Each category slug has patterns. A pattern is a list of term groups separated by spaces;
a group lists alternative words separated by ``|``. A pattern matches when every group
matches a word within a window of ``WINDOW`` tokens, in any order. Words are compared as
stems (see ``replay.scoring.text``), so ``exhausted`` matches ``exhaust``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from replay.scoring.text import stem, tokenize

__all__ = [
    "CATEGORY_PATTERNS",
    "CATEGORY_SLUGS",
    "WINDOW",
    "component_variants",
    "detect_mechanisms",
    "find_component",
    "resolve_category",
]

# tokens between the first and last word of a pattern; wider windows join unrelated clauses
WINDOW = 10

CATEGORY_PATTERNS: dict[str, tuple[str, ...]] = {
    "connection_pool_exhaustion": (
        "pool exhaust|saturat|deplet|starv|full|maxed|max|exceed|limit|leak|contention|timeout",
        "connection exhaust|deplet|starv|maxed|leak|limit|out",
        "too many connection",
        "max connection",
    ),
    "bad_deploy": (
        "bad|faulty|broken|buggy|defective|regression deploy|release|version|build|commit",
        "deploy|release|version|build|commit bug|regress|crash|broke|break|introduc|defect|"
        "null|exception|panic",
        "regression",
        "deploy roll|rolled|revert",
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
        "name resolut|resolv fail|error|timeout",
        "coredns",
    ),
    "disk_full": (
        "disk|volume|filesystem|partition|inode|storage full|exhaust|fill|capacity|space|100",
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
        "upstream|downstream|dependency|third|vendor|provider|external|partner|saas outag|down|"
        "unavailabl|fail|degrad|error|timeout|unreachabl|incident|unhealthy",
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
        "router|switch|bgp fail|crash|withdraw|withdrew|misconfig|flap|offline",
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
        "consumer lag|slow|stuck|behind|fell|fall",
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
    ),
    "schema_migration": (
        "schema migrat|chang|lock|alter",
        "migrat lock|table|fail|alter|column|database|ddl",
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


def _compile() -> tuple[dict[str, list[_Pattern]], dict[str, set[str]]]:
    patterns: dict[str, list[_Pattern]] = {}
    words: set[str] = set()
    for slug, texts in CATEGORY_PATTERNS.items():
        compiled: list[_Pattern] = []
        for text in texts:
            groups = tuple(frozenset(stem(w) for w in group.split("|")) for group in text.split())
            compiled.append(groups)
            for group in groups:
                words.update(group)
        patterns[slug] = compiled
    # a token stem also matches a vocabulary word that it is a prefix of (within 3 letters)
    prefix_index: dict[str, set[str]] = defaultdict(set)
    for word in words:
        prefix_index[word].add(word)
        for cut in range(max(4, len(word) - 3), len(word)):
            prefix_index[word[:cut]].add(word)
    return patterns, dict(prefix_index)


_PATTERNS, _PREFIX_INDEX = _compile()

# every pattern needs its first group, so only patterns whose first group a text names
# are tried; most statements name a handful of vocabulary words
_FIRST_GROUP_INDEX: dict[str, list[tuple[str, _Pattern]]] = defaultdict(list)
for _slug, _compiled in _PATTERNS.items():
    for _pattern in _compiled:
        for _word in _pattern[0]:
            _FIRST_GROUP_INDEX[_word].append((_slug, _pattern))


def _vocabulary_words(token_stem: str) -> set[str]:
    found = set(_PREFIX_INDEX.get(token_stem, ()))
    for cut in range(max(4, len(token_stem) - 3), len(token_stem)):
        if token_stem[:cut] in _PREFIX_INDEX and token_stem[:cut] in _PREFIX_INDEX[token_stem[:cut]]:
            found.add(token_stem[:cut])
    return found


def _stems_of(text: str) -> list[str]:
    stems: list[str] = []
    for token in tokenize(text.replace("_", " ")):
        stems.append(stem(token))
    # "max_connections" is also one word in some labels
    return stems


@lru_cache(maxsize=16384)
def detect_mechanisms(text: str) -> tuple[str, ...]:
    """Find the category slugs whose patterns match a text.

    Args:
        text: A root-cause statement, with negated spans already removed.

    Returns:
        Matching slugs, ordered by the position of their first match.
    """
    positions: dict[str, list[int]] = defaultdict(list)
    for index, token_stem in enumerate(_stems_of(text)):
        for word in _vocabulary_words(token_stem):
            positions[word].append(index)
    if not positions:
        return ()

    best: dict[str, int] = {}
    candidates = {id(p): (slug, p) for word in positions for slug, p in _FIRST_GROUP_INDEX.get(word, ())}
    for slug, pattern in candidates.values():
        start = _match_pattern(pattern, positions)
        if start is not None and start < best.get(slug, len(positions) + 10**9):
            best[slug] = start
    return tuple(slug for slug, _ in sorted(best.items(), key=lambda item: (item[1], item[0])))


def _match_pattern(pattern: _Pattern, positions: dict[str, list[int]]) -> int | None:
    group_positions: list[list[int]] = []
    for group in pattern:
        hits = sorted({p for word in group for p in positions.get(word, ())})
        if not hits:
            return None
        group_positions.append(hits)
    for anchor in group_positions[0]:
        if all(any(abs(p - anchor) <= WINDOW for p in hits) for hits in group_positions[1:]):
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


@lru_cache(maxsize=4096)
def component_variants(component: str, aliases: tuple[str, ...] = ()) -> tuple[tuple[str, ...], ...]:
    """Build the token sequences under which a component may be named.

    A name is also tried without a trailing pod or replica hash (``checkout-api-7f9c`` ->
    ``checkout-api``) and without a domain (``db-1.prod.internal`` -> ``db-1``).

    Args:
        component: The label's component.
        aliases: Further names of the same component.

    Returns:
        Distinct stem sequences, longest first.
    """
    variants: set[tuple[str, ...]] = set()
    for name in (component, *aliases):
        if not name or not name.strip():
            continue
        for candidate in (name, name.split(".")[0]):
            tokens = [stem(t) for t in tokenize(candidate)]
            while len(tokens) > 1 and _looks_like_hash(tokens[-1]):
                variants.add(tuple(tokens))
                tokens = tokens[:-1]
            if tokens:
                variants.add(tuple(tokens))
    return tuple(sorted(variants, key=len, reverse=True))


def _looks_like_hash(token: str) -> bool:
    """Pod template hashes and replica ids mix letters and digits: 7f9c, x2lq9, 5d8b6c."""
    return 4 <= len(token) <= 10 and any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def find_component(text: str, variants: Sequence[tuple[str, ...]]) -> tuple[str, ...] | None:
    """Find the first variant whose token sequence occurs in a text.

    Args:
        text: A root-cause statement, with negated spans already removed.
        variants: Output of ``component_variants``.

    Returns:
        The matching variant, or None.
    """
    stems = [stem(t) for t in tokenize(text)]
    for variant in variants:
        if _contains_sequence(stems, variant):
            return variant
    # names written as one word or split differently: "CoreDNS" vs "coredns", "orders db"
    # vs "ordersdb"; compared on raw tokens joined without separators
    raw = tokenize(text)
    joined = {"".join(raw[i : i + k]) for k in (1, 2, 3) for i in range(len(raw) - k + 1)}
    for variant in variants:
        if len("".join(variant)) >= 4 and "".join(variant) in {stem(j) for j in joined}:
            return variant
    return None


def _contains_sequence(stems: Sequence[str], sequence: Iterable[str]) -> bool:
    seq = tuple(sequence)
    n = len(seq)
    if n == 0:
        return False
    first = seq[0]
    for i in range(len(stems) - n + 1):
        if stems[i] == first and tuple(stems[i : i + n]) == seq:
            return True
    return False
