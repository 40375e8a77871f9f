"""Generate the bundled sample dataset: a synthetic quarter of labeled incidents.

Writes ``q3.parquet`` and its twin ``q3.csv`` beside this script (or into ``--out``).
The output depends only on ``--seed``, so rerunning the script reproduces the files.

    python datasets/make_sample.py [--out DIR] [--seed N] [--count N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

QUARTER_START = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
QUARTER_END = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
DEFAULT_SEED = 20260701
DEFAULT_COUNT = 216

SERVICES = {
    "checkout-api": "payments",
    "payments-worker": "payments",
    "search-gateway": "discovery",
    "auth-service": "identity",
    "orders-db": "data-platform",
    "inventory-svc": "fulfilment",
    "notification-dispatcher": "messaging",
    "cart-service": "payments",
    "catalog-indexer": "discovery",
    "edge-proxy": "platform",
}
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2")
SEVERITY_WEIGHTS = {"SEV1": 4, "SEV2": 18, "SEV3": 46, "SEV4": 32}
DB_CATEGORIES = {"connection_pool_exhaustion", "lock_contention", "schema_migration"}

# Each category: relative frequency, services it strikes, alert titles, details, root-cause
# phrasings, how the failing component is named, and the keywords a correct root-cause statement mentions.
CATEGORIES: dict[str, dict] = {
    "bad_deploy": {
        "weight": 16,
        "services": ["checkout-api", "payments-worker", "search-gateway", "cart-service", "inventory-svc", "auth-service"],
        "titles": ["HTTP 5xx rate above {pct}% on {svc}", "{svc} error budget burn rate critical", "{svc} pods crash-looping after rollout"],
        "details": ["5xx responses rose from 0.2% to {pct}% within {minutes} minutes of deploy {ver}.", "Error spike started right after release {ver}; p99 latency {latency} ms."],
        "causes": [
            "Release {ver} of {svc} introduced a null-pointer regression in the {feature} handler, so every request without a {field} failed with a 500.",
            "Deploy {ver} shipped a serializer change that threw on legacy {field} values; {svc} returned 5xx until the release was rolled back.",
            "A bad build of {svc} ({ver}) was rolled out with a missing migration guard and crashed on start-up in {pct}% of pods.",
            "The {ver} rollout of {svc} changed the default timeout of the {feature} client to 50 ms, so calls failed under normal load.",
        ],
        "component": "{svc}",
        "keywords": ["deploy", "regression", "rollback"],
    },
    "config_change": {
        "weight": 12,
        "services": ["edge-proxy", "search-gateway", "checkout-api", "notification-dispatcher", "auth-service"],
        "titles": ["404 rate spike on {svc}", "{svc} upstream unreachable", "Traffic drop on {svc} /{route}"],
        "details": ["Requests to /{route} started returning 404 at {clock} UTC; {pct}% of traffic affected.", "Config push {ver} applied {minutes} minutes before the alert."],
        "causes": [
            "A config push to {svc} dropped the /{route} route from the routing table, so those requests returned 404.",
            "An edited {svc} config set the upstream pool for /{route} to an empty list after a typo in the host name.",
            "A configuration change lowered {svc}'s max request body to 1 KB, rejecting {route} uploads with 413.",
            "The {svc} runtime config was pushed with staging endpoints, sending production /{route} calls to a non-existent upstream.",
        ],
        "component": "{svc} config",
        "keywords": ["config", "route", "push"],
    },
    "connection_pool_exhaustion": {
        "weight": 9,
        "services": ["checkout-api", "orders-db", "payments-worker", "inventory-svc"],
        "titles": ["{svc} p99 latency above {latency} ms", "DB connection wait time high on {svc}", "Timeouts acquiring connections on {svc}"],
        "details": ["Active connections pinned at {pool}/{pool}; request queue growing.", "Traffic rose {pct}% after the {campaign} campaign started; pool wait time {latency} ms."],
        "causes": [
            "The connection pool of {svc} to orders-db was exhausted after a traffic spike from the {campaign} campaign; all {pool} connections were busy and requests queued until they timed out.",
            "Slow queries on orders-db held connections for seconds, so {svc}'s pool of {pool} connections ran dry and callers timed out.",
            "{svc} leaked database connections on an error path added in {ver}; the pool hit its limit of {pool} after {minutes} minutes.",
        ],
        "component": "orders-db connection pool",
        "keywords": ["connection pool", "exhausted", "orders-db", "timeout"],
    },
    "dependency_outage": {
        "weight": 8,
        "services": ["payments-worker", "checkout-api", "notification-dispatcher"],
        "titles": ["{provider} calls failing from {svc} ({pct}% errors)", "{svc} third-party calls failing", "{svc} circuit breaker open"],
        "details": ["Calls to {provider} returned 503 for {minutes} minutes.", "Upstream {provider} status page reported degraded service."],
        "causes": [
            "The external payment provider {provider} had an outage, so {svc} could not authorise card payments for {minutes} minutes.",
            "{provider} returned 503 to all API calls during a regional incident on their side; {svc} had no fallback provider.",
            "A partial outage at {provider} made their API answer in over 20 s, and {svc} exhausted its retries.",
        ],
        "component": "{provider}",
        "keywords": ["provider", "outage", "third-party", "503"],
    },
    "memory_leak": {
        "weight": 7,
        "services": ["search-gateway", "catalog-indexer", "cart-service", "notification-dispatcher"],
        "titles": ["{svc} OOMKilled restarts", "Memory usage above {pct}% on {svc}", "{svc} GC pause time high"],
        "details": ["Heap grew steadily for {hours} hours before pods were OOM-killed.", "RSS rose from 600 MB to {mem} MB; restarts every {minutes} minutes."],
        "causes": [
            "A memory leak in {svc}'s in-process {cache} cache, which never evicted entries, grew the heap until pods were OOM-killed.",
            "{svc} kept a reference to every {cache} response in a debug buffer added in {ver}, leaking memory until the container hit its limit.",
            "An unbounded {cache} cache in {svc} grew by about {mem} MB per hour and triggered OOM kills.",
        ],
        "component": "{svc} {cache} cache",
        "keywords": ["memory leak", "cache", "OOM"],
    },
    "cpu_saturation": {
        "weight": 6,
        "services": ["search-gateway", "catalog-indexer", "auth-service", "checkout-api"],
        "titles": ["CPU utilization above {pct}% on {svc}", "{svc} request latency degraded", "Throttled CPU on {svc} pods"],
        "details": ["CPU idle below 5% on all {svc} pods for {minutes} minutes.", "Latency p99 {latency} ms while CPU is saturated."],
        "causes": [
            "A regex in {svc}'s {feature} parser backtracked catastrophically on long inputs and saturated the CPU.",
            "{svc} switched to a more expensive password hashing cost in {ver}, pinning CPU at 100% during login peaks.",
            "A batch re-index job scheduled on the {svc} nodes consumed all CPU and starved request handling.",
        ],
        "component": "{svc}",
        "keywords": ["CPU", "saturation", "latency"],
    },
    "disk_full": {
        "weight": 5,
        "services": ["orders-db", "catalog-indexer", "notification-dispatcher", "edge-proxy"],
        "titles": ["Disk usage above 95% on {host}", "{svc} write errors: no space left on device", "Filesystem /var full on {host}"],
        "details": ["/var reached 100% at {clock} UTC; writes failing with ENOSPC.", "Disk grew {pct}% in {hours} hours."],
        "causes": [
            "Logs on {host} were not rotated after a logrotate config change, filling /var and making {svc} fail writes.",
            "Debug logging left enabled on {svc} wrote {mem} GB a day and filled the disk on {host}.",
            "Old WAL segments on {host} were not cleaned up because archiving failed, and the data volume filled up.",
        ],
        "component": "{host} disk",
        "keywords": ["disk full", "logs", "no space left"],
    },
    "dns_failure": {
        "weight": 5,
        "services": ["checkout-api", "payments-worker", "inventory-svc", "auth-service"],
        "titles": ["Name resolution errors on {svc}", "{svc} upstream connect failures", "Elevated DNS latency in {region}"],
        "details": ["getaddrinfo EAI_AGAIN errors for {minutes} minutes.", "Resolver p99 latency {latency} ms in {region}."],
        "causes": [
            "DNS resolver timeouts in {region} made {svc} fail to resolve internal service names; lookups took over 5 s.",
            "The cluster DNS pods in {region} were overloaded by ndots:5 search-path lookups, so {svc} lookups timed out.",
            "A stale DNS record pointed {svc} at a decommissioned load balancer after a migration.",
        ],
        "component": "cluster DNS resolver",
        "keywords": ["DNS", "resolver", "timeout"],
    },
    "certificate_expiry": {
        "weight": 4,
        "services": ["auth-service", "payments-worker", "edge-proxy", "notification-dispatcher"],
        "titles": ["TLS handshake failures to {svc}", "{svc} x509: certificate has expired", "mTLS errors between services"],
        "details": ["Handshakes failing since {clock} UTC.", "Clients report certificate verify failed."],
        "causes": [
            "The TLS certificate on the internal endpoint of {svc} expired because its renewal job had been failing silently for weeks.",
            "An expired intermediate certificate in {svc}'s trust bundle broke mTLS to its callers.",
            "The certificate for {svc}'s internal API expired after the cert-manager issuer lost its credentials.",
        ],
        "component": "{svc} TLS certificate",
        "keywords": ["certificate", "expired", "TLS"],
    },
    "throttling": {
        "weight": 4,
        "services": ["catalog-indexer", "notification-dispatcher", "inventory-svc"],
        "titles": ["{svc} 429 responses from cloud API", "{svc} job backlog growing", "Rate exceeded errors on {svc}"],
        "details": ["ThrottlingException on {pct}% of calls.", "Cloud API returned 429 for {minutes} minutes."],
        "causes": [
            "The cloud provider throttled {svc}'s calls to the object storage API after a retry storm exceeded the account's request quota.",
            "{svc} hit the cloud provider's API rate limit for queue operations when a new worker pool doubled the call rate.",
            "Unbatched metadata calls from {svc} exceeded the provider's per-account API limit and were throttled with 429s.",
        ],
        "component": "cloud provider API",
        "keywords": ["throttling", "rate limit", "429"],
    },
    "queue_backlog": {
        "weight": 4,
        "services": ["notification-dispatcher", "payments-worker", "catalog-indexer"],
        "titles": ["Consumer lag above {lag} on {svc}", "{svc} queue depth rising", "Delayed notifications"],
        "details": ["Kafka consumer lag reached {lag} messages.", "Messages waiting more than {minutes} minutes."],
        "causes": [
            "A poison message on the {topic} topic made {svc} consumers crash and retry forever, so the backlog reached {lag} messages.",
            "{svc} consumers were scaled down to one replica by mistake and could not keep up with the {topic} topic.",
            "A slow downstream call made each {svc} consumer take seconds per message and the {topic} queue backed up.",
        ],
        "component": "{topic} queue",
        "keywords": ["queue", "backlog", "consumer lag"],
    },
    "noisy_neighbor": {
        "weight": 3,
        "services": ["search-gateway", "cart-service", "auth-service"],
        "titles": ["{svc} latency spike on {host}", "CPU steal high on {host}", "{svc} tail latency degraded"],
        "details": ["Only pods on {host} are affected.", "CPU steal time {pct}% on the node."],
        "causes": [
            "A noisy neighbour on the shared node {host}, a batch job without CPU limits, starved {svc} pods of CPU.",
            "Another tenant's workload on {host} saturated the node's disk I/O, so {svc} pods there slowed down.",
            "{svc} pods shared node {host} with a memory-hungry analytics job that caused heavy CPU steal.",
        ],
        "component": "node {host}",
        "keywords": ["noisy neighbor", "shared node", "CPU steal"],
    },
    "lock_contention": {
        "weight": 3,
        "services": ["orders-db", "inventory-svc", "checkout-api"],
        "titles": ["Lock wait timeouts on orders-db", "{svc} transactions slow", "Deadlocks detected on orders-db"],
        "details": ["Lock wait time above {latency} ms.", "{lag} transactions waiting on row locks."],
        "causes": [
            "Row lock contention on the orders table: a long-running backfill held locks and {svc} transactions waited until they timed out.",
            "Two code paths in {svc} updated stock rows in opposite order and deadlocked on orders-db.",
            "A hot inventory row was updated by every checkout, so transactions queued on its lock during the sale.",
        ],
        "component": "orders-db",
        "keywords": ["lock", "contention", "deadlock", "orders-db"],
    },
    "cache_stampede": {
        "weight": 3,
        "services": ["search-gateway", "catalog-indexer", "cart-service"],
        "titles": ["Cache hit ratio dropped on {svc}", "{svc} backend load spike", "{svc} latency above {latency} ms"],
        "details": ["Hit ratio fell from 97% to {pct}%.", "Backend QPS rose tenfold within a minute."],
        "causes": [
            "Many {cache} cache keys expired at once after a cache flush, and the stampede of misses overloaded {svc}'s backend.",
            "A Redis failover emptied the {cache} cache; every {svc} request went to the database at the same moment.",
            "A TTL set to the same value for all {cache} entries made them expire together, so {svc} suffered a cache stampede.",
        ],
        "component": "{cache} cache",
        "keywords": ["cache", "stampede", "expiry"],
    },
    "network_partition": {
        "weight": 3,
        "services": ["orders-db", "payments-worker", "edge-proxy"],
        "titles": ["Packet loss between zones in {region}", "{svc} replica unreachable", "Cross-AZ connectivity alarms"],
        "details": ["Packet loss {pct}% between zones.", "Replication lag grew while links flapped."],
        "causes": [
            "A network partition between availability zones in {region} cut {svc} off from its replicas for {minutes} minutes.",
            "A faulty top-of-rack switch in {region} dropped packets and isolated half of the {svc} nodes.",
            "A security-group change blocked traffic between the {svc} subnets, splitting the cluster in two.",
        ],
        "component": "{region} network",
        "keywords": ["network", "partition", "packet loss"],
    },
    "feature_flag": {
        "weight": 3,
        "services": ["checkout-api", "cart-service", "search-gateway"],
        "titles": ["Conversion drop on {svc}", "{svc} errors for a subset of users", "Spike in {svc} validation errors"],
        "details": ["Only users in the {flag} cohort are affected.", "Flag {flag} was switched to 100% at {clock} UTC."],
        "causes": [
            "The {flag} feature flag was turned on for all users before its backend was ready, breaking {svc} for them.",
            "Enabling flag {flag} switched {svc} to a new pricing path with a rounding bug that rejected orders.",
            "A flag rollout of {flag} to 100% exposed an unfinished code path in {svc}.",
        ],
        "component": "feature flag {flag}",
        "keywords": ["feature flag", "rollout", "{flag}"],
    },
    "autoscaling_failure": {
        "weight": 3,
        "services": ["checkout-api", "search-gateway", "notification-dispatcher"],
        "titles": ["{svc} replicas stuck at minimum", "HPA unable to scale {svc}", "{svc} saturation during peak"],
        "details": ["Replica count stayed at {replicas} while load doubled.", "Autoscaler events: failed to get metrics."],
        "causes": [
            "The horizontal pod autoscaler for {svc} could not read metrics after the metrics server was upgraded, so replicas stayed at {replicas} during the peak.",
            "The node group hit its maximum size, so new {svc} pods stayed pending during the traffic peak.",
            "A scaling policy for {svc} had a cooldown of 30 minutes, too slow for the morning ramp.",
        ],
        "component": "{svc} autoscaler",
        "keywords": ["autoscaling", "replicas", "HPA"],
    },
    "schema_migration": {
        "weight": 3,
        "services": ["orders-db", "checkout-api", "inventory-svc"],
        "titles": ["orders-db replication lag high", "{svc} query errors after migration", "Table lock on orders-db"],
        "details": ["Migration {ver} started at {clock} UTC.", "ALTER TABLE running for {minutes} minutes."],
        "causes": [
            "Schema migration {ver} added a column with a default to the orders table, rewriting it and locking writes for {minutes} minutes.",
            "A migration dropped an index that {svc} still used, so its queries fell back to full table scans.",
            "Migration {ver} renamed a column before the {svc} release that reads the new name was deployed.",
        ],
        "component": "orders-db schema",
        "keywords": ["migration", "schema", "orders-db"],
    },
    "resource_quota": {
        "weight": 3,
        "services": ["catalog-indexer", "payments-worker", "notification-dispatcher"],
        "titles": ["{svc} pods pending", "Quota exceeded in namespace {team}", "{svc} jobs not scheduled"],
        "details": ["Pods pending with 'exceeded quota' events.", "Namespace memory quota at 100%."],
        "causes": [
            "The namespace resource quota for {team} was full, so new {svc} pods could not be scheduled after a rollout.",
            "{svc} hit the project's quota of persistent volumes and new workers failed to start.",
            "The cloud account reached its vCPU quota in {region}, so {svc} could not add nodes.",
        ],
        "component": "{team} namespace quota",
        "keywords": ["quota", "exceeded", "pending pods"],
    },
    "clock_skew": {
        "weight": 2,
        "services": ["auth-service", "payments-worker"],
        "titles": ["Token validation failures on {svc}", "{svc} 401 spike", "NTP offset alarm on {host}"],
        "details": ["Clock offset {skew} s on {host}.", "JWTs rejected as not yet valid."],
        "causes": [
            "NTP stopped syncing on {host} and its clock drifted {skew} seconds, so {svc} rejected valid tokens as expired.",
            "Clock skew of {skew} s on {host} after a chrony misconfiguration broke token validation in {svc}.",
        ],
        "component": "{host} clock",
        "keywords": ["clock skew", "NTP", "token"],
    },
}

FEATURES = ("discount", "refund", "address", "wishlist", "login", "export", "search suggest")
FIELDS = ("coupon code", "shipping address", "currency", "locale", "session id")
CAMPAIGNS = ("back-to-school", "summer sale", "flash sale", "loyalty email")
PAYMENT_PROVIDERS = ("PayFlowx", "CardBridge", "SwiftPay Gateway")
MESSAGE_PROVIDERS = ("NotifyHub SMS", "MailRelay")
CACHES = ("product", "price", "session", "recommendation")
TOPICS = ("order-events", "email-outbox", "stock-updates", "index-requests")
ROUTES = ("checkout/confirm", "api/v2/search", "oauth/token", "orders", "cart/items")
FLAGS = ("new-checkout-flow", "smart-pricing", "async-payments", "search-v3")


def main() -> None:
    """Parse the command line and write the sample files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"incidents (default {DEFAULT_COUNT})")
    args = parser.parse_args()
    incidents = generate_incidents(args.seed, args.count)
    args.out.mkdir(parents=True, exist_ok=True)
    write_parquet(incidents, args.out / "q3.parquet")
    write_csv(incidents, args.out / "q3.csv")


def generate_incidents(seed: int, count: int) -> list[dict]:
    """Generate ``count`` incidents, sorted by time; every category appears at least twice."""
    rng = random.Random(seed)
    categories = _category_sequence(rng, count)
    seconds = int((QUARTER_END - QUARTER_START).total_seconds())
    times = sorted(QUARTER_START + dt.timedelta(seconds=rng.randrange(seconds // 60) * 60) for _ in categories)

    incidents = []
    used_ids: set[str] = set()
    for time, category in zip(times, categories):
        spec = CATEGORIES[category]
        values = _placeholder_values(rng, spec)
        incident_id = _incident_id(rng, time, used_ids)
        environment = "production" if rng.random() < 0.82 else "staging"
        service = values["svc"]
        book = "db-checks" if category in DB_CATEGORIES or service == "orders-db" else "incident-triage"
        attributes = {
            "host": values["host"],
            "pod": f"{service}-{rng.randrange(16**9):09x}-{_suffix(rng)}",
            "region": values["region"],
            "environment": environment,
        }
        keywords = [k.format(**values) for k in spec["keywords"]]
        component = spec["component"].format(**values)
        if component.lower() not in (k.lower() for k in keywords):
            keywords.append(component)
        incidents.append(
            {
                "incident_id": incident_id,
                "time": time,
                "book_name": book,
                "title": rng.choice(spec["titles"]).format(**values),
                "details": rng.choice(spec["details"]).format(**values),
                "attributes": attributes,
                "service": service,
                "environment": environment,
                "severity": _weighted(rng, SEVERITY_WEIGHTS),
                "team": SERVICES[service],
                "root_cause": rng.choice(spec["causes"]).format(**values),
                "root_cause_component": component,
                "root_cause_category": category,
                "root_cause_keywords": keywords,
            }
        )
    return incidents


def write_parquet(incidents: list[dict], path: Path) -> None:
    """Write the incidents with fixed types: aware UTC times, a map of attributes, a keyword list."""
    schema = pa.schema(
        [
            ("incident_id", pa.string()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("book_name", pa.string()),
            ("title", pa.string()),
            ("details", pa.string()),
            ("attributes", pa.map_(pa.string(), pa.string())),
            ("service", pa.string()),
            ("environment", pa.string()),
            ("severity", pa.string()),
            ("team", pa.string()),
            ("root_cause", pa.string()),
            ("root_cause_component", pa.string()),
            ("root_cause_category", pa.string()),
            ("root_cause_keywords", pa.list_(pa.string())),
        ]
    )
    columns = {name: [i[name] for i in incidents] for name in schema.names}
    columns["attributes"] = [list(a.items()) for a in columns["attributes"]]
    table = pa.Table.from_pydict(columns, schema=schema)
    pq.write_table(table, path, compression="zstd")


def write_csv(incidents: list[dict], path: Path) -> None:
    """Write the CSV twin: ISO 8601 times with Z, attributes as JSON, keywords joined by ';'."""
    names = list(incidents[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        for incident in incidents:
            cells = dict(incident)
            cells["time"] = incident["time"].strftime("%Y-%m-%dT%H:%M:%SZ")
            cells["attributes"] = json.dumps(incident["attributes"], sort_keys=True)
            cells["root_cause_keywords"] = ";".join(incident["root_cause_keywords"])
            writer.writerow([cells[name] for name in names])


def _category_sequence(rng: random.Random, count: int) -> list[str]:
    total = sum(spec["weight"] for spec in CATEGORIES.values())
    sequence = []
    for category, spec in CATEGORIES.items():
        sequence += [category] * max(2, round(count * spec["weight"] / total))
    while len(sequence) > count:
        sequence.remove(max(CATEGORIES, key=lambda c: sequence.count(c)))
    while len(sequence) < count:
        sequence.append(_weighted(rng, {c: s["weight"] for c, s in CATEGORIES.items()}))
    rng.shuffle(sequence)
    return sequence


def _placeholder_values(rng: random.Random, spec: dict) -> dict[str, str]:
    service = rng.choice(spec["services"])
    region = rng.choice(REGIONS)
    return {
        "svc": service,
        "region": region,
        "host": f"ip-10-{rng.randrange(8, 64)}-{rng.randrange(256)}-{rng.randrange(1, 255)}.{region}.compute.internal",
        "pct": str(rng.choice((3, 7, 12, 18, 25, 34, 41, 60, 85))),
        "minutes": str(rng.choice((4, 7, 11, 15, 22, 35, 48, 70))),
        "hours": str(rng.randrange(3, 40)),
        "latency": str(rng.choice((850, 1200, 2400, 4800, 9000))),
        "ver": f"v{rng.randrange(1, 5)}.{rng.randrange(30)}.{rng.randrange(12)}",
        "pool": str(rng.choice((20, 32, 50, 64, 100))),
        "mem": str(rng.choice((180, 350, 720, 1400, 2900))),
        "lag": f"{rng.choice((12, 48, 150, 900)) * 1000:,}",
        "replicas": str(rng.choice((2, 3, 4, 6))),
        "skew": str(rng.choice((37, 95, 240, 610))),
        "clock": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
        "feature": rng.choice(FEATURES),
        "field": rng.choice(FIELDS),
        "campaign": rng.choice(CAMPAIGNS),
        "provider": rng.choice(MESSAGE_PROVIDERS if service == "notification-dispatcher" else PAYMENT_PROVIDERS),
        "cache": rng.choice(CACHES),
        "topic": rng.choice(TOPICS),
        "route": rng.choice(ROUTES),
        "flag": rng.choice(FLAGS),
        "team": SERVICES[service],
    }


def _incident_id(rng: random.Random, time: dt.datetime, used: set[str]) -> str:
    while True:
        incident_id = f"INC-{time:%Y-%m%d}-{rng.randrange(16**4):04x}"
        if incident_id not in used:
            used.add(incident_id)
            return incident_id


def _suffix(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


if __name__ == "__main__":
    main()
