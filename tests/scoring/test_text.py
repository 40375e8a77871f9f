"""Normalisation, stemming, negation scopes and the mechanism vocabulary."""

from __future__ import annotations

import pytest

from replay.scoring.text import split_negation, stem, stems_match, tokenize
from replay.scoring.vocabulary import (
    CATEGORY_SLUGS,
    component_variants,
    detect_mechanisms,
    find_component,
    resolve_category,
)

CONTRACT_SLUGS = (
    "connection_pool_exhaustion bad_deploy config_change certificate_expiry dns_failure disk_full "
    "memory_leak noisy_neighbor dependency_outage clock_skew throttling cpu_saturation "
    "network_partition lock_contention cache_stampede queue_backlog feature_flag "
    "autoscaling_failure schema_migration resource_quota"
).split()


@pytest.mark.parametrize("words", [("exhausted", "exhaustion", "exhausting", "exhausts"),
                                   ("leaked", "leaking", "leaks", "leak"),
                                   ("throttled", "throttling", "throttle"),
                                   ("misses", "miss"), ("exceeded", "exceed")])
def test_inflections_share_stem(words):
    stems = {stem(w) for w in words}
    assert len(stems) == 1, stems


def test_stems_match_prefix_and_typo():
    assert stems_match(stem("expiry"), stem("expiration"))
    assert stems_match(stem("certifcate"), stem("certificate"))
    assert not stems_match(stem("disk"), stem("dns"))


def test_tokenize_camel_and_acronym_plural():
    assert tokenize("CheckoutAPI on CPUs") == ["checkout", "api", "on", "cpus"]


@pytest.mark.parametrize(
    ("text", "negated_word"),
    [
        ("The outage was not caused by the deploy but by disk exhaustion", "deploy"),
        ("Not due to Stripe; our pool was exhausted", "Stripe"),
        ("The deploy was ruled out; clock skew on node-3", "deploy"),
        ("DNS was ruled out.", "DNS"),
        ("certificate expiry rather than a DNS failure", "DNS"),
    ],
)
def test_negation_spans(text, negated_word):
    parts = split_negation(text)
    assert negated_word not in parts.positive
    assert any(negated_word in span for span in parts.negated)


@pytest.mark.parametrize("text", ["the autoscaler did not scale out", "the certificate was not renewed",
                                  "pods could not connect to the database"])
def test_failure_claims_not_negated(text):
    assert split_negation(text).negated == ()


def test_vocabulary_covers_contract_slugs():
    assert sorted(CATEGORY_SLUGS) == sorted(CONTRACT_SLUGS)


@pytest.mark.parametrize("slug", CONTRACT_SLUGS)
def test_slug_phrase_detects_itself(slug):
    assert slug in detect_mechanisms(slug.replace("_", " "))


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("checkout-api ran out of DB connections", "connection_pool_exhaustion"),
        ("no space left on device", "disk_full"),
        ("pods were OOMKilled", "memory_leak"),
        ("a thundering herd of cache misses", "cache_stampede"),
        ("the frontend HPA hit its max replicas", "autoscaling_failure"),
        ("S3 returned 429 SlowDown", "throttling"),
        ("ntpd died and the hosts drifted", "clock_skew"),
    ],
)
def test_paraphrases_detected(text, slug):
    assert slug in detect_mechanisms(text)


def test_hard_negative_words_shared():
    assert "connection_pool_exhaustion" not in detect_mechanisms("disk exhausted on db-1")
    assert "disk_full" not in detect_mechanisms("connection pool exhausted")


def test_resolve_category_forms():
    assert resolve_category("disk_full") == ("disk_full",)
    assert resolve_category("Disk Full") == ("disk_full",)
    assert resolve_category("bad config push") == ("config_change",)
    assert resolve_category("Hardware/Power Failures") == ()
    assert resolve_category(None) == ()


@pytest.mark.parametrize(
    ("component", "text"),
    [
        ("checkout-api", "the checkout-api-7f9c5d8b-x2lq9 pod"),
        ("checkout-api-7f9c5d8b-x2lq9", "checkout-api restarted"),
        ("db-1.prod.internal", "disk full on db-1"),
        ("coredns", "CoreDNS pods crashed"),
        ("orders-db", "the orders database"),
    ],
)
def test_component_found(component, text):
    assert find_component(text, component_variants(component)) is not None


def test_component_other_replica_not_found():
    assert find_component("db-2 ran out of disk", component_variants("db-1")) is None
