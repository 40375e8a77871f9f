"""The scorer protocol and the small helpers every built-in scorer shares.

A scorer is any callable ``scorer(label, highlights) -> Score`` with ``name`` and
``version`` attributes. Scorers judge the *answer*; an execution whose status is not
``ok`` never reaches a scorer (the pipeline records it as unscored with the status as the
reason). A scorer may also have a ``finish()`` method, which the pipeline calls once after
the last execution of a pass.

Empty and inconclusive answers: an execution that finished with status ``ok`` but whose
highlights are empty, or say that no root cause was found, is scored ``incorrect`` with
value 0, not ``unscored``. The playbook ran and had its chance to name the cause; counting
such answers as unscored would remove them from the accuracy denominator and reward a
playbook for giving up. ``unscored`` is kept for "this scorer cannot judge": a failed
execution, a label without the fields the scorer needs, or a judge reply that could not
be parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from replay.models import Label, Score, Verdict
from replay.scoring.extract import Extraction

__all__ = [
    "Scorer",
    "Thresholds",
    "combine_ranked",
    "no_answer_score",
    "ranked_evidence",
]


@runtime_checkable
class Scorer(Protocol):
    """A callable that judges one answer against one label."""

    name: str
    version: str

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        ...


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Cut points that turn a value in [0, 1] into a verdict.

    Attributes:
        correct: Smallest value that is ``correct``.
        partial: Smallest value that is ``partial``; below it the verdict is ``incorrect``.
    """

    correct: float
    partial: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.partial <= self.correct <= 1.0:
            raise ValueError(
                f"thresholds must satisfy 0 <= partial <= correct <= 1, "
                f"got partial={self.partial!r}, correct={self.correct!r}"
            )

    def verdict(self, value: float) -> Verdict:
        """Map a value to a verdict."""
        if value >= self.correct:
            return "correct"
        if value >= self.partial:
            return "partial"
        return "incorrect"


def no_answer_score(extraction: Extraction) -> Score | None:
    """Score an empty or inconclusive answer, or return None for a real answer.

    Args:
        extraction: The extracted root-cause statement.

    Returns:
        An ``incorrect`` score with value 0 for an empty or inconclusive answer (see the
        module docstring for why), else None.
    """
    if extraction.is_empty:
        return Score(0.0, "incorrect", "highlights are empty", extracted="", evidence={"answer": "empty"})
    if extraction.is_inconclusive:
        return Score(
            0.0,
            "incorrect",
            "answer names no root cause (inconclusive)",
            extracted=extraction.statement,
            evidence={"answer": "inconclusive"},
        )
    return None


def combine_ranked(values: Sequence[float]) -> tuple[float, int]:
    """Combine per-hypothesis values of a hedged answer into one.

    A hypothesis at rank r (1-based) counts 1/r of its value, so the right cause named
    second earns at most half credit.

    Args:
        values: One value in [0, 1] per hypothesis, in the answer's order.

    Returns:
        The combined value and the 1-based rank that gave it (0 for no hypotheses).
    """
    best, best_rank = 0.0, 0
    for rank, value in enumerate(values, start=1):
        weighted = value / rank
        if weighted > best:
            best, best_rank = weighted, rank
    return best, best_rank


def ranked_evidence(hits: Sequence[bool]) -> dict[str, Any]:
    """Summarise which hypotheses were right: hit@1, hit@k and reciprocal rank."""
    first = next((i for i, hit in enumerate(hits, start=1) if hit), 0)
    return {
        "n_hypotheses": len(hits),
        "hit_at_1": bool(hits) and bool(hits[0]),
        "hit_at_k": first > 0,
        "reciprocal_rank": 1.0 / first if first else 0.0,
    }
