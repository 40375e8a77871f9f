"""Component matching: whether a root-cause statement names the label's failing component.

A label's component is often a phrase ("payments-worker TLS certificate", "orders-db
connection pool") that answers rarely repeat word for word. A statement names the
component when one of these rules holds, tried in order:

1. ``name``: the whole name or an alias occurs as a word sequence, also without a pod or
   replica hash (``checkout-api-7f9c`` -> ``checkout-api``) or a domain
   (``db-1.prod.internal`` -> ``db-1``).
2. ``distinctive``: every distinctive part of the name occurs. A part is distinctive
   unless it is a generic resource word (certificate, pool, cache, queue, quota, ...). A
   name whose distinctive parts are all plain words ("recommendation cache") also needs
   one of its resource words, so "orders" alone does not name "orders database".
3. ``words``: a name made only of resource words ("cloud provider API") is named when
   each of its words occurs, in any order.

The matched mention is returned as word positions, so that mechanism detection can
ignore the words of the name itself: "checkout-api autoscaler leaked memory" names the
autoscaler but not an autoscaling failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from replay.scoring.text import STOPWORDS, split_words, stem, tokenize, word_stems

__all__ = [
    "RESOURCE_WORDS",
    "ComponentMatch",
    "ComponentSpec",
    "component_spec",
    "component_variants",
    "find_component",
    "match_component",
]

# Generic names of resource kinds. A component part made of one of these names the kind of
# thing that failed, not which one.
RESOURCE_WORDS: frozenset[str] = frozenset(stem(w) for w in """
    agent api apis autoscaler backend balancer bucket cache cert certificate client cloud
    cluster config connection connections consumer container controller cron daemon
    database db disk dns endpoint feature fleet flag frontend gateway host hosts hpa index
    instance internal job lb link load namespace network node nodes pod pods pool primary
    process producer provider proxy queue replica resolver router schema server service
    ssl storage store stream switch table tier tls topic vm volume worker workers zone
    """.split())

# a sequence of mention words may sit this many words from a distinctive part and still
# belong to the same noun phrase ("the certificate for payments-worker")
_PHRASE_REACH = 2
_IDENTIFIER = re.compile(r"[A-Za-z0-9][-_./:][A-Za-z0-9]|\d|[a-z][A-Z]")


# compared by identity: specs come from the cache of component_spec, and hashing the nested
# tuples on every cached match_component call would cost more than the match
@dataclass(frozen=True, slots=True, eq=False)
class ComponentSpec:
    """The ways one label's component may be named.

    Attributes:
        variants: Stem sequences of the whole name and its aliases, longest first.
        distinctive: Stem sequences of the distinctive parts of the name.
        resource: Stems of the resource words of the name.
        has_identifier: A distinctive part looks like an identifier (hyphen, digit, dot,
            camelCase), which is specific enough on its own.
    """

    variants: tuple[tuple[str, ...], ...]
    distinctive: tuple[tuple[str, ...], ...]
    resource: frozenset[str]
    has_identifier: bool

    @property
    def is_empty(self) -> bool:
        """True when the label gave no usable name."""
        return not self.variants


@dataclass(frozen=True, slots=True)
class ComponentMatch:
    """Where and how a statement named the component.

    Attributes:
        rule: ``name``, ``distinctive`` or ``words`` (see the module docstring).
        text: The matched name, as stems joined by ``-``.
        positions: Word positions of the mention, used to mask it from mechanism detection.
    """

    rule: str
    text: str
    positions: frozenset[int]


@lru_cache(maxsize=4096)
def component_spec(component: str | None, aliases: tuple[str, ...] = ()) -> ComponentSpec:
    """Describe how a label's component may be named.

    Args:
        component: The label's component, or None.
        aliases: Further names of the same component.

    Returns:
        The spec; ``is_empty`` when neither gives a usable name.
    """
    variants = component_variants(component, aliases) if component and component.strip() else ()
    distinctive: list[tuple[str, ...]] = []
    resource: set[str] = set()
    has_identifier = False
    for part in (component or "").split():
        stems = [stem(t) for t in tokenize(part) if t not in STOPWORDS]
        if not stems:
            continue
        if len(stems) == 1 and stems[0] in RESOURCE_WORDS and not _IDENTIFIER.search(part):
            resource.add(stems[0])
            continue
        # a hashed or dotted part is matched without its hash and domain, as in rule 1
        distinctive.append(min(component_variants(part), key=len))
        has_identifier = has_identifier or bool(_IDENTIFIER.search(part))
    return ComponentSpec(variants, tuple(distinctive), frozenset(resource), has_identifier)


@lru_cache(maxsize=16384)
def match_component(text: str, spec: ComponentSpec) -> ComponentMatch | None:
    """Find the component of ``spec`` in a statement.

    Args:
        text: A root-cause statement, with negated spans already removed.
        spec: Output of ``component_spec``.

    Returns:
        The match, or None when the statement does not name the component.
    """
    if spec.is_empty:
        return None
    pairs = word_stems(text)
    stems = [s for _, s in pairs]
    words = [w for w, _ in pairs]

    # rule 1: the whole name; every occurrence is masked, not only the first
    for variant in spec.variants:
        starts = _sequence_starts(stems, variant)
        if starts:
            positions = {words[i + k] for i in starts for k in range(len(variant))}
            return ComponentMatch("name", "-".join(variant), frozenset(positions))
    joined = _joined_match(text, spec.variants)
    if joined is not None:
        return joined

    # rule 2: every distinctive part, plus a resource word unless a part is an identifier
    if spec.distinctive:
        found: set[int] = set()
        for part in spec.distinctive:
            starts = _sequence_starts(stems, part)
            if not starts:
                return None
            found.update(words[i + k] for i in starts for k in range(len(part)))
        resource_at = {words[i] for i, s in enumerate(stems) if s in spec.resource}
        near = {p for p in resource_at if any(abs(p - f) <= _PHRASE_REACH for f in found)}
        if not spec.has_identifier and spec.resource and not resource_at:
            return None
        name = "-".join("-".join(part) for part in spec.distinctive)
        return ComponentMatch("distinctive", name, frozenset(found | near))

    # rule 3: a name made only of resource words
    if spec.resource and spec.resource <= set(stems):
        positions = frozenset(words[i] for i, s in enumerate(stems) if s in spec.resource)
        return ComponentMatch("words", "-".join(sorted(spec.resource)), positions)
    return None


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


def find_component(text: str, variants: Sequence[tuple[str, ...]]) -> tuple[str, ...] | None:
    """Find the first variant whose token sequence occurs in a text (rule 1 only).

    Args:
        text: A root-cause statement, with negated spans already removed.
        variants: Output of ``component_variants``.

    Returns:
        The matching variant, or None.
    """
    stems = [s for _, s in word_stems(text)]
    for variant in variants:
        if _sequence_starts(stems, variant):
            return variant
    match = _joined_match(text, tuple(variants))
    return tuple(match.text.split("-")) if match else None


def _looks_like_hash(token: str) -> bool:
    """Pod template hashes and replica ids mix letters and digits: 7f9c, x2lq9, 5d8b6c."""
    return 4 <= len(token) <= 10 and any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _sequence_starts(stems: Sequence[str], sequence: tuple[str, ...]) -> list[int]:
    n = len(sequence)
    if n == 0:
        return []
    first = sequence[0]
    return [i for i in range(len(stems) - n + 1)
            if stems[i] == first and tuple(stems[i : i + n]) == sequence]


def _joined_match(text: str, variants: tuple[tuple[str, ...], ...]) -> ComponentMatch | None:
    # names written as one word or split differently: "CoreDNS" vs "coredns", "orders db"
    # vs "ordersdb"; compared on raw tokens joined without separators
    squashed = "".join(tokenize(text))
    keys = ["".join(v) for v in variants]
    # a stem is a prefix of its word, so a name absent from the squashed text cannot match
    if not any(len(key) >= 4 and key[:4] in squashed for key in keys):
        return None
    pairs = [(w, t) for w, word in enumerate(split_words(text)) for t in tokenize(word)]
    joined: dict[str, set[int]] = {}
    for k in (1, 2, 3):
        for i in range(len(pairs) - k + 1):
            window = pairs[i : i + k]
            key = stem("".join(t for _, t in window))
            joined.setdefault(key, set()).update(w for w, _ in window)
    for variant in variants:
        key = "".join(variant)
        if len(key) >= 4 and key in joined:
            return ComponentMatch("name", "-".join(variant), frozenset(joined[key]))
    return None
