"""Books file loading and the latency profile of a book."""

from __future__ import annotations

import statistics

import pytest

from replay.errors import ConfigError
from replay.simulator import default_books, load_books
from replay.simulator.answers import Answerer
from replay.simulator.world import World

GOOD = """
[[book]]
name = "perf-checks"
default_skill = 0.3
stability = 0.5
verbosity = "terse"
[book.latency]
median_s = 2.0
p99_s = 10.0
[book.skill]
cpu_saturation = 0.9
"""


def test_default_books() -> None:
    books = {book.name: book for book in default_books()}
    assert set(books) == {"incident-triage", "incident-triage-v2", "db-checks"}
    assert books["db-checks"].skill_for("lock_contention") > books["db-checks"].skill_for(None)
    better = [
        slug
        for slug, skill in books["incident-triage-v2"].skill.items()
        if skill > books["incident-triage"].skill_for(slug) + 0.1
    ]
    assert len(better) >= 4


def test_load_override(tmp_path) -> None:
    path = tmp_path / "books.toml"
    path.write_text(GOOD)
    (book,) = load_books(path)
    assert book.name == "perf-checks"
    assert book.skill_for("cpu_saturation") == 0.9
    assert book.skill_for("unknown") == 0.3
    assert book.verbosity == "terse"
    assert book.misses == {"partial": 0.45, "wrong": 0.35, "inconclusive": 0.2}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('verbosity = "terse"', 'verbosity = "loud"'), "verbosity='loud' is invalid"),
        (("default_skill = 0.3", "default_skill = 3"), "default_skill=3 is invalid"),
        (("p99_s = 10.0", "p99_s = 1.0"), "p99_s=1.0 is invalid"),
        (
            ("cpu_saturation = 0.9", 'cpu_saturation = "high"'),
            "skill.cpu_saturation='high' is invalid",
        ),
        (('name = "perf-checks"', 'name = ""'), "book #1: name='' is invalid"),
        (("[book.latency]", "[book.misses]\nlucky = 1\n[book.latency]"), "misses must be a table"),
    ],
)
def test_invalid_book_named(tmp_path, edit, message) -> None:
    path = tmp_path / "books.toml"
    path.write_text(GOOD.replace(*edit))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")) as caught:
        load_books(path)
    assert str(path) in str(caught.value)


def test_duplicate_names_rejected(tmp_path) -> None:
    path = tmp_path / "books.toml"
    path.write_text(GOOD + GOOD)
    with pytest.raises(ConfigError, match="'perf-checks' more than once"):
        load_books(path)


def test_missing_and_broken_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read books file"):
        load_books(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[book]\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_books(broken)
    empty = tmp_path / "empty.toml"
    empty.write_text("title = 'no books'\n")
    with pytest.raises(ConfigError, match="defines no books"):
        load_books(empty)


def test_latency_median_and_tail() -> None:
    book = next(book for book in default_books() if book.name == "incident-triage")
    answerer = Answerer(World([]), seed=3)
    samples = sorted(answerer.latency(book, f"INC-{i}", 0) for i in range(4000))
    assert statistics.median(samples) == pytest.approx(book.latency_median_s, rel=0.1)
    assert samples[int(0.99 * len(samples))] == pytest.approx(book.latency_p99_s, rel=0.25)
    assert min(samples) > 0
