"""Loading each file format, column spellings, mappings, times and attributes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay.datasets import load_incidents
from replay.errors import ConfigError, DatasetError

from .conftest import GOOD_ROW

UTC = dt.timezone.utc
EXPECTED_TIME = dt.datetime(2026, 7, 14, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize("name", ["incidents.csv", "incidents.csv.gz"])
def test_csv_formats_load(write_csv, name):
    path = write_csv([GOOD_ROW, {**GOOD_ROW, "incident_id": "INC-2"}], name)
    loaded = load_incidents(path)
    assert loaded.problems == []
    assert [i.incident_id for i in loaded.incidents] == ["INC-1", "INC-2"]
    assert loaded.incidents[0].time == EXPECTED_TIME
    assert loaded.format == "csv"


@pytest.mark.parametrize("name", ["incidents.jsonl", "incidents.jsonl.gz"])
def test_jsonl_formats_load(write_jsonl, name):
    row = {**GOOD_ROW, "attributes": {"host": "web-1", "port": 8080}, "root_cause_keywords": ["pool", "orders-db"]}
    loaded = load_incidents(write_jsonl([row], name))
    assert loaded.problems == []
    incident = loaded.incidents[0]
    assert incident.attributes == {"host": "web-1", "port": "8080"}
    assert incident.label.keywords == ("pool", "orders-db")
    assert loaded.format == "jsonl"


def test_parquet_types_load(tmp_path):
    table = pa.table(
        {
            "incident_id": ["INC-1"],
            "time": pa.array([EXPECTED_TIME], pa.timestamp("ns", tz="UTC")),
            "book_name": ["db-checks"],
            "attributes": pa.array([[("host", "db-1")]], pa.map_(pa.string(), pa.string())),
            "root_cause": ["lock contention on orders"],
            "root_cause_keywords": pa.array([["lock", "orders"]], pa.list_(pa.string())),
            "severity": ["SEV2"],
        }
    )
    path = tmp_path / "incidents.parquet"
    pq.write_table(table, path)
    loaded = load_incidents(path)
    assert loaded.problems == []
    incident = loaded.incidents[0]
    assert incident.time == EXPECTED_TIME
    assert incident.attributes == {"host": "db-1"}
    assert incident.label.keywords == ("lock", "orders")
    assert incident.metadata == {"severity": "SEV2"}
    assert loaded.metadata_columns == ["severity"]


def test_parquet_struct_attributes(tmp_path):
    struct = pa.array([{"host": "db-1", "port": 5432, "zone": None}])
    table = pa.table({"incident_id": ["A"], "time": ["2026-07-14T03:12:00Z"], "book_name": ["b"],
                      "root_cause": ["x"], "attributes": struct})
    path = tmp_path / "incidents.parquet"
    pq.write_table(table, path)
    assert load_incidents(path).incidents[0].attributes == {"host": "db-1", "port": "5432"}


def test_parquet_naive_timestamp_needs_zone(tmp_path):
    table = pa.table({"incident_id": ["A"], "time": pa.array([dt.datetime(2026, 7, 14, 5, 12)], pa.timestamp("us")),
                      "book_name": ["b"], "root_cause": ["x"]})
    path = tmp_path / "incidents.parquet"
    pq.write_table(table, path)
    assert [p.code for p in load_incidents(path).problems] == ["zoneless_time"]
    loaded = load_incidents(path, default_zone="Europe/Berlin")
    assert loaded.incidents[0].time == EXPECTED_TIME


def test_camel_case_columns(write_jsonl):
    row = {
        "incidentId": "INC-9",
        "time": "2026-07-14T05:12:00+02:00",
        "bookName": "incident-triage",
        "messageLink": "https://example.slack.com/archives/C1/p1",
        "rootCause": "expired certificate",
        "rootCauseComponent": "auth-service",
        "rootCauseCategory": "certificate_expiry",
        "rootCauseKeywords": "certificate; expired",
        "rootCauseAliases": "auth;authn",
        "humanVerdict": "Correct",
    }
    loaded = load_incidents(write_jsonl([row]))
    assert loaded.problems == []
    incident = loaded.incidents[0]
    assert incident.incident_id == "INC-9"
    assert incident.time == EXPECTED_TIME
    assert incident.message_link == "https://example.slack.com/archives/C1/p1"
    assert incident.label.component == "auth-service"
    assert incident.label.category == "certificate_expiry"
    assert incident.label.keywords == ("certificate", "expired")
    assert incident.label.component_aliases == ("auth", "authn")
    assert incident.human_verdict == "correct"
    assert incident.metadata == {}


def test_column_map_renames(write_csv):
    path = write_csv([{"id": "A", "date": "2026-07-14T03:12:00Z", "summary": "disk full", "book_name": "b"}])
    loaded = load_incidents(path, column_map={"incident_id": "id", "root_cause": "summary", "time": "date"})
    assert loaded.problems == []
    assert loaded.incidents[0].label.root_cause == "disk full"
    assert loaded.metadata_columns == []


def test_column_map_missing_source(write_csv):
    path = write_csv([GOOD_ROW])
    with pytest.raises(DatasetError, match=r"'summary'.*available columns: 'incident_id', 'time'"):
        load_incidents(path, column_map={"root_cause": "summary"})


def test_column_map_unknown_field(write_csv):
    with pytest.raises(DatasetError, match="unknown field 'cause'"):
        load_incidents(write_csv([GOOD_ROW]), column_map={"cause": "title"})


def test_column_map_attribute_target(write_csv):
    path = write_csv([{**GOOD_ROW, "hostname": "web-7"}])
    loaded = load_incidents(path, column_map={"attributes.host": "hostname"})
    assert loaded.incidents[0].attributes == {"host": "web-7"}


def test_flattened_attribute_columns(write_csv):
    row = {**GOOD_ROW, "attributes": '{"host": "web-1", "region": "eu"}', "attributes.region": "us", "attributes.pod": ""}
    loaded = load_incidents(write_csv([row]))
    assert loaded.incidents[0].attributes == {"host": "web-1", "region": "us"}
    assert loaded.metadata_columns == []


def test_metadata_values_are_strings(write_jsonl):
    loaded = load_incidents(write_jsonl([{**GOOD_ROW, "count": 3, "tags": ["a"], "flag": True}]))
    assert loaded.incidents[0].metadata == {"count": "3", "tags": '["a"]', "flag": "true"}


def test_default_book_fills_empty(write_csv):
    path = write_csv([{**GOOD_ROW, "book_name": ""}, {**GOOD_ROW, "incident_id": "INC-2", "book_name": "db-checks"}])
    loaded = load_incidents(path, default_book="perf-checks")
    assert [i.book_name for i in loaded.incidents] == ["perf-checks", "db-checks"]


def test_default_book_replaces_column(write_csv):
    row = {key: value for key, value in GOOD_ROW.items() if key != "book_name"}
    assert load_incidents(write_csv([row]), default_book="b").incidents[0].book_name == "b"
    with pytest.raises(DatasetError, match=r"book_name \(or pass --book NAME\)"):
        load_incidents(write_csv([row]))


def test_message_link_replaces_time(write_csv):
    row = {**GOOD_ROW, "time": "", "message_link": "https://example.slack.com/archives/C1/p2"}
    loaded = load_incidents(write_csv([row]))
    assert loaded.problems == []
    assert loaded.incidents[0].time is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-07-14T03:12:00Z", EXPECTED_TIME),
        ("2026-07-14T03:12:00z", EXPECTED_TIME),
        ("2026-07-14 05:12:00+02:00", EXPECTED_TIME),
        ("2026-07-14T03:12:00.250000+00:00", EXPECTED_TIME + dt.timedelta(milliseconds=250)),
    ],
)
def test_iso_times_parse(write_csv, value, expected):
    loaded = load_incidents(write_csv([{**GOOD_ROW, "time": value}]))
    assert loaded.incidents[0].time == expected
    assert loaded.incidents[0].time.tzinfo == UTC


def test_default_zone_applies(write_csv):
    path = write_csv([{**GOOD_ROW, "time": "2026-07-14T05:12:00"}])
    loaded = load_incidents(path, default_zone="Europe/Berlin")
    assert loaded.incidents[0].time == EXPECTED_TIME


def test_unknown_zone_rejected(write_csv):
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        load_incidents(write_csv([GOOD_ROW]), default_zone="Mars/Olympus")


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2018", None, dt.datetime(2018, 1, 1, tzinfo=UTC)),
        ("2018-08", None, dt.datetime(2018, 8, 1, tzinfo=UTC)),
        ("2018-08-17", None, dt.datetime(2018, 8, 17, tzinfo=UTC)),
        ("2018-08-17", "Europe/Berlin", dt.datetime(2018, 8, 16, 22, tzinfo=UTC)),
    ],
)
def test_partial_dates_allowed(write_csv, value, zone, expected):
    path = write_csv([{**GOOD_ROW, "time": value}])
    loaded = load_incidents(path, allow_partial_dates=True, default_zone=zone)
    assert loaded.problems == []
    assert loaded.incidents[0].time == expected


def test_parquet_date_column_is_partial(tmp_path):
    table = pa.table({"incident_id": ["A"], "time": pa.array([dt.date(2026, 7, 14)], pa.date32()),
                      "book_name": ["b"], "root_cause": ["x"]})
    path = tmp_path / "incidents.parquet"
    pq.write_table(table, path)
    assert [p.code for p in load_incidents(path).problems] == ["partial_time"]
    assert load_incidents(path, allow_partial_dates=True).incidents[0].time == dt.datetime(2026, 7, 14, tzinfo=UTC)


def test_sha256_of_file_bytes(write_csv):
    import hashlib

    path = write_csv([GOOD_ROW])
    assert load_incidents(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_keywords_json_array_text(write_csv):
    loaded = load_incidents(write_csv([{**GOOD_ROW, "root_cause_keywords": '["dns", "resolver", "dns"]'}]))
    assert loaded.incidents[0].label.keywords == ("dns", "resolver")


def test_bom_and_crlf_csv(tmp_path):
    path = tmp_path / "incidents.csv"
    text = "incident_id,time,book_name,root_cause\r\nA,2026-07-14T03:12:00Z,b,x\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    loaded = load_incidents(path)
    assert loaded.problems == []
    assert loaded.incidents[0].incident_id == "A"


def test_trailing_empty_column_dropped(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text("incident_id,time,book_name,root_cause,\nA,2026-07-14T03:12:00Z,b,x,\n")
    loaded = load_incidents(path)
    assert loaded.problems == []
    assert loaded.metadata_columns == []


@pytest.mark.parametrize("name", ["q3.parquet", "q3.csv"])
def test_sample_loads_clean(name):
    path = Path(__file__).resolve().parents[2] / "datasets" / name
    loaded = load_incidents(path)
    assert loaded.problems == []
    assert len(loaded.incidents) >= 180
    assert {i.book_name for i in loaded.incidents} == {"incident-triage", "db-checks"}
    assert all(i.time is not None and i.time.tzinfo == UTC for i in loaded.incidents)
    assert loaded.metadata_columns == ["service", "environment", "severity", "team"]


def test_sample_twins_agree():
    folder = Path(__file__).resolve().parents[2] / "datasets"
    from_parquet = load_incidents(folder / "q3.parquet").incidents
    from_csv = load_incidents(folder / "q3.csv").incidents
    assert from_parquet == from_csv
