"""The execution plan: which (incident, book, repeat) triples a run executes.

The plan is produced lazily, so memory does not grow with repeats or books, and every
execution has a stable key that resume, retries and comparisons use.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from replay.errors import ConfigError
from replay.models import Incident

__all__ = ["PlannedExecution", "Shard", "execution_key", "parse_shard", "plan_executions", "select_incidents"]


@dataclass(frozen=True, slots=True)
class PlannedExecution:
    """One execution to run: the incident, the book and the repeat number (1-based)."""

    key: str
    incident: Incident
    book_name: str
    repeat: int


@dataclass(frozen=True, slots=True)
class Shard:
    """Part ``index`` (1-based) of ``count`` disjoint parts of a dataset."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def contains(self, incident_id: str) -> bool:
        """Tell whether the incident belongs to this shard; stable across runs and machines."""
        digest = hashlib.sha1(incident_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def parse_shard(text: str) -> Shard:
    """Parse ``I/N`` (1 <= I <= N), as given to ``--shard``."""
    try:
        index_text, count_text = text.split("/")
        shard = Shard(int(index_text), int(count_text))
    except ValueError:
        msg = f"--shard {text!r} is not of the form I/N. Pass for example --shard 1/4 for the first of four shards."
        raise ConfigError(msg) from None
    if shard.count < 1 or not 1 <= shard.index <= shard.count:
        msg = f"--shard {text!r} is out of range: I must be between 1 and N. Pass for example --shard 1/4."
        raise ConfigError(msg)
    return shard


def execution_key(incident_id: str, book_name: str, repeat: int) -> str:
    """Return the stable key of an execution: ``book/incident/repeat``."""
    return f"{book_name}/{incident_id}/{repeat}"


def select_incidents(
    incidents: Sequence[Incident],
    *,
    shard: Shard | None = None,
    sample: int | None = None,
    seed: int = 0,
    limit: int | None = None,
) -> list[Incident]:
    """Apply, in this order, the shard, a seeded random sample and a limit."""
    selected = [i for i in incidents if shard.contains(i.incident_id)] if shard else list(incidents)
    if sample is not None and sample < len(selected):
        # sample by position and keep the dataset's order, so the plan reads naturally
        positions = sorted(random.Random(seed).sample(range(len(selected)), sample))
        selected = [selected[p] for p in positions]
    if limit is not None:
        selected = selected[:limit]
    return selected


def plan_executions(
    incidents: Sequence[Incident], books: Sequence[str] | None, repeat: int = 1
) -> Iterator[PlannedExecution]:
    """Yield executions: each incident against each book (or its own book), ``repeat`` times."""
    for incident in incidents:
        incident_books = list(books) if books else [incident.book_name or ""]
        for book_name in incident_books:
            for number in range(1, repeat + 1):
                yield PlannedExecution(execution_key(incident.incident_id, book_name, number), incident, book_name, number)


def count_executions(incidents: Sequence[Incident], books: Sequence[str] | None, repeat: int = 1) -> int:
    """Return the number of executions ``plan_executions`` yields, without building them."""
    return len(incidents) * (len(books) if books else 1) * repeat
