"""The append-only journal of finished executions: the run's crash-safe source of truth.

Each invocation of a run (first start and every resume) appends to its own segment file,
``journal/segment-NNNN.jsonl``, one JSON object per finished execution. A segment is flushed
and fsynced before its executions are counted, so after ``kill -9`` every execution that was
reported as done is on disk. A torn last line (the process died mid-write) is ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import operator
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from replay.models import ActionableMitigation, ActionResult, ExecutionResult, GadgetHighlight

__all__ = ["JournalWriter", "encode_results", "read_journal", "result_from_dict", "result_to_dict", "segment_paths"]

logger = logging.getLogger(__name__)

JOURNAL_DIR = "journal"

_FIELDS = tuple(f.name for f in dataclasses.fields(ExecutionResult))
_GET_FIELDS = operator.attrgetter(*_FIELDS)
_NESTED = ("action_results", "gadgets_highlights", "actionable_mitigations")
_ITEM_FIELDS = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (ActionResult, GadgetHighlight, ActionableMitigation)
}


def segment_paths(run_dir: Path) -> list[Path]:
    """Return the run's journal segments in the order they were written."""
    folder = Path(run_dir) / JOURNAL_DIR
    return sorted(folder.glob("segment-*.jsonl")) if folder.is_dir() else []


class JournalWriter:
    """Append finished executions to a new segment of the run's journal.

    Use as a context manager. ``append_many`` returns only after the records are fsynced.
    """

    def __init__(self, run_dir: Path) -> None:
        folder = Path(run_dir) / JOURNAL_DIR
        folder.mkdir(parents=True, exist_ok=True)
        existing = segment_paths(run_dir)
        number = int(existing[-1].stem.split("-")[1]) + 1 if existing else 1
        self.path = folder / f"segment-{number:04d}.jsonl"
        self._file: IO[bytes] | None = None

    def __enter__(self) -> JournalWriter:
        self._file = open(self.path, "ab")  # noqa: SIM115 - closed in __exit__
        _fsync_directory(self.path.parent)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append_many(self, results: Iterable[ExecutionResult]) -> int:
        """Write and fsync the results; return how many were written."""
        results = list(results)
        self.write_encoded(encode_results(results))
        return len(results)

    def write_encoded(self, data: bytes) -> None:
        """Write lines made by ``encode_results`` and fsync them.

        Encoding is pure CPU and writing mostly waits on the disk, so a caller can encode on
        its event loop and write in a thread without both holding the interpreter lock.
        """
        assert self._file is not None, "JournalWriter must be used as a context manager"
        if not data:
            return
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())


def encode_results(results: Iterable[ExecutionResult]) -> bytes:
    """Serialise results to journal lines (UTF-8 JSON, one per line)."""
    # ASCII escapes: the encoder is faster without ensure_ascii=False, and the lines read back the same
    return "".join([json.dumps(result_to_dict(r)) + "\n" for r in results]).encode("ascii")


def read_journal(run_dir: Path) -> Iterator[ExecutionResult]:
    """Yield every journaled execution of the run, oldest first, skipping torn lines."""
    for path in segment_paths(run_dir):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith("\n"):
                    logger.warning("ignoring an incomplete last line in %s (line %d): the run was interrupted while writing it", path, number)
                    break
                try:
                    yield result_from_dict(json.loads(line))
                except (ValueError, TypeError, KeyError) as exc:
                    logger.warning("ignoring an unreadable journal line %s:%d: %s", path, number, exc)


def result_to_dict(result: ExecutionResult) -> dict[str, Any]:
    """Serialise a result to a JSON-ready dict."""
    # field by field: dataclasses.asdict deep-copies every value and costs ten times more
    record = dict(zip(_FIELDS, _GET_FIELDS(result)))
    for key in ("started_at", "finished_at"):
        value = record[key]
        record[key] = value.isoformat() if value is not None else None
    for key in _NESTED:
        record[key] = [{name: getattr(item, name) for name in _ITEM_FIELDS[type(item)]} for item in record[key]]
    return record


def result_from_dict(record: dict[str, Any]) -> ExecutionResult:
    """Rebuild a result from ``result_to_dict`` output."""
    record = dict(record)
    for key in ("started_at", "finished_at"):
        value = record.get(key)
        record[key] = dt.datetime.fromisoformat(value) if value else None
    record["action_results"] = tuple(ActionResult(**item) for item in record.get("action_results") or ())
    record["gadgets_highlights"] = tuple(GadgetHighlight(**item) for item in record.get("gadgets_highlights") or ())
    record["actionable_mitigations"] = tuple(
        ActionableMitigation(**item) for item in record.get("actionable_mitigations") or ()
    )
    return ExecutionResult(**record)


def _fsync_directory(path: Path) -> None:
    # a new file's directory entry is durable only once its directory is fsynced
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
