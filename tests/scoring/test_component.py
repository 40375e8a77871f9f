"""Component matching, component-aware mechanism detection and the element scorer's rules."""

from __future__ import annotations

import pytest

from replay.models import Label
from replay.scoring.component import component_spec, match_component
from replay.scoring.element import element_match
from replay.scoring.vocabulary import detect_mechanisms, mechanism_spans


@pytest.mark.parametrize(
    ("component", "text", "rule"),
    [
        ("payments-worker TLS certificate", "The certificate for payments-worker's internal API expired", "distinctive"),
        ("orders-db connection pool", "The connection pool of checkout-api to orders-db was exhausted", "distinctive"),
        ("cart-service price cache", "a leak in cart-service's in-process price cache", "distinctive"),
        ("node ip-10-1-2-3.us-west-2.compute.internal", "a tenant on ip-10-1-2-3 saturated disk I/O", "distinctive"),
        ("cloud provider API", "the cloud provider throttled calls to its storage API", "words"),
        ("cloud provider API", "the cloud provider's API rate limit", "name"),
        ("checkout-api", "the checkout-api-7f9c5d8b-x2lq9 pod crashed", "name"),
    ],
)
def test_component_named(component, text, rule):
    match = match_component(text, component_spec(component))
    assert match is not None
    assert match.rule == rule


@pytest.mark.parametrize(
    ("component", "text"),
    [
        ("payments-worker TLS certificate", "The certificate of ledger-worker expired"),
        ("recommendation cache", "the recommendation service crashed"),
        ("cloud provider API", "the cloud provider had an outage"),
        ("node ip-10-1-2-3.us-west-2.compute.internal", "a tenant on ip-10-1-2-9 saturated disk I/O"),
    ],
)
def test_component_not_named(component, text):
    assert match_component(text, component_spec(component)) is None


def test_component_spec_parts():
    spec = component_spec("payments-worker TLS certificate")
    assert spec.distinctive == (("pay", "work"),)
    assert spec.has_identifier
    assert "certificat" in spec.resource


def test_component_empty_spec():
    assert component_spec(None).is_empty
    assert match_component("anything", component_spec(None)) is None


@pytest.mark.parametrize(
    ("component", "text", "absent", "present"),
    [
        ("checkout-api autoscaler", "checkout-api autoscaler leaked memory until it was OOM-killed",
         "autoscaling_failure", "memory_leak"),
        ("cluster DNS resolver", "cluster DNS resolver fell behind on its queue", "dns_failure", "queue_backlog"),
        ("feature flag async-payments", "feature flag async-payments failed because a third-party dependency was down",
         "feature_flag", "dependency_outage"),
    ],
)
def test_component_words_not_mechanism(component, text, absent, present):
    match = match_component(text, component_spec(component))
    assert match is not None
    found = detect_mechanisms(text, match.positions)
    assert absent not in found
    assert present in found


def test_component_words_with_outside_word():
    text = "payments-worker TLS certificate expired overnight"
    match = match_component(text, component_spec("payments-worker TLS certificate"))
    assert match is not None
    assert "certificate_expiry" in detect_mechanisms(text, match.positions)


def test_component_relative_outage():
    text = "A partial outage at CardBridge slowed every call"
    match = match_component(text, component_spec("CardBridge"))
    assert match is not None
    assert "dependency_outage" in detect_mechanisms(text, match.positions)
    assert "dependency_outage" not in detect_mechanisms(text)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Deploy v4.19.3 shipped a serializer change that threw on legacy values", "bad_deploy"),
        ("The v2.8.10 rollout of auth-service changed the default timeout", "bad_deploy"),
        ("logs were not rotated and filled /var", "disk_full"),
        ("consumers could not keep up with the order-events topic", "queue_backlog"),
        ("a migration dropped an index that the service still used", "schema_migration"),
        ("the horizontal pod autoscaler could not read metrics, so replicas stayed at 6", "autoscaling_failure"),
        ("api-gateway certifcate expiry", "certificate_expiry"),
    ],
)
def test_vocabulary_paraphrases(text, slug):
    assert slug in detect_mechanisms(text)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("queries fell back to full table scans", "queue_backlog"),
        ("a traffic spike from the back-to-school campaign", "queue_backlog"),
        ("inventory-svc hit the provider's rate limit", "resource_quota"),
        ("the import process spiked at noon", "cpu_saturation"),
    ],
)
def test_vocabulary_false_triggers(text, slug):
    assert slug not in detect_mechanisms(text)


def test_mechanism_spans_list_items():
    spans = mechanism_spans("pool exhaustion, disk full, a memory leak or DNS failure")
    assert len({index for _, index in spans}) == 4


THROTTLE = Label(root_cause="x", component="object-store API", category="throttling")


def test_element_main_claim_credited():
    text = ("Root cause: The object-store API throttled uploads with 429s after a retry storm from the "
            "new worker pool exceeded the per-account request limit.")
    score = element_match()(THROTTLE, text)
    assert score.verdict == "correct"
    assert len(score.evidence["hypotheses"][0]["mechanisms"]) > 2


def test_element_enumeration_not_credited():
    text = "Root cause: object-store API trouble: a connection pool leak, throttling, a full disk or a DNS failure."
    score = element_match()(THROTTLE, text)
    assert score.verdict == "partial"
    assert score.evidence["hypotheses"][0]["enumeration"] is True
    assert "listed as guesses" in score.explanation


def test_element_secondary_claim_not_credited():
    label = Label(root_cause="x", component="cart-service", category="memory_leak")
    text = "Root cause: A bad deploy of cart-service exhausted its connection pool and threw timeouts; memory grew afterwards."
    score = element_match()(label, text)
    assert score.verdict == "partial"
    assert "not the main claim" in score.explanation


QUOTA = Label(root_cause="report-builder hit the project's quota of persistent volume claims, so new pods stayed pending.",
              component="platform namespace quota", category="resource_quota")


def test_element_restatement_names_component():
    text = "Root cause: report-builder exhausted the project's persistent volume claim quota and its new pods stayed pending."
    score = element_match()(QUOTA, text)
    assert score.verdict == "correct"
    assert score.evidence["hypotheses"][0]["component_rule"] == "restates root cause"


def test_element_restatement_needs_coverage():
    text = "Root cause: the quota of the batch namespace was exceeded."
    score = element_match()(QUOTA, text)
    assert score.verdict == "partial"
    assert score.evidence["hypotheses"][0]["component_rule"] is None


def test_element_grounded_component_no_restatement():
    label = Label(root_cause="A partial outage at CardBridge made checkout-api exhaust its retries.",
                  component="CardBridge", category="dependency_outage")
    text = "Root cause: checkout-api exhausted its retries after an upstream dependency outage."
    score = element_match()(label, text)
    assert score.verdict == "partial"
