"""The incidents table of a run (incidents.parquet): Incident records <-> Arrow and pandas.

Internal module: the public names are re-exported by ``replay.datasets``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from replay.models import Incident, Label

__all__ = ["INCIDENTS_SCHEMA", "incidents_frame", "incidents_from_table", "incidents_table"]

logger = logging.getLogger(__name__)

_STRING_LIST = pa.list_(pa.string())

INCIDENTS_SCHEMA = pa.schema(
    [
        pa.field("incident_id", pa.string(), nullable=False),
        pa.field("row", pa.int32(), nullable=False),
        pa.field("time", pa.timestamp("us", tz="UTC")),
        pa.field("book_name", pa.string()),
        pa.field("title", pa.string()),
        pa.field("details", pa.string()),
        pa.field("message_link", pa.string()),
        pa.field("attributes", pa.map_(pa.string(), pa.string())),
        pa.field("root_cause", pa.string()),
        pa.field("root_cause_component", pa.string()),
        pa.field("root_cause_category", pa.string()),
        pa.field("root_cause_keywords", _STRING_LIST),
        pa.field("root_cause_component_aliases", _STRING_LIST),
        pa.field("human_verdict", pa.string()),
    ]
)
"""Fixed columns of incidents.parquet; each metadata column follows as a string column."""

_METADATA_PREFIX = "metadata."


def incidents_table(incidents: Sequence[Incident]) -> pa.Table:
    """Build the incidents.parquet table: the fixed columns, then one string column per metadata key.

    A metadata key that equals a fixed column name is stored as ``metadata.<key>``.
    """
    metadata_keys: dict[str, None] = {}
    for incident in incidents:
        metadata_keys.update(dict.fromkeys(incident.metadata))

    columns: dict[str, list[Any]] = {
        "incident_id": [i.incident_id for i in incidents],
        "row": [i.row for i in incidents],
        "time": [i.time for i in incidents],
        "book_name": [i.book_name for i in incidents],
        "title": [i.title for i in incidents],
        "details": [i.details for i in incidents],
        "message_link": [i.message_link for i in incidents],
        "attributes": [list(i.attributes.items()) for i in incidents],
        "root_cause": [i.label.root_cause for i in incidents],
        "root_cause_component": [i.label.component for i in incidents],
        "root_cause_category": [i.label.category for i in incidents],
        "root_cause_keywords": [list(i.label.keywords) for i in incidents],
        "root_cause_component_aliases": [list(i.label.component_aliases) for i in incidents],
        "human_verdict": [i.human_verdict for i in incidents],
    }
    fields = list(INCIDENTS_SCHEMA)
    for key in metadata_keys:
        name = key if key not in columns else _METADATA_PREFIX + key
        if name != key:
            logger.info("metadata column %r is stored as %r beside the fixed column", key, name)
        columns[name] = [_metadata_text(i.metadata.get(key)) for i in incidents]
        fields.append(pa.field(name, pa.string()))

    schema = pa.schema(fields)
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def incidents_frame(incidents: Sequence[Incident]) -> pd.DataFrame:
    """Build the incidents table as a DataFrame with Arrow-backed dtypes.

    The Arrow dtypes keep ``attributes`` a map and the list columns lists, so
    ``pyarrow.Table.from_pandas`` gives back the incidents.parquet schema.
    """
    return incidents_table(incidents).to_pandas(types_mapper=pd.ArrowDtype)


def incidents_from_table(table: pa.Table) -> list[Incident]:
    """Rebuild Incident records from an incidents.parquet table, as written by ``incidents_table``."""
    fixed = set(INCIDENTS_SCHEMA.names)
    metadata_names = [name for name in table.column_names if name not in fixed]
    incidents = []
    for record in table.to_pylist():
        label = Label(
            root_cause=record.get("root_cause") or "",
            component=record.get("root_cause_component"),
            category=record.get("root_cause_category"),
            keywords=tuple(record.get("root_cause_keywords") or ()),
            component_aliases=tuple(record.get("root_cause_component_aliases") or ()),
        )
        metadata = {_strip_prefix(name): record[name] for name in metadata_names}
        incidents.append(
            Incident(
                incident_id=record["incident_id"],
                time=record.get("time"),
                label=label,
                book_name=record.get("book_name"),
                title=record.get("title"),
                details=record.get("details"),
                message_link=record.get("message_link"),
                attributes=dict(record.get("attributes") or ()),
                human_verdict=record.get("human_verdict"),
                metadata=metadata,
                row=record.get("row") or 0,
            )
        )
    return incidents


def _metadata_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _strip_prefix(name: str) -> str:
    if name.startswith(_METADATA_PREFIX) and name[len(_METADATA_PREFIX) :] in INCIDENTS_SCHEMA.names:
        return name[len(_METADATA_PREFIX) :]
    return name
