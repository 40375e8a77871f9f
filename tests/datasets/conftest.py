"""Builders for dataset files used by the dataset tests."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

GOOD_ROW = {
    "incident_id": "INC-1",
    "time": "2026-07-14T03:12:00Z",
    "book_name": "incident-triage",
    "title": "checkout-api p99 latency above 2400 ms",
    "root_cause": "The orders-db connection pool was exhausted after a traffic spike.",
}


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Render rows as CSV text with the union of their keys as header."""
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path``, gzipped when the name ends in .gz."""
    content = text.encode("utf-8")
    path.write_bytes(gzip.compress(content, mtime=0) if path.name.endswith(".gz") else content)
    return path


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write rows to a CSV file (gzipped when the name ends in .gz) and return its path."""

    def write(rows: list[dict[str, Any]], name: str = "incidents.csv") -> Path:
        return write_text(tmp_path / name, csv_text(rows))

    return write


@pytest.fixture
def write_jsonl(tmp_path: Path):
    """Write rows as JSON lines (gzipped when the name ends in .gz) and return the path."""

    def write(rows: list[dict[str, Any]], name: str = "incidents.jsonl") -> Path:
        return write_text(tmp_path / name, "".join(json.dumps(row) + "\n" for row in rows))

    return write


@pytest.fixture
def shared_dir() -> Path:
    """Return the shared reference folder beside the repository, or skip when it is absent."""
    path = Path(__file__).resolve().parents[2] / ".." / "shared"
    if not path.is_dir():
        pytest.skip("the shared reference folder is not beside the repository")
    return path
