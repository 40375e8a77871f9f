"""Row problems: each kind names row, column, value and fix, and all are reported at once."""

from __future__ import annotations

import pytest

from replay.datasets import format_problems, load_incidents
from replay.errors import DatasetError

from .conftest import GOOD_ROW


def problem_of(write_csv, **changes):
    loaded = load_incidents(write_csv([{**GOOD_ROW, **changes}]))
    assert len(loaded.problems) == 1, loaded.problems
    return loaded.problems[0]


@pytest.mark.parametrize(
    ("changes", "column", "code", "fix_part"),
    [
        ({"incident_id": ""}, "incident_id", "missing_value", "unique id"),
        ({"root_cause": "  "}, "root_cause", "missing_value", "labeled root cause"),
        ({"book_name": ""}, "book_name", "missing_value", "--book NAME"),
        ({"time": "2026-07-14T03:12:00"}, "time", "zoneless_time", "--time-zone Europe/Berlin"),
        ({"time": "2026-07-14"}, "time", "partial_time", "--allow-partial-dates"),
        ({"time": "14/07/2026 03:12"}, "time", "invalid_time", "2026-07-14T03:12:00Z"),
        ({"time": "2026-13"}, "time", "invalid_time", "2026-07-14T03:12:00Z"),
        ({"time": ""}, "time", "missing_value", "message_link"),
        ({"message_link": "slack://C1/p2"}, "message_link", "invalid_link", "https://"),
        ({"attributes": "host=web-1"}, "attributes", "invalid_attributes", "JSON object"),
        ({"attributes": "[1, 2]"}, "attributes", "invalid_attributes", "JSON object"),
        ({"human_verdict": "maybe"}, "human_verdict", "invalid_verdict", "correct, partial or incorrect"),
        ({"details": "x" * 100_001}, "details", "too_long", "shorten"),
    ],
)
def test_problem_kind_named(write_csv, changes, column, code, fix_part):
    problem = problem_of(write_csv, **changes)
    assert problem.row == 1
    assert problem.line == 2
    assert problem.column == column
    assert problem.code == code
    assert fix_part in problem.fix
    value = next(iter(changes.values()))
    if value.strip():
        assert problem.value is not None
        assert len(problem.value) <= 60
        assert problem.value.startswith(repr(value)[:20])
    assert problem.incident_id == (GOOD_ROW["incident_id"] if column != "incident_id" else None)


def test_duplicate_names_first_row(write_csv):
    rows = [GOOD_ROW, {**GOOD_ROW, "incident_id": "INC-2"}, GOOD_ROW, GOOD_ROW]
    loaded = load_incidents(write_csv(rows))
    duplicates = [p for p in loaded.problems if p.code == "duplicate_id"]
    assert [p.row for p in duplicates] == [3, 4]
    assert all("row 1" in p.message for p in duplicates)
    assert all(p.incident_id == "INC-1" for p in duplicates)
    assert [i.row for i in loaded.incidents] == [1, 2]


def test_all_problems_reported_at_once(write_csv):
    rows = [
        {**GOOD_ROW, "time": "2026-07-14T03:12:00", "root_cause": ""},
        {**GOOD_ROW, "incident_id": "INC-2"},
        {**GOOD_ROW, "incident_id": "INC-3", "human_verdict": "yes", "attributes": "{"},
        {**GOOD_ROW, "incident_id": "INC-4", "time": "soon"},
    ]
    loaded = load_incidents(write_csv(rows))
    assert [(p.row, p.column) for p in loaded.problems] == [
        (1, "time"), (1, "root_cause"), (3, "attributes"), (3, "human_verdict"), (4, "time"),
    ]
    assert [(r.row, r.incident_id) for r in loaded.invalid_rows] == [(1, "INC-1"), (3, "INC-3"), (4, "INC-4")]
    assert loaded.invalid_rows[0].message == "time has no time zone"
    assert [i.incident_id for i in loaded.incidents] == ["INC-2"]
    assert loaded.n_rows == 4


def test_physical_line_after_newlines(write_csv):
    rows = [
        {**GOOD_ROW, "details": "first line\nsecond line\nthird line"},
        {**GOOD_ROW, "incident_id": "INC-2", "time": "yesterday"},
    ]
    problem = load_incidents(write_csv(rows)).problems[0]
    assert (problem.row, problem.line) == (2, 5)
    assert "row 2 (line 5)" in str(problem)


def test_mapped_column_named(write_csv):
    path = write_csv([{**GOOD_ROW, "date": "2026-07"}])
    problem = load_incidents(path, column_map={"time": "date"}).problems[0]
    assert problem.column == "time"
    assert problem.source_column == "date"
    assert "time (column 'date')" in str(problem)


def test_field_count_problem(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(
        "incident_id,time,book_name,root_cause\n"
        "A,2026-07-14T03:12:00Z,b,x\n"
        "B,2026-07-14T03:12:00Z,b,pool, exhausted\n"
        "C,2026-07-14T03:12:00Z\n"
    )
    loaded = load_incidents(path)
    assert [(p.row, p.line, p.code, p.incident_id) for p in loaded.problems] == [
        (2, 3, "field_count", "B"), (3, 4, "field_count", "C"),
    ]
    assert "5 fields but the header has 4" in loaded.problems[0].message
    assert [i.incident_id for i in loaded.incidents] == ["A"]


def test_jsonl_bad_lines(tmp_path):
    path = tmp_path / "incidents.jsonl"
    path.write_text(
        '{"incident_id": "A", "time": "2026-07-14T03:12:00Z", "book_name": "b", "root_cause": "x"}\n'
        "\n"
        "{not json\n"
        "[1, 2]\n"
    )
    loaded = load_incidents(path)
    assert [(p.row, p.line, p.code) for p in loaded.problems] == [(2, 3, "invalid_json"), (3, 4, "invalid_json")]
    assert "not an object" in loaded.problems[1].message
    assert len(loaded.incidents) == 1


def test_jsonl_wrong_types(write_jsonl):
    row = {**GOOD_ROW, "title": ["a"], "time": 1720926720, "root_cause_keywords": {"a": 1}}
    loaded = load_incidents(write_jsonl([row]))
    assert {(p.column, p.code) for p in loaded.problems} == {
        ("title", "not_text"), ("time", "invalid_time"), ("root_cause_keywords", "invalid_list"),
    }


def test_format_problems_groups(write_csv):
    rows = [{**GOOD_ROW, "incident_id": f"INC-{n}", "time": "2026-07-14T03:12:00"} for n in range(60)]
    rows.append({**GOOD_ROW, "incident_id": "INC-X", "root_cause": ""})
    path = write_csv(rows)
    loaded = load_incidents(path)
    text = format_problems(loaded.problems, path, limit=10)
    assert text.startswith(f"{path}: 61 problems in 61 rows")
    assert "time: time has no time zone (60 rows)" in text
    assert text.count("fix: add a zone offset such as 2026-07-14T03:12:00Z") == 1
    assert "row 1 INC-0: '2026-07-14T03:12:00'" in text
    # the limit is shared between groups, so the small group still shows its example
    assert "... and 55 more not shown" in text
    assert "root_cause: root_cause is empty (1 row)" in text
    assert "row 61 INC-X" in text


def test_format_problems_lists_all(write_csv):
    rows = [{**GOOD_ROW, "incident_id": f"INC-{n}", "time": "2026-07-14T03:12:00"} for n in range(60)]
    path = write_csv(rows)
    text = format_problems(load_incidents(path).problems, path, limit=None)
    assert "row 60 INC-59" in text
    assert "not shown" not in text


def test_format_problems_escapes_ids():
    from replay.datasets import RowProblem

    problem = RowProblem(row=1, incident_id="a\x1b[31mb", column="time", value="'x'", message="m", fix="f")
    text = format_problems([problem], "x.csv")
    assert "\x1b" not in text
    assert "'a\\x1b[31mb'" in text


def test_raise_for_problems(write_csv):
    loaded = load_incidents(write_csv([{**GOOD_ROW, "root_cause": ""}]))
    with pytest.raises(DatasetError, match="root_cause is empty") as caught:
        loaded.raise_for_problems()
    assert caught.value.problems == loaded.problems
    assert load_incidents(write_csv([GOOD_ROW])).raise_for_problems() is None
