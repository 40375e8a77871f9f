"""Extraction of the root-cause statement and its hypotheses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.scoring.extract import (
    _HEDGE_SPLIT,
    _INCONCLUSIVE,
    _may_be_inconclusive,
    _may_hedge,
    extract_root_cause,
)
from replay.scoring.text import _BACKWARD_CUES, _FORWARD_CUES, _NEGATION_HINTS

API_EXAMPLE = (
    "Root cause: Database connection pool exhaustion. The CPU spike correlates with increased "
    "database queries from the application layer. Immediate action: Scale database connection "
    "pool from 20 to 50 connections."
)


def test_api_example_statement():
    extraction = extract_root_cause(API_EXAMPLE)
    assert extraction.statement == "Database connection pool exhaustion."
    assert extraction.hypotheses == ("Database connection pool exhaustion",)
    assert extraction.has_marker


def test_evidence_not_in_statement():
    text = "Root cause: bad deploy of cart. Evidence: we ruled out disk full, DNS and memory leak."
    extraction = extract_root_cause(text)
    assert "disk" not in extraction.statement
    assert extraction.hypotheses == ("bad deploy of cart",)


def test_no_marker_first_sentence():
    extraction = extract_root_cause("Redis was flushed. Then the database melted.")
    assert extraction.statement == "Redis was flushed."
    assert not extraction.has_marker


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Root cause: Most likely X failed; alternatively Y failed.", ("X failed", "Y failed")),
        ("Root cause: Probably a DNS failure, or possibly an expired certificate.",
         ("a DNS failure", "an expired certificate")),
        ("Root cause: (1) lock contention (2) schema migration", ("lock contention", "schema migration")),
        ("Root cause: disk full on db-1. Alternatively, a memory leak. Immediate action: clean up.",
         ("disk full on db-1", "a memory leak")),
        ("Root cause: queue backlog; less likely: consumer crash.", ("queue backlog", "consumer crash")),
    ],
)
def test_hedge_order_kept(text, expected):
    assert extract_root_cause(text).hypotheses == expected


def test_semicolon_elaboration_not_split():
    extraction = extract_root_cause("Root cause: pool exhausted; the pool size of 20 was too small.")
    assert len(extraction.hypotheses) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Root cause: latency of 1.5 s on db-1.prod.internal from disk full, e.g. WAL growth.",
        "Root cause: v2.3.1 release broke pricing",
    ],
)
def test_decimals_do_not_end_statement(text):
    statement = extract_root_cause(text).statement
    assert statement.rstrip(".").endswith(("growth", "pricing"))


@pytest.mark.parametrize("text", [None, "", "   \n  "])
def test_empty_highlights(text):
    extraction = extract_root_cause(text)
    assert extraction.is_empty
    assert not extraction.is_answer


@pytest.mark.parametrize(
    "text",
    [
        "Root cause: No conclusive root cause found.",
        "Investigation inconclusive.",
        "No anomaly found in the requested window.",
        "Root cause: unknown",
        "Root cause: Unable to determine the cause from the available data.",
        "We could not identify a root cause.",
        "Root cause: insufficient data for this window.",
    ],
)
def test_inconclusive_detected(text):
    extraction = extract_root_cause(text)
    assert extraction.is_inconclusive
    assert extraction.hypotheses == ()


def test_inconclusive_only_in_statement():
    text = "Root cause: disk full on db-1. Evidence: no anomalies found in network metrics."
    extraction = extract_root_cause(text)
    assert not extraction.is_inconclusive
    assert extraction.hypotheses == ("disk full on db-1",)


def test_markdown_marker():
    extraction = extract_root_cause("**Root cause:** Redis cache stampede\n\n**Evidence:** misses")
    assert extraction.hypotheses == ("Redis cache stampede",)


def test_long_statement_truncated():
    extraction = extract_root_cause("Root cause: " + "word " * 1000)
    assert len(extraction.statement) <= 600


@pytest.mark.parametrize(
    "text",
    [
        ("Root cause: Deploy v4.19.3 shipped a serializer change that threw on legacy values; checkout-api "
         "returned 5xx until the release was rolled back. The saturation of checkout-api rose 18 minutes "
         "before the alert and correlates with it. 6 of 7 checks point the same way. Immediate action: "
         "Roll back checkout-api."),
        ("Root cause: checkout-api exhausted its connection pool (connection pool, exhausted). The p99 latency "
         "of checkout-api rose 3 minutes before the alert and correlates with it."),
    ],
)
def test_supporting_sentence_not_in_statement(text):
    extraction = extract_root_cause(text)
    assert "correlates" not in extraction.statement
    assert "checks point" not in extraction.statement
    assert len(extraction.hypotheses) == 1


WORDS = ("alternatively", "or", "possibly", "perhaps", "maybe", "another", "possibility", "a", "second",
         "secondary", "hypothesis", "less", "likely", "(2)", "1)", "2)", "candidate", "option", "the", "deploy",
         "not", "never", "isn't", "caused", "by", "rather", "than", "instead", "of", "unrelated", "to", "no",
         "evidence", "sign", "indication", "ruled", "out", "excluded", "was", "innocent", "red", "herring",
         "because", "disk", "full", ",", ";", ".")


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
def test_hedge_shortcut_never_skips_split(words):
    """The cheap hedge test may say yes too often, never no when the pattern splits."""
    statement = " ".join(words)
    assert _may_hedge(statement) or len(_HEDGE_SPLIT.split(statement)) == 1


INCONCLUSIVE_WORDS = ("no", "conclusive", "root", "cause", "was", "found", "could", "not", "couldn't", "cannot",
                      "determine", "unable", "to", "anomaly", "anomalies", "detected", "nothing", "abnormal",
                      "insufficient", "data", "enough", "evidence", "unknown", "unclear", "n/a", "none", "na",
                      "inconclusive", "undetermined", "the", "disk", "full", " ", ".", ":")


@given(st.lists(st.sampled_from(INCONCLUSIVE_WORDS), min_size=1, max_size=10))
def test_inconclusive_shortcut_never_skips(words):
    statement = " ".join(" ".join(words).split())
    assert _may_be_inconclusive(statement) or _INCONCLUSIVE.search(statement) is None


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
def test_negation_shortcut_never_skips_cue(words):
    text = " ".join(words)
    lowered = text.lower()
    if not any(hint in lowered for hint in _NEGATION_HINTS):
        assert _FORWARD_CUES.search(text) is None
        assert _BACKWARD_CUES.search(text) is None
