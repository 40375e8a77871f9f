"""Answers of simulated books: which kind of answer a call gets and the response it becomes.

Every choice comes from a random generator seeded with (seed, book, incident, variant), so
the same seed gives the same answers. HTTP handling and faults live in ``app.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from replay.simulator.books import Book
from replay.simulator.phrases import MECHANISMS, MITIGATIONS, STOCK_COMPONENTS, SYNONYMS
from replay.simulator.world import World, WorldIncident

__all__ = ["Answer", "AnswerKind", "Answerer", "expected_accuracy", "seeded_random"]

AnswerKind = Literal["correct", "partial", "wrong", "inconclusive"]

# Share of calls whose correct-or-not draw is shared by all books for one incident, so that
# two versions of a book agree on most incidents, as real versions do, yet still disagree.
_SHARED_DRAW = 0.6
_FALLBACK_COMPONENT = "the affected service"
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WORD = re.compile(r"[A-Za-z]+")
_OUTLIERS = ("one region", "all regions", "a single pod")


def seeded_random(*parts: object) -> random.Random:
    """Return a generator seeded from ``parts``, stable across processes and Python versions."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def expected_accuracy(world: World, book: Book) -> float:
    """Return the share of correct answers ``book`` gives over ``world`` in expectation."""
    if not len(world):
        return 0.0
    return sum(book.skill_for(item.category) for item in world.incidents) / len(world)


@dataclass(frozen=True, slots=True)
class Answer:
    """A book's answer to one call for one incident."""

    kind: AnswerKind
    body: dict[str, Any]
    """The ``PlaybookExecutionResult`` JSON object."""
    latency_s: float
    """Simulated service time before scaling, in seconds."""
    call: int
    """0 for the first call of this book for this incident, then 1, 2, ..."""


class Answerer:
    """Decide and compose the answers of the books for the incidents of a world.

    Args:
        world: The incidents.
        seed: Seed of every choice.
    """

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self._calls: Counter[tuple[str, str]] = Counter()
        self._components = world.components() or list(STOCK_COMPONENTS)

    def answer(self, book: Book, item: WorldIncident) -> Answer:
        """Return the next answer of ``book`` for ``item``, advancing its call counter."""
        key = (book.name, item.incident_id)
        call = self._calls[key]
        self._calls[key] += 1

        # a repeat returns the first answer unless the book's stability says otherwise
        variant = 0
        if call > 0 and seeded_random(self.seed, "repeat", *key, call).random() >= book.stability:
            variant = call

        kind = self.decide(book, item, variant)
        body = self.compose(book, item, kind, variant)
        return Answer(
            kind=kind, body=body, latency_s=self.latency(book, item.incident_id, call), call=call
        )

    def decide(self, book: Book, item: WorldIncident, variant: int) -> AnswerKind:
        """Return the kind of answer for one variant, from the book's skill for the category."""
        shared = seeded_random(self.seed, "kind", item.incident_id, variant).random()
        own = seeded_random(self.seed, "kind", book.name, item.incident_id, variant).random()
        use_shared = seeded_random(
            self.seed, "share", book.name, item.incident_id, variant
        ).random()
        draw = shared if use_shared < _SHARED_DRAW else own
        if draw < book.skill_for(item.category):
            return "correct"
        rng = seeded_random(self.seed, "miss", book.name, item.incident_id, variant)
        kinds = list(book.misses)
        chosen: AnswerKind = rng.choices(kinds, weights=[book.misses[k] for k in kinds])[0]  # type: ignore[assignment]
        return chosen

    def latency(self, book: Book, incident_id: str, call: int) -> float:
        """Return a lognormal service time with the book's median and p99, in seconds."""
        rng = seeded_random(self.seed, "latency", book.name, incident_id, call)
        return book.latency_median_s * math.exp(book.latency_sigma * rng.gauss(0.0, 1.0))

    def compose(
        self, book: Book, item: WorldIncident, kind: AnswerKind, variant: int
    ) -> dict[str, Any]:
        """Build the response object of one answer."""
        rng = seeded_random(self.seed, "text", book.name, item.incident_id, variant)
        component = item.component or _FALLBACK_COMPONENT
        category = item.category

        if kind == "correct":
            statement = paraphrase_root_cause(item, rng)
        elif kind == "partial":
            statement, category, component = self._partial(item, rng)
        elif kind == "wrong":
            statement, category, component = self._wrong(item, rng)
        else:
            statement = ""

        highlights = _highlights(kind, statement, category, component, item, book, rng)
        return _decorate({"highlights": highlights}, book, component, item.incident.time, rng)

    def no_anomaly(
        self, book: Book, title: str | None, time: dt.datetime | None, call: int
    ) -> dict[str, Any]:
        """Build the answer to a request that matches no incident of the world."""
        rng = seeded_random(self.seed, "unmatched", book.name, title, time, call)
        when = _clock(time) if time else "the requested time"
        about = f' for "{title}"' if title else ""
        highlights = (
            f"No anomaly found{about}: metrics, logs and traces around {when} stay within their "
            "usual range. Immediate action: none; check whether the alert threshold is too tight."
        )
        return _decorate({"highlights": highlights}, book, _FALLBACK_COMPONENT, time, rng)

    def _partial(self, item: WorldIncident, rng: random.Random) -> tuple[str, str | None, str]:
        true_category = item.category if item.category in MECHANISMS else None
        other_categories = [slug for slug in MECHANISMS if slug and slug != item.category]
        if item.component and (true_category is None or rng.random() < 0.5):
            # right component, wrong mechanism
            category = rng.choice(other_categories)
            return _mechanism(category, item.component, rng), category, item.component
        if true_category:
            # right mechanism, wrong component
            component = self._other_component(item.component, rng)
            return _mechanism(true_category, component, rng), true_category, component
        # neither is known: half of the true story plus a wrong mechanism
        words = _clean(item.root_cause).split()
        head = " ".join(words[: max(3, len(words) // 2)])
        category = rng.choice(other_categories)
        return (
            f"{head}, made worse because {_mechanism(category, _FALLBACK_COMPONENT, rng)}",
            category,
            _FALLBACK_COMPONENT,
        )

    def _wrong(self, item: WorldIncident, rng: random.Random) -> tuple[str, str | None, str]:
        neighbour = self.world.neighbour(item, rng)
        if neighbour is not None:
            component = neighbour.component or _FALLBACK_COMPONENT
            return paraphrase_root_cause(neighbour, rng), neighbour.category, component
        category = rng.choice([slug for slug in MECHANISMS if slug and slug != item.category])
        component = self._other_component(item.component, rng)
        return _mechanism(category, component, rng), category, component

    def _other_component(self, component: str | None, rng: random.Random) -> str:
        choices = [name for name in self._components if name != component]
        choices = choices or [name for name in STOCK_COMPONENTS if name != component]
        return rng.choice(choices)


def paraphrase_root_cause(item: WorldIncident, rng: random.Random) -> str:
    """Restate an incident's labeled root cause in other words.

    Either rewrites the label text with synonyms, or phrases the category's mechanism with
    the component and keywords. The result never equals the label, ignoring case, spacing
    and punctuation, so string equality never scores it as correct.
    """
    label = item.incident.label
    text = _clean(label.root_cause)
    protected = {
        word.lower() for word in _WORD.findall(" ".join((item.component or "", *label.keywords)))
    }

    if item.category in MECHANISMS and item.category and item.component and rng.random() < 0.4:
        statement = _mechanism(item.category, item.component, rng)
        if label.keywords:
            statement += f" ({', '.join(label.keywords[:3])})"
    else:
        statement = _swap_synonyms(text, protected, rng)

    if _normalise(statement) == _normalise(label.root_cause):
        component = item.component or _FALLBACK_COMPONENT
        statement = f"{statement}, as the telemetry of {component} shows"
    return statement


def _swap_synonyms(text: str, protected: set[str], rng: random.Random) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = SYNONYMS.get(word.lower())
        if options is None or word.lower() in protected or rng.random() < 0.4:
            return word
        return rng.choice(options)

    return _WORD.sub(swap, text)


def _mechanism(category: str, component: str, rng: random.Random) -> str:
    return rng.choice(MECHANISMS.get(category, MECHANISMS[""])).format(c=component)


def _clean(text: str) -> str:
    # Keep the first two sentences of long postmortem summaries, without markdown links.
    text = _MARKDOWN_LINK.sub(r"\1", text).strip().lstrip(",. ").strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    text = " ".join(sentences[:2])
    if len(text) > 300:
        text = text[:300].rsplit(" ", 1)[0]
    return text.rstrip(" .")


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _clock(time: dt.datetime) -> str:
    return time.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _highlights(
    kind: AnswerKind,
    statement: str,
    category: str | None,
    component: str,
    item: WorldIncident,
    book: Book,
    rng: random.Random,
) -> str:
    signal = rng.choice(("error rate", "p99 latency", "5xx count", "timeout count", "saturation"))
    lead = rng.randint(2, 25)
    if kind == "inconclusive":
        opening = rng.choice(
            (
                "No conclusive root cause: the checks found no signal that explains the alert.",
                "Root cause: inconclusive; none of the checks isolated a single cause.",
                "No conclusive root cause found in the available telemetry.",
            )
        )
        support = (
            f"The {signal} of {component} moved, but no change or dependency lines up with it."
        )
        action = f"Escalate to the owners of {component} with the collected evidence."
        return f"{opening} {support} Immediate action: {action}"

    support = (
        f"The {signal} of {component} rose {lead} minutes before the alert and correlates with it."
    )
    if book.verbosity == "verbose":
        support += f" {rng.randint(3, 6)} of {rng.randint(6, 9)} checks point the same way."
    elif book.verbosity == "terse":
        support = ""
    action = MITIGATIONS.get(category or "", MITIGATIONS[""]).format(c=component)
    if statement and not statement.startswith(component):
        statement = statement[0].upper() + statement[1:]
    parts = [f"Root cause: {statement}.", support, f"Immediate action: {action}"]
    return " ".join(part for part in parts if part)


def _decorate(
    body: dict[str, Any], book: Book, component: str, time: dt.datetime | None, rng: random.Random
) -> dict[str, Any]:
    # Add actionResults, gadgetsHighlights and actionableMitigations, more of them when verbose.
    slug = quote(re.sub(r"\s+", "-", component.lower()), safe="-")
    epoch_ms = int(time.timestamp() * 1000) if time else 0
    window = (
        f"from={epoch_ms - 1_800_000}&to={epoch_ms + 1_800_000}" if time else "from=now-1h&to=now"
    )
    checks = [
        (
            "Check error rate",
            f"Error rate of {component} peaked at {rng.randint(3, 60)}%",
            f"https://grafana.example.com/d/{slug}/overview?{window}",
        ),
        (
            "Search logs",
            f"{rng.randint(20, 5000)} matching log lines for {component}",
            f"https://kibana.example.com/app/discover#/?query=service:{slug}",
        ),
        (
            "Inspect traces",
            f"p99 latency of {component} was {rng.randint(200, 9000)} ms",
            f"https://jaeger.example.com/search?service={slug}",
        ),
        (
            "Review recent changes",
            f"{rng.randint(0, 4)} changes to {component} in the last 2 hours",
            f"https://ci.example.com/deploys?service={slug}",
        ),
        (
            "Check provider status",
            "No provider incident open at that time",
            "http://status.example.com/history",
        ),
    ]
    count = {"terse": 1, "normal": rng.randint(2, 3), "verbose": rng.randint(3, 4)}[book.verbosity]
    body["actionResults"] = [
        {"title": title, "shortAnswer": answer, "mostImportantLink": link}
        for title, answer, link in rng.sample(checks, count)
    ]

    gadget_count = {"terse": 0, "normal": 1, "verbose": 2}[book.verbosity]
    if gadget_count or rng.random() < 0.5:
        body["gadgetsHighlights"] = [
            {
                "title": title,
                "args": {"service": component, "window": rng.choice(("30m", "1h", "3h"))},
                "highlights": f"{title} of {component}: {rng.choice(_OUTLIERS)} stands out.",
            }
            for title in rng.sample(
                ("Latency by region", "Errors by endpoint", "Saturation by pod"), gadget_count
            )
        ]

    mitigations = [
        {
            "toolName": "kubectl",
            "customName": f"Roll back {component}",
            "url": f"https://argocd.example.com/applications/{slug}",
            "action": {"type": "rollback", "target": component},
        },
        {
            "toolName": "pagerduty",
            "url": "https://example.pagerduty.com/incidents",
            "action": {"type": "escalate", "service": component},
        },
        {
            "toolName": "feature-flags",
            "customName": "Disable recent flags",
            "url": f"https://flags.example.com/projects/{slug}",
        },
    ]
    mitigation_count = {"terse": rng.randint(0, 1), "normal": 1, "verbose": 2}[book.verbosity]
    if mitigation_count:
        body["actionableMitigations"] = rng.sample(mitigations, mitigation_count)
    return body
