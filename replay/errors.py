"""Exceptions raised by replay.

ReplayError
 ├── DatasetError      a dataset cannot be read or has invalid rows
 ├── ConfigError       a setting, flag or config file value is invalid
 ├── RemoteCallError   the API refused the run as a whole (authentication, quota)
 ├── StoreError        a run directory cannot be read or written
 └── ReportError       a report cannot be rendered

The command line prints ``str(error)`` without a traceback, so every message names the
file, row, column and value involved and says how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DatasetError",
    "RemoteCallError",
    "ReplayError",
    "ReportError",
    "StoreError",
]


class ReplayError(Exception):
    """Base class of every error that replay reports to its user."""

    exit_code: int = 1


class DatasetError(ReplayError):
    """Raised when a dataset cannot be read, or when it has invalid rows."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, problems: list | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.problems = problems or []


class ConfigError(ReplayError):
    """Raised for an invalid flag, environment variable or config file value."""

    exit_code = 2


class RemoteCallError(ReplayError):
    """Raised when the API rejects the run itself (401, 403, exhausted quota)."""

    exit_code = 3


class StoreError(ReplayError):
    """Raised when a run directory is missing, unreadable or inconsistent."""

    exit_code = 2


class ReportError(ReplayError):
    """Raised when a report cannot be rendered."""
