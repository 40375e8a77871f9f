"""File-level failures give a DatasetError with a clear message, never a traceback."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.datasets import load_incidents
from replay.errors import DatasetError

from .conftest import GOOD_ROW, csv_text

HEADER = "incident_id,time,book_name,root_cause\n"


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="not found; check the path"):
        load_incidents(tmp_path / "absent.csv")


def test_directory_path(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DatasetError, match="cannot be read"):
        load_incidents(folder)


def test_unknown_extension(tmp_path):
    path = tmp_path / "incidents.xlsx"
    path.write_text(HEADER)
    with pytest.raises(DatasetError, match=r"incidents\.xlsx: unknown dataset format '\.xlsx'; supported formats are "
                       r"\.csv, \.csv\.gz, \.jsonl, \.jsonl\.gz, \.parquet"):
        load_incidents(path)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", "the file is empty"),
        (b"\n \n", "the file is empty"),
        (HEADER.encode(), "a header but no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes"),
        ("incident_id,title\nA,Störung\n".encode("latin-1"), r"line 2 is not UTF-8 text \(byte 0xf6"),
        ("incident_id,title\n".encode("utf-16"), "NUL bytes"),
    ],
)
def test_garbage_csv(tmp_path, content, pattern):
    path = tmp_path / "incidents.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=pattern):
        load_incidents(path)


def test_wrong_delimiter(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text("incident_id;time;book_name;root_cause\nA;2026-07-14T03:12:00Z;b;x\n")
    with pytest.raises(DatasetError, match="missing required column.*separated by semicolons"):
        load_incidents(path)


def test_missing_required_columns(write_csv):
    path = write_csv([{"id": "A", "summary": "x"}])
    with pytest.raises(DatasetError) as caught:
        load_incidents(path)
    message = str(caught.value)
    assert "incident_id, root_cause, book_name (or pass --book NAME), time (or message_link)" in message
    assert "Found columns: 'id', 'summary'" in message
    assert "--column root_cause=summary" in message


def test_two_columns_one_field(write_csv):
    with pytest.raises(DatasetError, match="'root_cause' and 'rootCause' both give the field root_cause"):
        load_incidents(write_csv([{**GOOD_ROW, "rootCause": "y"}]))


def test_duplicate_header(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text("incident_id,time,book_name,root_cause,team,team\nA,2026-07-14T03:12:00Z,b,x,t,u\n")
    with pytest.raises(DatasetError, match="column 'team' appears more than once"):
        load_incidents(path)


def test_huge_csv_field(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(HEADER + 'A,2026-07-14T03:12:00Z,b,"' + "x" * 200_000 + '"\n')
    with pytest.raises(DatasetError, match="line 2 cannot be parsed as CSV.*longer than 131,072"):
        load_incidents(path)


def test_bad_gzip(tmp_path):
    path = tmp_path / "incidents.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match="not a valid gzip file"):
        load_incidents(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "incidents.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"incident_id": "A"}\n' * 100)[:40])
    with pytest.raises(DatasetError, match="not a valid gzip file"):
        load_incidents(path)


def test_not_parquet(tmp_path):
    path = tmp_path / "incidents.parquet"
    path.write_text(HEADER)
    with pytest.raises(DatasetError, match="not a Parquet file"):
        load_incidents(path)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "incidents.parquet"
    pq.write_table(pa.table({"incident_id": ["A"] * 100}), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match="Parquet file cannot be read"):
        load_incidents(path)


def test_empty_parquet(tmp_path):
    path = tmp_path / "incidents.parquet"
    pq.write_table(pa.table({"incident_id": pa.array([], pa.string())}), path)
    with pytest.raises(DatasetError, match="has no incidents"):
        load_incidents(path)


def test_deep_json_line(tmp_path):
    path = tmp_path / "incidents.jsonl"
    path.write_text('{"incident_id": "A", "time": "2026-07-14T03:12:00Z", "book_name": "b", "root_cause": "x"}\n'
                    + "[" * 100_000 + "\n")
    loaded = load_incidents(path)
    assert [p.code for p in loaded.problems] == ["invalid_json"]


CSV_ALPHABET = st.sampled_from(list('abcINC-12:TZ,;"\n\r \t{}[]\\é\x00') + ["incident_id", "time", "root_cause",
                                                                           "book_name", "2026-07-14T03:12:00Z"])


def _assert_clean(path):
    try:
        loaded = load_incidents(path)
    except DatasetError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert loaded.n_rows == len(loaded.incidents) + len(loaded.invalid_rows)
        for problem in loaded.problems:
            assert problem.row >= 1
            assert problem.value is None or len(problem.value) <= 60


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".parquet", ".csv.gz"]))
def test_fuzz_random_bytes(tmp_path, content, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    _assert_clean(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(CSV_ALPHABET, max_size=80).map("".join))
def test_fuzz_csv_text(tmp_path, body):
    path = tmp_path / "fuzz.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    _assert_clean(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.dictionaries(st.sampled_from(list(GOOD_ROW) + ["attributes", "rootCauseKeywords",
                                                                     "human_verdict", "messageLink", "x"]),
                                     JSON_VALUES, max_size=8), min_size=1, max_size=4))
def test_fuzz_jsonl_values(tmp_path, rows):
    import json

    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    _assert_clean(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.text(max_size=30), min_size=4, max_size=4))
def test_fuzz_csv_cells(tmp_path, cells):
    path = tmp_path / "fuzz.csv"
    path.write_text(csv_text([dict(zip(["incident_id", "time", "book_name", "root_cause"], cells))]),
                    encoding="utf-8", errors="surrogatepass")
    _assert_clean(path)
