"""Built-in scorers, the registry and user scorers."""

from __future__ import annotations

import sys
import types

import pytest

from replay.errors import ConfigError
from replay.models import Label, Score
from replay.scoring import DEFAULT_SCORERS, Thresholds, available_scorers, get_scorer
from replay.scoring.composite import rca
from replay.scoring.element import element_match
from replay.scoring.keywords import derive_keywords, keyword_coverage
from replay.scoring.lexical import lexical_similarity

POOL = Label(
    root_cause="Connection pool of checkout-api exhausted by slow queries",
    component="checkout-api",
    category="connection_pool_exhaustion",
    keywords=("connection pool", "exhausted", "checkout-api"),
)


@pytest.mark.parametrize(
    ("highlights", "verdict"),
    [
        ("Root cause: checkout-api connection pool exhausted.", "correct"),
        ("Root cause: connection pool exhaustion.", "partial"),
        ("Root cause: disk exhausted on checkout-api.", "partial"),
        ("Root cause: disk exhausted on payments-db.", "incorrect"),
        ("Root cause: not caused by checkout-api connection pool exhaustion; a DNS failure.", "incorrect"),
    ],
)
def test_element_verdicts(highlights, verdict):
    assert element_match()(POOL, highlights).verdict == verdict


def test_element_hedge_ranks():
    score = element_match()(POOL, "Root cause: Most likely DNS failure; alternatively checkout-api pool exhaustion.")
    assert score.verdict == "partial"
    assert score.value == pytest.approx(0.5)
    assert score.evidence["hit_at_1"] is False
    assert score.evidence["hit_at_k"] is True
    assert score.evidence["reciprocal_rank"] == pytest.approx(0.5)


def test_element_shotgun_loses_mechanism():
    text = "Root cause: checkout-api had pool exhaustion, disk full, a memory leak and DNS failure."
    assert element_match()(POOL, text).verdict == "partial"


def test_element_unscored_without_elements():
    score = element_match()(Label(root_cause="Something odd happened to billing"), "Root cause: billing")
    assert score.verdict == "unscored"
    assert score.value is None


def test_element_free_text_category():
    label = Label(root_cause="x", category="Hardware/Power Failures")
    assert element_match()(label, "Root cause: a power failure in the hardware of rack 4").verdict == "correct"
    assert element_match()(label, "Root cause: bad deploy").verdict == "incorrect"


@pytest.mark.parametrize(
    ("highlights", "matched"),
    [
        ("Root cause: Checkout-API connection pools were EXHAUSTED.", 3),
        ("Root cause: conection pool exhaustion in checkout-api", 3),
        ("Root cause: pool exhaustion", 1),
    ],
)
def test_keywords_inflection_and_typo(highlights, matched):
    score = keyword_coverage()(POOL, highlights)
    assert len(score.evidence["matched"]) == matched


def test_keywords_negation():
    label = Label(root_cause="bad deploy", keywords=("deploy",))
    score = keyword_coverage()(label, "Root cause: not caused by the deploy; disk full.")
    assert score.verdict == "incorrect"
    assert score.evidence["negated"] == ["deploy"]


def test_keywords_unscored_without_keywords():
    assert keyword_coverage()(Label(root_cause="x"), "Root cause: y").verdict == "unscored"


def test_derive_keywords_drops_generic():
    assert derive_keywords("The outage was caused by a leap second in the kernel") == ("leap", "second", "kernel")


def test_lexical_identical_and_unrelated():
    scorer = lexical_similarity()
    assert scorer(POOL, "Root cause: " + POOL.root_cause).value == pytest.approx(1.0)
    assert scorer(POOL, "Root cause: solar flare hit the datacentre").verdict == "incorrect"


def test_lexical_unknown_method():
    with pytest.raises(ValueError, match="unknown lexical method"):
        lexical_similarity(method="cosine")


@pytest.mark.parametrize("scorer", [rca(), element_match(), keyword_coverage(), lexical_similarity()])
@pytest.mark.parametrize("highlights", ["", "Root cause: inconclusive.", "No anomaly found."])
def test_no_answer_is_incorrect(scorer, highlights):
    score = scorer(POOL, highlights)
    assert score.verdict == "incorrect"
    assert score.value == 0.0


def test_rca_free_text_fallback():
    label = Label(root_cause="The billing batch job double-charged customers after a retry loop")
    assert rca()(label, "Root cause: a retry loop in the billing batch job charged customers twice").verdict == "correct"
    assert rca()(label, "Root cause: the billing database was slow").verdict == "incorrect"


def test_rca_mechanism_only_needs_confirmation():
    label = Label(root_cause="etcd ran out of disk space so the API server stopped accepting writes")
    assert rca()(label, "Root cause: etcd disk filled up and API writes failed").verdict == "correct"
    assert rca()(label, "Root cause: a disk filled up on a build agent").verdict == "partial"


def test_thresholds_validated():
    with pytest.raises(ValueError, match="partial <= correct"):
        Thresholds(correct=0.3, partial=0.5)


def test_registry_names():
    assert {"rca", "element", "keywords", "lexical", "semantic", "llm_judge"} <= set(available_scorers())
    assert DEFAULT_SCORERS[0] == "rca"
    for name in DEFAULT_SCORERS:
        scorer = get_scorer(name)
        assert scorer.name == name
        assert isinstance(scorer(POOL, "Root cause: x"), Score)


def test_registry_unknown_name():
    with pytest.raises(ConfigError, match="unknown scorer 'nope'"):
        get_scorer("nope")


@pytest.fixture
def user_module(monkeypatch):
    module = types.ModuleType("my_scorers")

    def always_right(label, highlights):
        return Score(1.0, "correct", "always")

    def factory():
        return always_right

    def bad(label, highlights):
        return 2.0

    module.always_right = always_right
    module.factory = factory
    module.bad = bad
    module.number = 3
    monkeypatch.setitem(sys.modules, "my_scorers", module)
    return module


@pytest.mark.parametrize("path", ["my_scorers:always_right", "my_scorers:factory"])
def test_user_scorer_by_path(user_module, path):
    scorer = get_scorer(path)
    assert scorer(POOL, "x").verdict == "correct"
    assert scorer.version == "user"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("my_scorers", "unknown scorer"),
        ("my_scorers:missing", "has no attribute 'missing'"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        ("my_scorers:number", "not a callable"),
    ],
)
def test_user_scorer_errors(user_module, path, message):
    with pytest.raises(ConfigError, match=message):
        get_scorer(path)


def test_user_scorer_bad_return(user_module):
    with pytest.raises(ConfigError, match="returned float"):
        get_scorer("my_scorers:bad")(POOL, "x")


def test_semantic_missing_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install replay\[semantic\]"):
        get_scorer("semantic")
