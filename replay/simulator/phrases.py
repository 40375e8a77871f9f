"""Wording tables of the simulator: how each root-cause category is detected and phrased.

Internal module. Detection works on free text so that incidents without a category or a
component (real postmortem summaries) still get one; composing answers lives in ``answers.py``.
"""

from __future__ import annotations

import re

__all__ = [
    "CATEGORY_PATTERNS",
    "COMPONENT_PATTERN",
    "MECHANISMS",
    "MITIGATIONS",
    "STOCK_COMPONENTS",
    "SYNONYMS",
    "derive_category",
    "derive_component",
]

# Checked in order, so the specific mechanisms come before the broad ones ("network", "config").
CATEGORY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (slug, re.compile(pattern, re.IGNORECASE))
    for slug, pattern in (
        (
            "connection_pool_exhaustion",
            r"connection[- ]pool|too many connections|max_connections|pool (was )?exhaust",
        ),
        ("certificate_expiry", r"certificate|\bcerts?\b|\btls\b|\bssl\b"),
        ("dns_failure", r"\bdns\b|name resolution|resolver"),
        (
            "disk_full",
            r"disk (was |became )?full|out of disk|no space left|disk space|filled (up )?the disk",
        ),
        ("memory_leak", r"memory leak|out of memory|\boom\b|leak"),
        ("noisy_neighbor", r"noisy neighbou?r"),
        ("clock_skew", r"clock|leap second|\bntp\b|time ?zone|daylight saving"),
        ("throttling", r"throttl|rate[- ]limit"),
        ("cpu_saturation", r"\bcpu\b"),
        ("lock_contention", r"deadlock|lock contention|\blocks?\b"),
        ("cache_stampede", r"stampede|thundering herd|\bcache\b"),
        ("queue_backlog", r"\bqueues?\b|backlog"),
        ("feature_flag", r"feature[- ]flag|\bflag\b"),
        ("autoscaling_failure", r"autoscal|scale (up|out)|scaling"),
        ("schema_migration", r"migration|\bschema\b"),
        ("resource_quota", r"quota|resource limit"),
        ("dependency_outage", r"upstream|third[- ]party|dependency|provider"),
        ("network_partition", r"partition|\bbgp\b|router|fib(er|re)|\bswitch\b|network"),
        ("bad_deploy", r"deploy|release|rollout|\bbug\b|new version|upgrade"),
        ("config_change", r"config|misconfig|typo|setting"),
        ("hardware_failure", r"hardware|power|datacenter|data center"),
        ("database", r"database|\bdb\b|mysql|postgres|replica|\bsql\b"),
    )
)

COMPONENT_PATTERN = re.compile(
    r"\b(?:[a-z0-9]+-(?:db|api|service|cache|proxy|queue|worker)"
    r"|postgres(?:ql)?|mysql|redis|memcached|kafka|rabbitmq|elasticsearch|etcd|zookeeper"
    r"|kubelet|api server|coredns|ingress|nginx|haproxy|envoy|load balancer|cdn|router"
    r"|database|dns|storage|disk|cache|queue|cluster|network|datacenter|kubernetes)\b",
    re.IGNORECASE,
)

# {c} is the component. Two or more variants each, so repeated answers are not identical.
MECHANISMS: dict[str, tuple[str, ...]] = {
    "connection_pool_exhaustion": (
        "{c} exhausted its connection pool",
        "the connection pool of {c} ran out of free connections",
        "{c} hit its maximum number of pooled connections",
    ),
    "bad_deploy": (
        "a faulty deploy of {c} introduced a regression",
        "the latest release of {c} shipped a bug",
    ),
    "config_change": (
        "an invalid configuration change was pushed to {c}",
        "a bad config rollout on {c}",
    ),
    "certificate_expiry": (
        "the TLS certificate used by {c} expired",
        "an expired certificate broke TLS handshakes with {c}",
    ),
    "dns_failure": (
        "DNS resolution for {c} failed",
        "{c} could not resolve names because of a DNS failure",
    ),
    "disk_full": ("the disk of {c} filled up", "{c} ran out of disk space"),
    "memory_leak": (
        "a memory leak in {c} led to out-of-memory kills",
        "{c} leaked memory until it was OOM-killed",
    ),
    "noisy_neighbor": (
        "a noisy neighbour starved {c} of shared resources",
        "{c} lost capacity to a noisy neighbour on shared hosts",
    ),
    "dependency_outage": (
        "an upstream dependency of {c} was unavailable",
        "{c} failed because a third-party dependency was down",
    ),
    "clock_skew": (
        "clock skew on the {c} hosts broke time-based checks",
        "{c} hosts drifted in time and rejected valid requests",
    ),
    "throttling": (
        "{c} was throttled by an upstream rate limit",
        "requests from {c} were throttled",
    ),
    "cpu_saturation": ("CPU saturation on {c}", "{c} ran at 100% CPU and queued requests"),
    "network_partition": (
        "a network partition isolated {c}",
        "{c} lost network connectivity to its peers",
    ),
    "lock_contention": (
        "lock contention in {c} blocked queries",
        "long-held locks in {c} stalled writes",
    ),
    "cache_stampede": (
        "a cache stampede hit {c} after many keys expired at once",
        "cache misses piled onto {c} in a thundering herd",
    ),
    "queue_backlog": ("a growing queue backlog in {c}", "{c} fell behind on its queue"),
    "feature_flag": (
        "a feature flag rollout changed the behaviour of {c}",
        "a newly enabled feature flag broke {c}",
    ),
    "autoscaling_failure": (
        "autoscaling of {c} failed to add capacity",
        "{c} did not scale out under load",
    ),
    "schema_migration": (
        "a schema migration on {c} locked hot tables",
        "a database migration against {c} went wrong",
    ),
    "resource_quota": ("{c} hit its resource quota", "{c} exceeded its quota and was capped"),
    "hardware_failure": (
        "a hardware or power failure took down {c}",
        "{c} lost the hosts it ran on after a power failure",
    ),
    "database": ("the {c} database became unavailable", "{c} stopped answering database queries"),
    "": ("{c} failed", "{c} stopped serving requests"),
}

MITIGATIONS: dict[str, str] = {
    "connection_pool_exhaustion": "Raise the connection pool size of {c} and cap concurrency.",
    "bad_deploy": "Roll back {c} to the previous release.",
    "config_change": "Revert the latest configuration change of {c}.",
    "certificate_expiry": "Renew the certificate of {c} and add an expiry alert.",
    "dns_failure": "Fail over DNS for {c} to the secondary resolver.",
    "disk_full": "Free disk space on {c} and expand the volume.",
    "memory_leak": "Restart {c} and roll back the change that introduced the leak.",
    "noisy_neighbor": "Move {c} to dedicated hosts.",
    "dependency_outage": "Enable the fallback path of {c} for the failing dependency.",
    "clock_skew": "Resynchronise NTP on the {c} hosts.",
    "throttling": "Request a higher rate limit and add backoff in {c}.",
    "cpu_saturation": "Scale {c} out and profile the hot path.",
    "network_partition": "Drain traffic away from the isolated {c} zone.",
    "lock_contention": "Kill the blocking sessions on {c} and shorten transactions.",
    "cache_stampede": "Add request coalescing and jittered expiry in front of {c}.",
    "queue_backlog": "Add consumers for {c} and shed low-priority work.",
    "feature_flag": "Turn the new feature flag off for {c}.",
    "autoscaling_failure": "Scale {c} by hand and fix the autoscaler limits.",
    "schema_migration": "Stop the migration on {c} and run it online in batches.",
    "resource_quota": "Raise the quota of {c}.",
    "hardware_failure": "Fail {c} over to another zone.",
    "database": "Fail the {c} database over to a replica.",
    "": "Page the owners of {c} and roll back the latest change.",
}

# Used when a wrong-component answer needs a component and the world offers none.
STOCK_COMPONENTS: tuple[str, ...] = (
    "payments-api",
    "edge-proxy",
    "search-index",
    "session-cache",
    "orders-db",
    "notification-worker",
)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "caused": ("led to", "triggered", "resulted in"),
    "causing": ("leading to", "triggering"),
    "because": ("since", "as"),
    "failure": ("breakdown", "fault"),
    "failed": ("broke down", "stopped working"),
    "outage": ("downtime", "disruption"),
    "crash": ("fail",),
    "crashed": ("went down", "failed"),
    "down": ("offline", "unavailable"),
    "went": ("was taken",),
    "all": ("every one of the",),
    "many": ("numerous", "a large number of"),
    "large": ("big", "sizeable"),
    "incorrect": ("wrong", "faulty"),
    "bad": ("faulty", "broken"),
    "error": ("mistake", "fault"),
    "errors": ("faults", "mistakes"),
    "during": ("in the course of", "while running"),
    "after": ("following", "right after"),
    "exhausted": ("used up", "depleted"),
    "which": ("that",),
    "prevented": ("blocked", "stopped"),
    "sudden": ("abrupt", "unexpected"),
    "increase": ("rise", "jump"),
    "traffic": ("load", "request volume"),
    "made": ("introduced",),
    "took": ("brought",),
    "users": ("customers",),
    "service": ("system",),
}


def derive_category(category: str | None, root_cause: str) -> str | None:
    """Return a category slug for an incident, reading free text when needed.

    A category from the vocabulary is kept. A free-text category ("Config Errors") or a
    missing one is replaced by the first pattern that matches the category text, then the
    root-cause text. Without any match the slugified free text is returned, or None.
    """
    if category and category in MECHANISMS:
        return category
    for text in (category or "", root_cause):
        for slug, pattern in CATEGORY_PATTERNS:
            if pattern.search(text):
                return slug
    if category and category.strip():
        return re.sub(r"[^a-z0-9]+", "_", category.strip().lower()).strip("_") or None
    return None


def derive_component(
    component: str | None, root_cause: str, attributes: dict[str, str]
) -> str | None:
    """Return the failing component: the label's, else one named in the text, else ``service``."""
    if component and component.strip():
        return component.strip()
    found = COMPONENT_PATTERN.search(root_cause)
    if found:
        return found.group(0)
    for key in ("service", "component", "host"):
        if attributes.get(key):
            return attributes[key]
    return None
