"""Parquet files and the manifest of a run directory.

Layout of a run directory::

    manifest.json          run id, dataset, settings (no secrets), attempts, status
    incidents.parquet      the validated incidents the run replays
    journal/segment-*.jsonl finished executions not yet compacted (see replay.journal)
    results.parquet        one row per execution
    scores.parquet         one row per execution and scorer
    report.html            the run's report

Every Parquet file is written to a temporary name, fsynced and renamed, so a reader never
sees a half-written file.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from replay.errors import StoreError
from replay.journal import read_journal, segment_paths
from replay.models import ExecutionResult

__all__ = [
    "KEY_COLUMNS",
    "RESULTS_SCHEMA",
    "SCHEMA_VERSION",
    "compact_run",
    "read_manifest",
    "read_results",
    "results_table",
    "write_manifest",
    "write_table",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
RESULTS = "results.parquet"

_ACTION_RESULT = pa.struct([("title", pa.string()), ("short_answer", pa.string()), ("most_important_link", pa.string())])
_GADGET = pa.struct([("title", pa.string()), ("highlights", pa.string()), ("args_json", pa.string())])
_MITIGATION = pa.struct(
    [("tool_name", pa.string()), ("custom_name", pa.string()), ("url", pa.string()), ("action_json", pa.string())]
)
_UTC = pa.timestamp("us", tz="UTC")

RESULTS_SCHEMA = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("run_id", pa.string()),
        ("execution_key", pa.string()),
        ("incident_id", pa.string()),
        ("book_name", pa.string()),
        ("repeat", pa.int32()),
        ("status", pa.string()),
        ("attempts", pa.int32()),
        ("http_status", pa.int32()),
        ("latency_s", pa.float64()),
        ("queue_s", pa.float64()),
        ("backoff_s", pa.float64()),
        ("started_at", _UTC),
        ("finished_at", _UTC),
        ("error", pa.string()),
        ("highlights", pa.string()),
        ("action_results", pa.list_(_ACTION_RESULT)),
        ("gadgets_highlights", pa.list_(_GADGET)),
        ("actionable_mitigations", pa.list_(_MITIGATION)),
        ("enrichment_link", pa.string()),
        ("response_body", pa.string()),
    ]
)

_NESTED = ("action_results", "gadgets_highlights", "actionable_mitigations")

KEY_COLUMNS = ("execution_key", "incident_id", "book_name", "repeat", "status")
"""The columns ``compact_run`` returns."""
# journaled results converted and written at a time by compact_run
COMPACT_CHUNK = 1000


def results_table(results: Sequence[ExecutionResult], run_id: str) -> pa.Table:
    """Build the results table, with the fixed schema, from result records."""
    columns: dict[str, list[Any]] = {name: [] for name in RESULTS_SCHEMA.names}
    for result in results:
        columns["schema_version"].append(SCHEMA_VERSION)
        columns["run_id"].append(run_id)
        for name in RESULTS_SCHEMA.names[2:]:
            value = getattr(result, name)
            if name in _NESTED:
                value = [_struct_dict(item) for item in value]
            columns[name].append(value)
    return pa.table(columns, schema=RESULTS_SCHEMA)


def write_table(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def compact_run(run_dir: Path, run_id: str) -> pa.Table:
    """Merge the journal into ``results.parquet``; return the merged file's key columns.

    The returned table holds ``KEY_COLUMNS`` (execution key, incident, book, repeat and
    status) of every row; read the file for the rest. The latest record of an execution wins
    (a retried failure replaces the failure). The journal is read and written in chunks of
    ``COMPACT_CHUNK`` results, so memory does not grow with the run. The journal segments
    are deleted only after the new file is written and read back with the expected row count.
    """
    run_dir = Path(run_dir)
    path = run_dir / RESULTS
    segments = segment_paths(run_dir)
    if not segments and path.exists():
        return pq.read_table(path, columns=list(KEY_COLUMNS))

    tmp = path.with_name(path.name + ".tmp")
    last_row: dict[str, int] = {}
    rows = journaled = 0
    with pq.ParquetWriter(tmp, RESULTS_SCHEMA, compression="zstd") as writer:
        for table, from_journal in _compaction_chunks(path, run_dir, run_id):
            writer.write_table(table)
            for row, key in enumerate(table.column("execution_key").to_pylist(), start=rows):
                last_row[key] = row
            rows += table.num_rows
            journaled += table.num_rows if from_journal else 0
    if len(last_row) < rows:
        # a key seen twice (a resumed run retried it): keep each key's last row only
        _keep_rows(tmp, sorted(last_row.values()))
    _replace(tmp, path)

    # verify before deleting anything
    written = pq.read_metadata(path).num_rows
    if written != len(last_row):
        msg = f"{path} holds {written} rows after compaction, expected {len(last_row)}; the journal was kept."
        raise StoreError(msg)
    for segment in segments:
        segment.unlink()
    logger.info("compacted %d journaled executions into %s (%d rows)", journaled, path, written)
    return pq.read_table(path, columns=list(KEY_COLUMNS))


def _compaction_chunks(path: Path, run_dir: Path, run_id: str) -> Iterator[tuple[pa.Table, bool]]:
    """Yield the existing results, then the journal, as tables of at most COMPACT_CHUNK rows."""
    if path.exists():
        for batch in pq.ParquetFile(path).iter_batches(batch_size=COMPACT_CHUNK):
            yield pa.Table.from_batches([batch]).cast(RESULTS_SCHEMA), False
    journal = read_journal(run_dir)
    while chunk := list(itertools.islice(journal, COMPACT_CHUNK)):
        yield results_table(chunk, run_id), True


def _keep_rows(path: Path, keep: list[int]) -> None:
    """Rewrite ``path`` with only the rows at the (sorted) positions ``keep``."""
    filtered = path.with_name(path.name + ".dedup")
    wanted = np.zeros(keep[-1] + 1 if keep else 0, dtype=bool)
    wanted[keep] = True
    start = 0
    with pq.ParquetWriter(filtered, RESULTS_SCHEMA, compression="zstd") as writer:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=COMPACT_CHUNK):
            mask = np.zeros(batch.num_rows, dtype=bool)
            part = wanted[start:start + batch.num_rows]
            mask[:len(part)] = part
            start += batch.num_rows
            writer.write_table(pa.Table.from_batches([batch]).filter(pa.array(mask)))
    os.replace(filtered, path)


def _replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_results(run_dir: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the run's executions, including journaled ones not yet compacted.

    Args:
        run_dir: the run directory.
        columns: the columns to read (``execution_key`` is always read); None reads all.
            Reading only what is needed keeps large runs small: the raw response bodies and
            nested answers are most of a results file.
    """
    run_dir = Path(run_dir)
    path = run_dir / RESULTS
    schema = RESULTS_SCHEMA
    if columns is not None:
        names = ["execution_key", *(name for name in columns if name != "execution_key")]
        schema = pa.schema([RESULTS_SCHEMA.field(name) for name in names])
    parts = [pq.read_table(path, columns=schema.names).cast(schema)] if path.exists() else []
    if segment_paths(run_dir):
        manifest = read_manifest(run_dir)
        parts.append(results_table(list(read_journal(run_dir)), manifest.get("run_id", "")).select(schema.names))
    if not parts:
        return schema.empty_table().to_pandas()
    frame = pa.concat_tables(parts).to_pandas()
    return frame.drop_duplicates("execution_key", keep="last").reset_index(drop=True)


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    path = Path(run_dir) / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read ``manifest.json``; raise StoreError naming the directory when it is missing or broken."""
    path = Path(run_dir) / MANIFEST
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        msg = f"{run_dir} is not a run directory: it has no {MANIFEST}. Pass a directory created by 'replay run'."
        raise StoreError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"cannot read {path}: {exc}. Restore the file or start a new run."
        raise StoreError(msg) from None
    if not isinstance(manifest, dict):
        msg = f"{path} is not a JSON object. Restore the file or start a new run."
        raise StoreError(msg)
    return manifest


def _struct_dict(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}
