"""Loading and validating incident datasets (CSV, JSONL, Parquet) into ``Incident`` records.

Every invalid row is reported as a ``RowProblem`` naming row, column, value and fix;
only file-level failures raise ``DatasetError``. Running incidents is not done here.
"""

from __future__ import annotations

from replay.datasets._columns import FIELDS
from replay.datasets._frame import INCIDENTS_SCHEMA, incidents_frame, incidents_from_table, incidents_table
from replay.datasets._load import LoadedDataset, load_incidents
from replay.datasets._problems import InvalidRow, RowProblem, format_problems
from replay.datasets._read import SUPPORTED_FORMATS

__all__ = [
    "FIELDS",
    "INCIDENTS_SCHEMA",
    "SUPPORTED_FORMATS",
    "InvalidRow",
    "LoadedDataset",
    "RowProblem",
    "format_problems",
    "incidents_frame",
    "incidents_from_table",
    "incidents_table",
    "load_incidents",
]
