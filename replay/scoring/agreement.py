"""Agreement between scorers and human verdicts: accuracy, Cohen's kappa, best threshold."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["AGREEMENT_COLUMNS", "agreement", "agreement_table", "cohen_kappa", "normalize_verdict"]

AGREEMENT_COLUMNS: tuple[str, ...] = (
    "scorer", "n", "n_unscored", "accuracy", "kappa", "binary_accuracy", "binary_kappa",
    "best_threshold", "best_threshold_accuracy",
)

_HUMAN: dict[str, str] = {
    **dict.fromkeys(("correct", "right", "yes", "true", "1", "pass", "passed", "hit"), "correct"),
    **dict.fromkeys(("partial", "partly", "partially", "partially correct", "0.5"), "partial"),
    **dict.fromkeys(("incorrect", "wrong", "no", "false", "0", "fail", "failed", "miss"), "incorrect"),
}


def normalize_verdict(value: object) -> str | None:
    """Map a human verdict such as "Correct", "yes" or "wrong" to a verdict, else None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return _HUMAN.get(str(value).strip().lower())


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Return Cohen's kappa of two equally long label lists; nan when undefined."""
    if not a or len(a) != len(b):
        return math.nan
    labels = sorted(set(a) | set(b))
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b):
        table[index[x], index[y]] += 1
    n = table.sum()
    observed = np.trace(table) / n
    expected = float((table.sum(axis=0) * table.sum(axis=1)).sum()) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else math.nan
    return float((observed - expected) / (1 - expected))


def agreement(scores: pd.DataFrame, incidents: pd.DataFrame, human_column: str = "human_verdict") -> pd.DataFrame:
    """Measure how each scorer agrees with the human verdicts of the incidents.

    Executions are joined to their incident's verdict by ``incident_id``. Unscored rows
    and unreadable human verdicts are left out. See ``agreement_table`` for the columns.

    Args:
        scores: The scores frame.
        incidents: The incidents frame with ``human_column``.
        human_column: Column of the human verdicts.

    Returns:
        One row per scorer with ``AGREEMENT_COLUMNS``; empty when no incident has a
        usable human verdict.
    """
    # NOTE: a human verdict belongs to an incident, so with several books or repeats every
    # execution of that incident is compared with the same verdict
    if human_column not in incidents.columns:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    human = incidents[["incident_id", human_column]].drop_duplicates("incident_id").copy()
    human["human"] = human[human_column].map(normalize_verdict)
    human = human.dropna(subset=["human"])
    if human.empty:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    return agreement_table(scores.merge(human[["incident_id", "human"]], on="incident_id", how="inner"))


def agreement_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Compare machine and human verdicts that are already side by side.

    ``accuracy`` and ``kappa`` compare the three verdicts; the ``binary_`` columns compare
    correct against not correct; ``best_threshold`` is the smallest score cut (score >=
    cut means correct) that maximises binary accuracy. Unscored rows are counted in
    ``n_unscored`` and left out of every other column.

    Args:
        frame: One row per execution and scorer with ``scorer``, ``verdict``, ``score``
            and ``human`` (a normalised verdict, see ``normalize_verdict``).

    Returns:
        One row per scorer with ``AGREEMENT_COLUMNS``.
    """
    rows = []
    for name, group in frame.groupby("scorer", sort=True):
        scored = group[group["verdict"] != "unscored"]
        machine, people = list(scored["verdict"]), list(scored["human"])
        binary_m = ["correct" if v == "correct" else "other" for v in machine]
        binary_h = ["correct" if v == "correct" else "other" for v in people]
        threshold, threshold_accuracy = _best_threshold(scored["score"].to_numpy(dtype=float),
                                                        np.array([v == "correct" for v in people]))
        rows.append({
            "scorer": name, "n": len(scored), "n_unscored": len(group) - len(scored),
            "accuracy": float(np.mean([m == h for m, h in zip(machine, people)])) if machine else math.nan,
            "kappa": cohen_kappa(machine, people),
            "binary_accuracy": float(np.mean([m == h for m, h in zip(binary_m, binary_h)])) if machine else math.nan,
            "binary_kappa": cohen_kappa(binary_m, binary_h),
            "best_threshold": threshold, "best_threshold_accuracy": threshold_accuracy,
        })
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def _best_threshold(values: np.ndarray, is_correct: np.ndarray) -> tuple[float, float]:
    keep = ~np.isnan(values)
    values, is_correct = values[keep], is_correct[keep]
    if values.size == 0:
        return (math.nan, math.nan)
    best_cut, best_accuracy = math.nan, -1.0
    for cut in np.unique(np.append(values, np.inf)):
        accuracy = float(np.mean((values >= cut) == is_correct))
        if accuracy > best_accuracy:
            best_cut, best_accuracy = float(cut), accuracy
    return best_cut, best_accuracy
