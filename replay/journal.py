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
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from replay.models import ActionableMitigation, ActionResult, ExecutionResult, GadgetHighlight

__all__ = ["JournalWriter", "read_journal", "result_from_dict", "result_to_dict", "segment_paths"]

logger = logging.getLogger(__name__)

JOURNAL_DIR = "journal"


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
        self._file: IO[str] | None = None

    def __enter__(self) -> JournalWriter:
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        _fsync_directory(self.path.parent)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append_many(self, results: Iterable[ExecutionResult]) -> int:
        """Write and fsync the results; return how many were written."""
        assert self._file is not None, "JournalWriter must be used as a context manager"
        lines = [json.dumps(result_to_dict(r), ensure_ascii=False) + "\n" for r in results]
        if not lines:
            return 0
        self._file.write("".join(lines))
        self._file.flush()
        os.fsync(self._file.fileno())
        return len(lines)


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
    record = dataclasses.asdict(result)
    for key in ("started_at", "finished_at"):
        value = record[key]
        record[key] = value.isoformat() if value is not None else None
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
