"""The simulator's request log: one JSON object per request, in memory and in a JSONL file.

Each entry records what the simulator decided (answer kinds, faults), which responses do
not show, so tests and benchmarks can compare the true accuracy with the measured one.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any

__all__ = ["RequestLog"]


class RequestLog:
    """Append-only log of simulator requests.

    Every line is flushed as it is written, so another process can read the file while the
    simulator runs.

    Args:
        path: JSONL file to append to; None keeps the entries in memory only.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        """Append one entry and flush it to the file."""
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self.entries.append(entry)
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def answer_kinds(self) -> list[dict[str, Any]]:
        """Return every answered item of every request, in request order."""
        with self._lock:
            return [item for entry in self.entries for item in entry.get("answers", ())]

    def close(self) -> None:
        """Close the file; later entries are kept in memory only."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
