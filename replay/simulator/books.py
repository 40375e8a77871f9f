"""Books of the simulator: skill per root-cause category, verbosity, latency and stability.

The file format is documented at the top of the bundled ``books.toml``. How a book's skill
turns into an answer lives in ``answers.py``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from replay.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Book", "Verbosity", "default_books", "load_books"]

Verbosity = Literal["terse", "normal", "verbose"]
_VERBOSITIES = ("terse", "normal", "verbose")
_MISS_KINDS = ("partial", "wrong", "inconclusive")
# z-score of the 99th percentile of a standard normal distribution
_Z_P99 = 2.3263


@dataclass(frozen=True, slots=True)
class Book:
    """One simulated playbook."""

    name: str
    default_skill: float = 0.5
    """Chance of a correct answer for a category without its own entry."""
    skill: Mapping[str, float] = field(default_factory=dict)
    """Chance of a correct answer per category slug."""
    stability: float = 0.9
    """Chance that a repeat returns the first answer again."""
    verbosity: Verbosity = "normal"
    latency_median_s: float = 6.0
    latency_p99_s: float = 30.0
    misses: Mapping[str, float] = field(
        default_factory=lambda: {"partial": 0.45, "wrong": 0.35, "inconclusive": 0.2}
    )
    """Weights of the kinds of wrong answers: partial, wrong, inconclusive."""
    description: str = ""

    def skill_for(self, category: str | None) -> float:
        """Return the chance of a correct answer for an incident of ``category``."""
        if category is not None and category in self.skill:
            return self.skill[category]
        return self.default_skill

    @property
    def latency_sigma(self) -> float:
        """Sigma of the lognormal latency whose median and p99 are the book's."""
        return math.log(self.latency_p99_s / self.latency_median_s) / _Z_P99


def default_books() -> tuple[Book, ...]:
    """Load the books bundled with the simulator."""
    source = resources.files("replay.simulator").joinpath("books.toml")
    return _parse_books(source.read_text(encoding="utf-8"), "replay/simulator/books.toml")


def load_books(path: str | Path) -> tuple[Book, ...]:
    """Load books from a TOML file in the format of the bundled ``books.toml``.

    Raises:
        ConfigError: The file is missing, is not TOML, or holds an invalid value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read books file {path}: {exc.strerror}; check the path") from exc
    return _parse_books(text, str(path))


def _parse_books(text: str, source: str) -> tuple[Book, ...]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"books file {source} is not valid TOML: {exc}") from exc
    tables = document.get("book")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(
            f"books file {source} defines no books: add at least one [[book]] table with a name"
        )
    books = [_parse_book(table, source, index) for index, table in enumerate(tables, start=1)]
    names = [book.name for book in books]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(
            f"books file {source} defines {duplicates[0]!r} more than once: rename one"
        )
    return tuple(books)


def _parse_book(table: Mapping[str, Any], source: str, index: int) -> Book:
    where = f"books file {source}, book #{index}"
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name={name!r} is invalid: give a non-empty string")
    where = f"books file {source}, book {name!r}"

    def fraction(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ConfigError(f"{where}: {key}={value!r} is invalid: expected a number from 0 to 1")
        return float(value)

    skills = table.get("skill", {})
    if not isinstance(skills, Mapping):
        raise ConfigError(f"{where}: skill must be a table of category = fraction")
    verbosity = table.get("verbosity", "normal")
    if verbosity not in _VERBOSITIES:
        raise ConfigError(f"{where}: verbosity={verbosity!r} is invalid: use one of {_VERBOSITIES}")

    latency = table.get("latency", {})
    median = latency.get("median_s", 6.0) if isinstance(latency, Mapping) else None
    p99 = latency.get("p99_s", 30.0) if isinstance(latency, Mapping) else None
    is_number = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (median, p99))
    if not is_number or not 0 < median <= p99:  # type: ignore[operator]
        raise ConfigError(
            f"{where}: latency median_s={median!r}, p99_s={p99!r} is invalid: "
            "expected numbers with 0 < median_s <= p99_s"
        )

    misses = table.get("misses", {"partial": 0.45, "wrong": 0.35, "inconclusive": 0.2})
    if not isinstance(misses, Mapping) or set(misses) - set(_MISS_KINDS):
        raise ConfigError(f"{where}: misses must be a table with keys among {_MISS_KINDS}")
    weights = {kind: fraction(f"misses.{kind}", misses.get(kind, 0.0)) for kind in _MISS_KINDS}
    if sum(weights.values()) <= 0:
        raise ConfigError(f"{where}: misses are all 0: give at least one kind a positive weight")

    return Book(
        name=name,
        default_skill=fraction("default_skill", table.get("default_skill", 0.5)),
        skill={str(key): fraction(f"skill.{key}", value) for key, value in skills.items()},
        stability=fraction("stability", table.get("stability", 0.9)),
        verbosity=verbosity,
        latency_median_s=float(median),  # type: ignore[arg-type]
        latency_p99_s=float(p99),  # type: ignore[arg-type]
        misses=weights,
        description=str(table.get("description", "")),
    )
