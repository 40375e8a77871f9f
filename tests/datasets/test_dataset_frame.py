"""The incidents table (incidents.parquet) and the sample generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from replay.datasets import INCIDENTS_SCHEMA, incidents_frame, incidents_from_table, incidents_table, load_incidents

from .conftest import GOOD_ROW

ROOT = Path(__file__).resolve().parents[2]


def test_table_schema(write_csv):
    rows = [{**GOOD_ROW, "attributes": '{"host": "w1"}', "root_cause_keywords": "a;b", "service": "checkout-api",
             "row": "7"}]
    incidents = load_incidents(write_csv(rows)).incidents
    table = incidents_table(incidents)
    assert table.schema.names == INCIDENTS_SCHEMA.names + ["service", "metadata.row"]
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("attributes").type == pa.map_(pa.string(), pa.string())
    assert table.schema.field("root_cause_keywords").type == pa.list_(pa.string())
    assert table.column("service").to_pylist() == ["checkout-api"]
    assert table.column("row").to_pylist() == [1]


def test_frame_round_trip(tmp_path):
    incidents = load_incidents(ROOT / "datasets" / "q3.parquet").incidents
    frame = incidents_frame(incidents)
    assert len(frame) == len(incidents)
    path = tmp_path / "incidents.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    table = pq.read_table(path)
    assert table.schema.field("attributes").type == pa.map_(pa.string(), pa.string())
    assert incidents_from_table(table) == incidents


def test_frame_empty():
    frame = incidents_frame([])
    assert list(frame.columns) == INCIDENTS_SCHEMA.names
    assert len(frame) == 0


def test_generator_reproduces_sample(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "datasets" / "make_sample.py"), "--out", str(tmp_path)], check=True)
    assert (tmp_path / "q3.csv").read_bytes() == (ROOT / "datasets" / "q3.csv").read_bytes()
    assert pq.read_table(tmp_path / "q3.parquet").equals(pq.read_table(ROOT / "datasets" / "q3.parquet"))


CATEGORIES = {
    "connection_pool_exhaustion", "bad_deploy", "config_change", "certificate_expiry", "dns_failure", "disk_full",
    "memory_leak", "noisy_neighbor", "dependency_outage", "clock_skew", "throttling", "cpu_saturation",
    "network_partition", "lock_contention", "cache_stampede", "queue_backlog", "feature_flag",
    "autoscaling_failure", "schema_migration", "resource_quota",
}


def test_sample_covers_categories():
    incidents = load_incidents(ROOT / "datasets" / "q3.parquet").incidents
    assert {i.label.category for i in incidents} == CATEGORIES
    services = {i.metadata["service"] for i in incidents}
    assert {"checkout-api", "payments-worker", "search-gateway", "auth-service", "orders-db"} <= services
    assert {i.metadata["environment"] for i in incidents} == {"production", "staging"}
    assert len({i.label.root_cause for i in incidents}) > 0.85 * len(incidents)
