"""Calibration of a run's scorers against human verdicts, stored as ``calibration.json``.

Human verdicts come from the run's incidents (the dataset's ``human_verdict`` column) or
from a separate labels file (CSV, JSON lines or Parquet) with the columns
``incident_id``, ``human_verdict`` and optionally ``book_name``. A verdict with a book
applies only to that book's executions of the incident. A verdict without a book applies
to every execution of the incident that has no book-specific verdict. Repeats of an
execution are each compared with the same verdict.

The agreement measures (accuracy, Cohen's kappa, best threshold) are those of
``replay.scoring.agreement``; the confusion table counts human against machine verdicts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from replay.errors import ConfigError, DatasetError, StoreError
from replay.scoring.agreement import AGREEMENT_COLUMNS, agreement_table, normalize_verdict
from replay.scoring.stats import newest_versions

__all__ = [
    "CALIBRATION_FILE",
    "CALIBRATION_SCHEMA_VERSION",
    "calibrate",
    "calibrate_run",
    "format_calibration",
    "read_calibration",
    "read_labels",
]

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
CALIBRATION_SCHEMA_VERSION = 1
VERDICTS = ("correct", "partial", "incorrect")

_COLUMN_NAMES = {"incidentid": "incident_id", "humanverdict": "human_verdict", "bookname": "book_name",
                 "verdict": "human_verdict"}
# invalid rows listed in one error message, so that a broken file gives a short message;
# the rest are only counted
_MAX_LISTED_ROWS = 5


def read_labels(path: Path) -> pd.DataFrame:
    """Read a labels file of human verdicts.

    Args:
        path: A ``.csv``, ``.jsonl``/``.ndjson``/``.json`` (JSON lines) or ``.parquet`` file
            with ``incident_id`` and ``human_verdict`` columns (camelCase also accepted) and
            an optional ``book_name`` column.

    Returns:
        A frame with ``incident_id``, ``book_name`` (None where not given), ``human``
        (a normalised verdict) and ``row`` (1-based data row).

    Raises:
        DatasetError: For a missing or unreadable file, a missing column, an invalid
            verdict or a verdict given twice for the same incident and book.
    """
    path = Path(path)
    frame = _read_table(path)
    frame = frame.rename(columns={c: _COLUMN_NAMES.get(str(c).replace("_", "").lower(), c) for c in frame.columns})
    missing = [c for c in ("incident_id", "human_verdict") if c not in frame.columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; a labels file needs incident_id "
                           f"and human_verdict (and optionally book_name). Found: "
                           f"{', '.join(map(str, frame.columns)) or 'no columns'}", path=str(path))

    labels = pd.DataFrame({
        "incident_id": frame["incident_id"].map(_text),
        "book_name": frame["book_name"].map(_text) if "book_name" in frame.columns else None,
        "raw": frame["human_verdict"],
        "row": range(1, len(frame) + 1),
    })
    labels["human"] = labels["raw"].map(normalize_verdict)
    invalid = labels[labels["incident_id"].isna() | (labels["human"].isna() & labels["raw"].map(_text).notna())]
    if not invalid.empty:
        raise DatasetError(_invalid_rows_message(path, invalid), path=str(path))
    labels = labels.dropna(subset=["human"])
    duplicated = labels[labels.duplicated(["incident_id", "book_name"], keep=False)]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        raise DatasetError(f"{path} row {first['row']}: incident {first['incident_id']!r}"
                           + (f" and book {first['book_name']!r}" if _text(first["book_name"]) else "")
                           + f" has {len(duplicated[duplicated['incident_id'] == first['incident_id']])} verdicts; "
                           "keep one row per incident (and book)", path=str(path))
    return labels[["incident_id", "book_name", "human", "row"]].reset_index(drop=True)


def calibrate(scores: pd.DataFrame, incidents: pd.DataFrame, labels: pd.DataFrame | None = None,
              *, source: str = "dataset column human_verdict") -> dict[str, Any]:
    """Compare every scorer of a run, at its newest version, with human verdicts.

    Args:
        scores: The scores frame.
        incidents: The incidents frame; its ``human_verdict`` column is used when
            ``labels`` is None.
        labels: Output of ``read_labels``, or None.
        source: Where the verdicts came from, stored in the result.

    Returns:
        A JSON-ready mapping: ``schema_version``, ``created_at``, ``source``,
        ``n_verdicts``, ``n_labeled_incidents``, ``n_unmatched_labels`` (verdicts whose incident, or
        incident and book, has no execution in the run) and ``scorers``, one entry per scorer with the ``AGREEMENT_COLUMNS`` and a
        ``confusion`` table (human verdict -> machine verdict -> count).

    Raises:
        ConfigError: When there are no usable human verdicts.
    """
    if labels is None:
        labels = _dataset_labels(incidents)
    if labels.empty:
        raise ConfigError("no human verdicts to calibrate against: the run's incidents have no human_verdict "
                          "values; pass --labels FILE with incident_id, human_verdict and optionally book_name")

    # rows of an older version of a scorer would count its executions twice
    scores = newest_versions(scores)
    joined = _join(scores, labels)
    unmatched = _count_unmatched(scores, labels)
    if unmatched:
        logger.warning("%d human verdicts name incidents or books without executions in this run", unmatched)

    table = agreement_table(joined) if not joined.empty else pd.DataFrame(columns=AGREEMENT_COLUMNS)
    entries = []
    for row in table.to_dict("records"):
        group = joined[(joined["scorer"] == row["scorer"]) & (joined["verdict"] != "unscored")]
        confusion = {h: {m: int(((group["human"] == h) & (group["verdict"] == m)).sum()) for m in VERDICTS}
                     for h in VERDICTS}
        entries.append({**{k: _json_number(v) for k, v in row.items()}, "confusion": confusion})
    return {
        "schema_version": CALIBRATION_SCHEMA_VERSION,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "n_verdicts": len(labels),
        "n_labeled_incidents": int(labels["incident_id"].nunique()),
        "n_unmatched_labels": unmatched,
        "scorers": entries,
    }


def calibrate_run(run_dir: Path, labels_path: Path | None = None) -> dict[str, Any]:
    """Calibrate the scorers of a scored run and write ``calibration.json`` into it.

    Args:
        run_dir: A run directory with ``scores.parquet`` and ``incidents.parquet``.
        labels_path: A labels file (see ``read_labels``); default the incidents'
            ``human_verdict`` column.

    Returns:
        The calibration written, as returned by ``calibrate``.

    Raises:
        StoreError: When the run has no scores or incidents.
        DatasetError: For an invalid labels file.
        ConfigError: When there are no usable human verdicts.
    """
    run_dir = Path(run_dir)
    scores_path, incidents_path = run_dir / "scores.parquet", run_dir / "incidents.parquet"
    for required in (scores_path, incidents_path):
        if not required.exists():
            raise StoreError(f"{run_dir} has no {required.name}; score the run first with 'replay score {run_dir}'")
    scores = pq.read_table(scores_path).to_pandas()
    incidents = pq.read_table(incidents_path).to_pandas()
    labels = read_labels(labels_path) if labels_path is not None else None
    source = f"labels file {labels_path}" if labels_path is not None else "dataset column human_verdict"
    calibration = calibrate(scores, incidents, labels, source=source)

    path = run_dir / CALIBRATION_FILE
    path.write_text(json.dumps(calibration, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    logger.info("wrote %s", path)
    return calibration


def read_calibration(run_dir: Path) -> dict[str, Any] | None:
    """Return the run's stored calibration, or None when it was never calibrated.

    Raises:
        StoreError: When ``calibration.json`` exists but is not valid JSON.
    """
    path = Path(run_dir) / CALIBRATION_FILE
    if not path.exists():
        return None
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StoreError(f"{path} is not valid JSON ({exc}); run 'replay score {run_dir} --calibrate' "
                         "to write it again") from exc
    return loaded


def format_calibration(calibration: dict[str, Any]) -> str:
    """Render a calibration as a plain-text table for the terminal."""
    heading = (f"agreement with {calibration['n_verdicts']} human verdicts on "
               f"{calibration['n_labeled_incidents']} incidents ({calibration['source']})")
    lines = [heading]
    if calibration.get("n_unmatched_labels"):
        lines.append(f"{calibration['n_unmatched_labels']} verdicts match no execution of this run")
    lines.append(f"{'scorer':<12} {'n':>5} {'unscored':>8} {'accuracy':>8} {'kappa':>6} "
                 f"{'binary kappa':>12} {'best threshold':>14} {'its accuracy':>12}")
    for entry in calibration["scorers"]:
        lines.append(f"{entry['scorer']:<12} {entry['n']:>5} {entry['n_unscored']:>8} "
                     f"{_cell(entry['accuracy']):>8} {_cell(entry['kappa']):>6} {_cell(entry['binary_kappa']):>12} "
                     f"{_cell(entry['best_threshold']):>14} {_cell(entry['best_threshold_accuracy']):>12}")
    return "\n".join(lines)


def _dataset_labels(incidents: pd.DataFrame) -> pd.DataFrame:
    if "human_verdict" not in incidents.columns:
        return pd.DataFrame(columns=["incident_id", "book_name", "human", "row"])
    labels = pd.DataFrame({
        "incident_id": incidents["incident_id"].astype(str),
        "book_name": None,
        "human": incidents["human_verdict"].map(normalize_verdict),
        "row": range(1, len(incidents) + 1),
    })
    return labels.dropna(subset=["human"]).drop_duplicates("incident_id").reset_index(drop=True)


def _join(scores: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Attach a human verdict to each execution; a book-specific verdict wins."""
    if scores.empty:
        return pd.DataFrame(columns=["scorer", "verdict", "score", "human", "incident_id"])
    scores = scores.assign(incident_id=scores["incident_id"].astype(str))
    any_book = labels[labels["book_name"].isna()][["incident_id", "human"]]
    one_book = labels[labels["book_name"].notna()][["incident_id", "book_name", "human"]]
    joined = scores.merge(any_book, on="incident_id", how="left")
    if not one_book.empty:
        joined = joined.merge(one_book.rename(columns={"human": "book_human"}),
                              on=["incident_id", "book_name"], how="left")
        joined["human"] = joined["book_human"].where(joined["book_human"].notna(), joined["human"])
        joined = joined.drop(columns=["book_human"])
    return joined.dropna(subset=["human"])


def _count_unmatched(scores: pd.DataFrame, labels: pd.DataFrame) -> int:
    """Count verdicts whose incident (and book, when given) has no execution in the run."""
    if scores.empty:
        return len(labels)
    incidents = set(scores["incident_id"].astype(str))
    pairs = set(zip(scores["incident_id"].astype(str), scores["book_name"]))
    count = 0
    for incident_id, book_name in zip(labels["incident_id"], labels["book_name"]):
        found = (incident_id, book_name) in pairs if _text(book_name) else incident_id in incidents
        count += not found
    return count


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(f"labels file {path} not found; pass a CSV, JSON lines or Parquet file", path=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffix == ".parquet":
            return pq.read_table(path).to_pandas()
    except (OSError, ValueError) as exc:
        raise DatasetError(f"labels file {path} could not be read: {exc}", path=str(path)) from exc
    raise DatasetError(f"labels file {path} has the unknown extension {suffix!r}; use .csv, .jsonl or .parquet",
                       path=str(path))


def _invalid_rows_message(path: Path, invalid: pd.DataFrame) -> str:
    parts = []
    for row in invalid.head(_MAX_LISTED_ROWS).itertuples():
        if row.incident_id is None:
            parts.append(f"row {row.row}: incident_id is empty")
        else:
            value = repr(str(row.raw))[:40]
            parts.append(f"row {row.row} (incident {row.incident_id}): human_verdict {value} is not a verdict")
    more = len(invalid) - _MAX_LISTED_ROWS
    listed = "; ".join(parts) + (f"; and {more} more rows" if more > 0 else "")
    return (f"{path}: {len(invalid)} invalid rows: {listed}. Use correct, partial or incorrect "
            "(yes/no and pass/fail are read too), or leave the verdict empty to skip the row.")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):
        return _json_number(value.item())
    return value


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"
