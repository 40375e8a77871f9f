"""Reading the two sides of a comparison from run directories: books, scorer, executions.

The statistics are not here; this module turns run directories into two executions
frames with one scorer's verdicts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from replay.errors import ConfigError, StoreError
from replay.reporting import read_incidents, read_scores
from replay.store import read_manifest, read_results

__all__ = ["Side", "SideSelection", "select_sides"]

logger = logging.getLogger(__name__)

_RESULT_COLUMNS = ["execution_key", "incident_id", "book_name", "repeat", "status", "latency_s", "highlights"]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the executions of one book, from a run or a frame."""

    label: str
    """Name shown in summaries and reports."""
    book_name: str | None = None
    run_id: str | None = None
    run_dir: Path | None = None


@dataclass(frozen=True, eq=False)
class SideSelection:
    """Both sides read from run directories, with one scorer's verdicts on each execution."""

    a: Side
    b: Side
    executions_a: pd.DataFrame
    executions_b: pd.DataFrame
    incidents: pd.DataFrame
    scorer: str
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class _Run:
    run_dir: Path
    manifest: dict[str, Any]
    results: pd.DataFrame
    scores: pd.DataFrame
    incidents: pd.DataFrame

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.run_dir.name)

    @property
    def books(self) -> list[str]:
        # the order the user gave with --book first, so A and B follow the command line
        planned = [str(b) for b in (self.manifest.get("settings") or {}).get("books") or []]
        found = [str(b) for b in dict.fromkeys(self.results["book_name"].dropna())]
        return [b for b in planned if b in found] + [b for b in found if b not in planned]


def select_sides(run_a: Path, run_b: Path | None, *, book_a: str | None, book_b: str | None,
                 scorer: str | None) -> SideSelection:
    """Read both sides of a comparison and attach one scorer's verdicts to every execution.

    With one run, A and B are two of its books (by default its only two books, in the
    order they were given to ``replay run``). With two runs, each side is the run's only
    book, or the book named, or the book of the same name as the other side.

    A scorer without stored scores for a side scores that side's executions in memory;
    nothing is written to the run.

    Raises:
        StoreError: When a directory is not a readable run.
        ConfigError: When a book cannot be chosen or is not in its run, when one run would
            be compared with itself, or when the scorer is unknown.
    """
    first = _read_run(Path(run_a))
    second = first if run_b is None else _read_run(Path(run_b))
    if run_b is None:
        name_a, name_b = _books_of_one_run(first, book_a, book_b)
    else:
        name_a = _book_of(first, book_a, book_b, "A")
        name_b = _book_of(second, book_b, name_a, "B")

    chosen = _choose_scorer(first.scores, second.scores, name_a, name_b, scorer)
    notes: list[str] = []
    executions_a = _executions(first, name_a, chosen, "A", notes)
    executions_b = _executions(second, name_b, chosen, "B", notes)
    notes.extend(_mismatch_notes(first, second, executions_a, executions_b))

    same_book = name_a == name_b
    side_a = Side(f"{name_a} @ {first.run_id}" if same_book else name_a, name_a, first.run_id, first.run_dir)
    side_b = Side(f"{name_b} @ {second.run_id}" if same_book else name_b, name_b, second.run_id, second.run_dir)
    incidents = first.incidents if second is first else pd.concat([first.incidents, second.incidents],
                                                                   ignore_index=True)
    return SideSelection(side_a, side_b, executions_a, executions_b, incidents, chosen, tuple(notes))


def _read_run(run_dir: Path) -> _Run:
    manifest = read_manifest(run_dir)
    results = read_results(run_dir)
    if results.empty:
        raise StoreError(f"{run_dir} has no executions yet: results.parquet and the journal are empty. "
                         "Finish the run with 'replay run --resume' first.")
    return _Run(run_dir, manifest, results, read_scores(run_dir), read_incidents(run_dir))


def _books_of_one_run(run: _Run, book_a: str | None, book_b: str | None) -> tuple[str, str]:
    books = run.books
    for given in (book_a, book_b):
        if given is not None and given not in books:
            raise ConfigError(_unknown_book(run, given))
    if book_a is None or book_b is None:
        rest = [b for b in books if b not in (book_a, book_b)]
        if len(books) != 2 or len(rest) != (book_a is None) + (book_b is None):
            raise ConfigError(f"{run.run_dir} contains the books {', '.join(books)}; name the two to compare with "
                              "--book-a and --book-b, or pass a second run directory.")
        book_a = book_a if book_a is not None else rest.pop(0)
        book_b = book_b if book_b is not None else rest.pop(0)
    if book_a == book_b:
        raise ConfigError(f"--book-a and --book-b both name {book_a!r} in {run.run_dir}; a book compared with "
                          "itself in one run shows no change. Name two different books.")
    return book_a, book_b


def _book_of(run: _Run, given: str | None, other: str | None, side: str) -> str:
    books = run.books
    if given is not None:
        if given not in books:
            raise ConfigError(_unknown_book(run, given))
        return given
    if len(books) == 1:
        return books[0]
    if other is not None and other in books:
        return other
    option = f"--book-{side.lower()}"
    raise ConfigError(f"run {side} ({run.run_dir}) contains the books {', '.join(books)}; choose one with {option}.")


def _unknown_book(run: _Run, book: str) -> str:
    return (f"book {book!r} has no executions in {run.run_dir}; it contains {', '.join(run.books)}. "
            "Pass one of those names.")


def _choose_scorer(scores_a: pd.DataFrame, scores_b: pd.DataFrame, book_a: str, book_b: str,
                   scorer: str | None) -> str:
    from replay.scoring import DEFAULT_SCORERS

    if scorer is not None:
        return scorer
    names_a = _scorer_names(scores_a, book_a)
    names_b = set(_scorer_names(scores_b, book_b))
    common = [name for name in names_a if name in names_b]
    if DEFAULT_SCORERS[0] in common or not common:
        return DEFAULT_SCORERS[0]
    return common[0]


def _scorer_names(scores: pd.DataFrame, book: str) -> list[str]:
    if scores.empty:
        return []
    return [str(n) for n in dict.fromkeys(scores.loc[scores["book_name"] == book, "scorer"])]


def _executions(run: _Run, book: str, scorer: str, side: str, notes: list[str]) -> pd.DataFrame:
    results = run.results.loc[run.results["book_name"] == book, _RESULT_COLUMNS]
    stored = run.scores
    if not stored.empty:
        stored = stored[(stored["scorer"] == scorer) & stored["execution_key"].isin(results["execution_key"])]
    if stored.empty:
        from replay.scoring import score_run

        logger.info("run %s has no %s scores for book %s; scoring its %d executions in memory",
                    run.run_id, scorer, book, len(results))
        stored = score_run(results, run.incidents, [scorer])
    stored = stored.drop_duplicates("execution_key", keep="last")
    frame = results.merge(stored[["execution_key", "verdict", "score", "scorer_version"]],
                          on="execution_key", how="left")
    missing = int(frame["verdict"].isna().sum())
    if missing:
        notes.append(f"{missing} executions of side {side} ({book} in run {run.run_id}) have no {scorer} score "
                     f"and count as unscored; 'replay score {run.run_dir} --scorer {scorer}' scores them.")
    frame["verdict"] = frame["verdict"].fillna("unscored")
    return frame.reset_index(drop=True)


def _mismatch_notes(first: _Run, second: _Run, executions_a: pd.DataFrame,
                    executions_b: pd.DataFrame) -> list[str]:
    notes = []
    if second is not first:
        sha_a, sha_b = first.manifest.get("dataset_sha256"), second.manifest.get("dataset_sha256")
        if sha_a and sha_b and sha_a != sha_b:
            notes.append(f"the runs replayed different dataset files ({first.manifest.get('dataset_path')} and "
                         f"{second.manifest.get('dataset_path')}); only incidents with the same id are paired.")
    versions_a = set(executions_a["scorer_version"].dropna())
    versions_b = set(executions_b["scorer_version"].dropna())
    if versions_a and versions_b and versions_a != versions_b:
        notes.append(f"the sides were scored by different scorer versions ({', '.join(sorted(versions_a))} and "
                     f"{', '.join(sorted(versions_b))}); score both runs again with 'replay score' to compare "
                     "like with like.")
    repeats_a = executions_a.groupby("incident_id").size().max()
    repeats_b = executions_b.groupby("incident_id").size().max()
    if repeats_a != repeats_b:
        notes.append(f"side A has up to {repeats_a} repeats per incident and side B up to {repeats_b}.")
    return notes
