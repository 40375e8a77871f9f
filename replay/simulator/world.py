"""The simulator's world: the labeled incidents it knows and how requests are matched to them.

A request is matched by a fingerprint over exactly what the client sends for an incident:
``time`` (parsed, converted to UTC, truncated to whole seconds), ``title``, ``details`` and
``attributes``. Answers are composed in ``answers.py``, not here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from replay.models import Incident
from replay.simulator.phrases import derive_category, derive_component

__all__ = ["World", "WorldIncident", "fingerprint_incident", "fingerprint_request"]

logger = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _time_key(time: dt.datetime | None) -> str:
    if time is None:
        return ""
    # The client may or may not send fractions of a second, so both sides drop them.
    utc = time.astimezone(dt.timezone.utc).replace(microsecond=0)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint_request(
    time: dt.datetime | None,
    title: str | None,
    details: str | None,
    attributes: Mapping[str, str] | None,
) -> str:
    """Return the fingerprint of a request's incident context (hex SHA-256).

    Missing and empty values are equal, so a client that omits ``"attributes": {}`` still
    matches. ``time`` must be timezone-aware.
    """
    key = [_time_key(time), title or "", details or "", sorted((attributes or {}).items())]
    encoded = json.dumps(key, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def fingerprint_incident(incident: Incident) -> str:
    """Return the fingerprint of the request a client builds from ``incident``."""
    return fingerprint_request(incident.time, incident.title, incident.details, incident.attributes)


@dataclass(frozen=True, slots=True)
class WorldIncident:
    """An incident with what the simulator derived from it."""

    incident: Incident
    fingerprint: str
    category: str | None
    """The label's category, or one read from the category and root-cause text."""
    component: str | None
    """The label's component, or one named in the root-cause text or attributes."""

    @property
    def incident_id(self) -> str:
        """The incident's id."""
        return self.incident.incident_id

    @property
    def root_cause(self) -> str:
        """The labeled root cause text."""
        return self.incident.label.root_cause


class World:
    """The incidents the simulator answers for, indexed by request fingerprint.

    Args:
        incidents: The world's incidents, in any order.
    """

    def __init__(self, incidents: Iterable[WorldIncident]) -> None:
        # Ordered by time so that "neighbouring incident" means close in time.
        self.incidents: tuple[WorldIncident, ...] = tuple(
            sorted(incidents, key=lambda item: (_sort_time(item.incident), item.incident_id))
        )
        self._by_fingerprint: dict[str, list[WorldIncident]] = {}
        for item in self.incidents:
            self._by_fingerprint.setdefault(item.fingerprint, []).append(item)
        self._position = {item.incident_id: index for index, item in enumerate(self.incidents)}
        collisions = sum(len(group) - 1 for group in self._by_fingerprint.values())
        if collisions:
            logger.warning(
                "%d incidents share a request fingerprint with another one; "
                "their requests are told apart by messageLink only",
                collisions,
            )

    @classmethod
    def from_incidents(cls, incidents: Iterable[Incident]) -> World:
        """Build a world from validated incidents."""
        items = []
        for incident in incidents:
            label = incident.label
            items.append(
                WorldIncident(
                    incident=incident,
                    fingerprint=fingerprint_incident(incident),
                    category=derive_category(label.category, label.root_cause),
                    component=derive_component(
                        label.component, label.root_cause, incident.attributes
                    ),
                )
            )
        return cls(items)

    @classmethod
    def from_dataset(cls, path: str | Path) -> World:
        """Load a dataset file and build a world from its valid rows.

        Partial dates (year or month only) are accepted, as the sample of public
        postmortems has many of them.

        Raises:
            DatasetError: The file is missing, unreadable or lacks required columns.
        """
        # Imported here so that the app imports without the dataset loader's dependencies.
        from replay.datasets import load_incidents

        loaded = load_incidents(path, allow_partial_dates=True)
        if loaded.invalid_rows:
            logger.warning(
                "world %s: skipped %d invalid rows; the simulator will not recognise them",
                path,
                len(loaded.invalid_rows),
            )
        world = cls.from_incidents(loaded.incidents)
        logger.info("world %s: %d incidents", path, len(world))
        return world

    def __len__(self) -> int:
        return len(self.incidents)

    def match(self, fingerprint: str, message_link: str | None = None) -> WorldIncident | None:
        """Return the incident a request refers to, or None when none matches."""
        group = self._by_fingerprint.get(fingerprint)
        if not group:
            return None
        for item in group:
            if item.incident.message_link == message_link:
                return item
        return group[0]

    def neighbour(self, item: WorldIncident, rng: random.Random) -> WorldIncident | None:
        """Pick an incident close in time whose root cause differs from ``item``'s, if any.

        Up to three incidents on each side are candidates, widening to the whole world
        when none of them has another root cause.
        """
        index = self._position.get(item.incident_id)
        if index is None:
            return None

        def differs(other: WorldIncident) -> bool:
            return other.root_cause.strip().lower() != item.root_cause.strip().lower()

        low, high = max(0, index - 3), min(len(self.incidents), index + 4)
        nearby = [other for other in self.incidents[low:high] if differs(other)]
        if nearby:
            return rng.choice(nearby)
        anywhere = [other for other in self.incidents if differs(other)]
        return rng.choice(anywhere) if anywhere else None

    def components(self) -> list[str]:
        """Return the distinct components of the world, sorted."""
        return sorted({item.component for item in self.incidents if item.component})


def _sort_time_value(time: dt.datetime) -> float:
    return (time - _EPOCH).total_seconds()


def _sort_time(incident: Incident) -> float:
    # Incidents without a time sort last, in id order.
    return _sort_time_value(incident.time) if incident.time is not None else float("inf")
