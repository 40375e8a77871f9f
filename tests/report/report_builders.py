"""Builders of realistic run frames for the report tests and the report benchmark."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd

from replay.report import render_run_report

__all__ = [
    "HOSTILE_END_TAG",
    "HOSTILE_IMG",
    "HOSTILE_LINK",
    "HOSTILE_SCRIPT",
    "make_calibration",
    "make_comparison",
    "make_hostile_frames",
    "make_manifest",
    "make_run_frames",
    "make_stability",
    "make_summary",
    "render_sample",
]

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_END_TAG = "</script><script>alert(2)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(3)>'
HOSTILE_LINK = "javascript:alert(4)"

CATEGORIES = (
    "connection_pool_exhaustion",
    "bad_deploy",
    "config_change",
    "certificate_expiry",
    "dns_failure",
    "disk_full",
    "memory_leak",
    "throttling",
)
SERVICES = ("checkout", "payments", "search", "auth", "inventory", "gateway")
SEVERITIES = ("sev1", "sev2", "sev3")
STATUS_WEIGHTS = {
    "ok": 86,
    "playbook_error": 3,
    "no_data": 4,
    "http_error": 2,
    "timeout": 3,
    "invalid_response": 1,
    "invalid_input": 1,
}
SCORERS = ("element", "keyword", "lexical")


def make_manifest(**overrides: Any) -> dict[str, Any]:
    """Return a run manifest with every documented key."""
    manifest: dict[str, Any] = {
        "run_id": "20260714-031200-q3",
        "label": "Q3 replay of incident-triage",
        "dataset_path": "datasets/q3.parquet",
        "dataset_sha256": "9f2c" * 16,
        "started_at": "2026-07-14T03:12:00+00:00",
        "finished_at": "2026-07-14T03:41:27+00:00",
        "status": "finished",
        "replay_version": "0.1.0",
        "settings": {"concurrency": 8, "rate": 4.0, "books": ["incident-triage"], "timeout_s": 120},
        "counts": {"executions": 0, "ok": 0, "failed": 0},
    }
    manifest.update(overrides)
    return manifest


def make_run_frames(
    n_incidents: int,
    *,
    books: tuple[str, ...] = ("incident-triage", "db-checks"),
    repeats: int = 1,
    seed: int = 7,
    highlights_chars: int = 400,
) -> dict[str, pd.DataFrame]:
    """Build incidents, results and scores frames shaped like the run's Parquet tables."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    incident_rows = []
    for number in range(n_incidents):
        category = CATEGORIES[number % len(CATEGORIES)]
        service = SERVICES[number % len(SERVICES)]
        incident_rows.append(
            {
                "incident_id": f"INC-{number:05d}",
                "row": number + 1,
                "time": pd.Timestamp(start + dt.timedelta(hours=number)),
                "book_name": books[0],
                "title": f"{service} error rate above 5% ({category.replace('_', ' ')})",
                "details": f"Alert fired for {service} in us-east-1. p99 latency rose to 4 s.",
                "message_link": f"https://example.slack.com/archives/C01/p{number:010d}",
                "attributes": [("service", service), ("region", "us-east-1")],
                "root_cause": f"{service} {category.replace('_', ' ')} after the 14:00 rollout",
                "root_cause_component": service,
                "root_cause_category": category,
                "root_cause_keywords": [service, category.split("_")[0]],
                "human_verdict": None,
                "service": service,
                "severity": SEVERITIES[number % len(SEVERITIES)],
            }
        )
    incidents = pd.DataFrame(incident_rows)

    filler = " Checked dashboards, logs and recent deploys for the window." * (
        highlights_chars // 60
    )
    result_rows, score_rows = [], []
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    for incident in incident_rows:
        for book in books:
            for repeat in range(repeats):
                key = f"{incident['incident_id']}|{book}|{repeat}"
                status = rng.choices(statuses, weights)[0]
                is_ok = status == "ok"
                latency = (
                    rng.lognormvariate(2.3, 0.5)
                    if status not in ("invalid_input", "timeout")
                    else None
                )
                started = incident["time"] + pd.Timedelta(days=30)
                guess = (
                    incident["root_cause"] if rng.random() < 0.6 else "upstream dependency outage"
                )
                result_rows.append(
                    {
                        "schema_version": 1,
                        "run_id": "20260714-031200-q3",
                        "execution_key": key,
                        "incident_id": incident["incident_id"],
                        "book_name": book,
                        "repeat": repeat,
                        "status": status,
                        "attempts": 1 if is_ok else rng.randint(1, 4),
                        "http_status": 200
                        if status in ("ok", "playbook_error", "no_data")
                        else (None if status == "timeout" else 503),
                        "latency_s": latency,
                        "queue_s": rng.random() * 0.2,
                        "backoff_s": 0.0,
                        "started_at": started,
                        "finished_at": started + pd.Timedelta(seconds=latency or 0),
                        "error": None if is_ok else f"{status}: upstream returned an error",
                        "highlights": f"Root cause: {guess}.{filler}" if is_ok else None,
                        "action_results": [
                            {
                                "title": "Error rate by pod",
                                "short_answer": "Errors concentrate on 3 of 12 pods.",
                                "most_important_link": "https://grafana.example.com/d/abc",
                            }
                        ]
                        if is_ok
                        else [],
                        "gadgets_highlights": [
                            {
                                "title": "Deploy timeline",
                                "highlights": "A deploy at 13:58.",
                                "args_json": '{"window": "1h"}',
                            }
                        ]
                        if is_ok
                        else [],
                        "actionable_mitigations": [
                            {
                                "tool_name": "kubectl",
                                "custom_name": "Roll back",
                                "url": "https://runbooks.example.com/rollback",
                                "action_json": '{"revision": 41}',
                            }
                        ]
                        if is_ok
                        else [],
                        "enrichment_link": "https://app.example.com/executions/" + key
                        if is_ok
                        else None,
                        "response_body": None,
                    }
                )
                for scorer in SCORERS:
                    if is_ok:
                        value = 1.0 if guess == incident["root_cause"] else rng.choice([0.0, 0.5])
                        verdict = {1.0: "correct", 0.5: "partial", 0.0: "incorrect"}[value]
                        explanation = f"{scorer}: matched {int(value * 2)} of 2 elements"
                    else:
                        value, verdict, explanation = None, "unscored", f"execution status {status}"
                    score_rows.append(
                        {
                            "schema_version": 1,
                            "execution_key": key,
                            "incident_id": incident["incident_id"],
                            "book_name": book,
                            "repeat": repeat,
                            "scorer": scorer,
                            "scorer_version": "1",
                            "score": value,
                            "verdict": verdict,
                            "explanation": explanation,
                            "extracted_root_cause": guess if is_ok else None,
                            "evidence_json": json.dumps(
                                {"matched": [incident["root_cause_component"]]}
                            )
                            if is_ok
                            else None,
                        }
                    )
    return {
        "incidents": incidents,
        "results": pd.DataFrame(result_rows),
        "scores": pd.DataFrame(score_rows),
    }


def make_summary(group: str, values: list[str]) -> pd.DataFrame:
    """Build a summary frame with plausible numbers, one row per group value."""
    rows = []
    for index, value in enumerate(values):
        accuracy = 0.55 + 0.1 * index
        rows.append(
            {
                group: value,
                "n_executions": 500,
                "n_scored": 430,
                "n_correct": int(430 * accuracy),
                "n_partial": 40,
                "n_incorrect": 430 - int(430 * accuracy) - 40,
                "n_unscored": 70,
                "accuracy": accuracy,
                "accuracy_low": accuracy - 0.047,
                "accuracy_high": accuracy + 0.045,
                "mean_score": accuracy + 0.04,
                "mean_score_low": accuracy + 0.01,
                "mean_score_high": accuracy + 0.07,
                "error_rate": 0.09,
                "timeout_rate": 0.03,
                "no_data_rate": 0.04,
                "latency_p50_s": 9.8,
                "latency_p90_s": 18.9,
                "latency_p99_s": 31.2,
            }
        )
    return pd.DataFrame(rows)


def make_stability(books: list[str]) -> pd.DataFrame:
    """Build a stability frame, as ``summarize_stability`` returns it, one row per book.

    The first book is fully stable; each later book has 5 of 27 incidents unstable.
    """
    rows = []
    for index, book in enumerate(books):
        is_stable = index == 0
        rows.append(
            {
                "book_name": book,
                "n_incidents": 3 if is_stable else 27,
                "repeats": 3,
                "consistency": 1.0 if is_stable else 0.938272,
                "consistency_low": 1.0 if is_stable else 0.888889,
                "consistency_high": 1.0 if is_stable else 0.975309,
                "n_unstable": 0 if is_stable else 5,
                "unstable_rate": 0.0 if is_stable else 5 / 27,
                "majority_accuracy": 1.0 if is_stable else 0.592593,
                "pass_at_1": 1.0 if is_stable else 0.604938,
                "pass_at_k": 1.0 if is_stable else 0.703704,
            }
        )
    return pd.DataFrame(rows)


def make_calibration(scorers: tuple[str, ...] = SCORERS, **overrides: Any) -> dict[str, Any]:
    """Build a calibration mapping shaped like ``calibration.json``, one entry per scorer.

    Scorer number i (from 0) has accuracy 0.5 + 0.1 * i and kappa 0.2 * i. The last
    scorer has no best threshold (stored as null), the others 0.5.
    """
    entries = []
    for index, name in enumerate(scorers):
        correct = 20 + index
        entries.append(
            {
                "scorer": name,
                "n": 90,
                "n_unscored": index,
                "accuracy": 0.5 + 0.1 * index,
                "kappa": 0.2 * index,
                "binary_accuracy": 0.6 + 0.1 * index,
                "binary_kappa": 0.1 * index,
                "best_threshold": None if index == len(scorers) - 1 else 0.5,
                "best_threshold_accuracy": 0.7,
                "confusion": {
                    "correct": {"correct": correct, "partial": 5, "incorrect": 10},
                    "partial": {"correct": 20, "partial": 8 + index, "incorrect": 5},
                    "incorrect": {"correct": 17, "partial": 1, "incorrect": 3 + index},
                },
            }
        )
    calibration: dict[str, Any] = {
        "schema_version": 1,
        "created_at": "2026-07-15T09:00:00+00:00",
        "source": "labels file labels.csv",
        "n_verdicts": 30,
        "n_labeled_incidents": 30,
        "n_unmatched_labels": 0,
        "scorers": entries,
    }
    calibration.update(overrides)
    return calibration


def make_hostile_frames() -> dict[str, Any]:
    """Frames whose first execution carries hostile strings in every text field."""
    frames = make_run_frames(12, seed=5)
    incidents, results, scores = frames["incidents"], frames["results"], frames["scores"]
    incidents.loc[0, "title"] = HOSTILE_IMG
    incidents.loc[0, "root_cause"] = f"pool exhausted {HOSTILE_SCRIPT}"
    incidents.loc[0, "message_link"] = HOSTILE_LINK
    incidents.at[0, "root_cause_keywords"] = [HOSTILE_SCRIPT]
    incidents.loc[0, "service"] = HOSTILE_END_TAG

    first = results.index[results["incident_id"] == incidents.loc[0, "incident_id"]][0]
    results.loc[first, "status"] = "ok"
    results.loc[first, "highlights"] = f"Root cause: {HOSTILE_SCRIPT} then {HOSTILE_END_TAG}"
    results.loc[first, "error"] = HOSTILE_IMG
    results.loc[first, "enrichment_link"] = "JaVaScRiPt:alert(5)"
    results.at[first, "action_results"] = [
        {
            "title": HOSTILE_SCRIPT,
            "short_answer": HOSTILE_END_TAG,
            "most_important_link": HOSTILE_LINK,
        },
        {
            "title": "safe",
            "short_answer": "ok",
            "most_important_link": "https://grafana.example.com/d/1",
        },
    ]
    results.at[first, "gadgets_highlights"] = [
        {"title": HOSTILE_IMG, "highlights": HOSTILE_END_TAG, "args_json": HOSTILE_END_TAG}
    ]
    results.at[first, "actionable_mitigations"] = [
        {
            "tool_name": HOSTILE_SCRIPT,
            "custom_name": None,
            "url": "data:text/html,<script>alert(6)</script>",
            "action_json": "{}",
        }
    ]
    key = results.loc[first, "execution_key"]
    scores.loc[scores["execution_key"] == key, "explanation"] = HOSTILE_SCRIPT
    scores.loc[scores["execution_key"] == key, "extracted_root_cause"] = HOSTILE_END_TAG
    scores.loc[scores["execution_key"] == key, "evidence_json"] = '{"x": "</script>"}'
    frames["hostile_key"] = key
    return frames


def render_sample(
    frames: dict[str, Any],
    path: Path,
    *,
    stability: pd.DataFrame | None = None,
    calibration: dict[str, Any] | None = None,
    **manifest_overrides: Any,
) -> Path:
    """Render a run report of ``frames`` with a two-book summary and a severity breakdown."""
    return render_run_report(
        manifest=make_manifest(**manifest_overrides),
        incidents=frames["incidents"],
        results=frames["results"],
        scores=frames["scores"],
        summary=make_summary("book_name", ["db-checks", "incident-triage"]),
        summaries_by={"severity": make_summary("severity", ["sev1", "sev2", "sev3"])},
        path=path,
        stability=stability,
        calibration=calibration,
    )


def make_comparison(n_regressions: int = 3) -> dict[str, Any]:
    """Build a comparison dict of two book versions with hostile strings in one entry."""
    entry = {
        "incident_id": "INC-00001",
        "title": HOSTILE_IMG,
        "root_cause": f"pool exhausted {HOSTILE_SCRIPT}",
        "a_verdict": "correct",
        "b_verdict": "incorrect",
        "a_score": 1.0,
        "b_score": 0.0,
        "a_highlights": HOSTILE_END_TAG,
        "b_highlights": "Root cause: DNS failure.",
        "message_link": HOSTILE_LINK,
    }
    regressions = [entry] + [
        {
            **entry,
            "incident_id": f"INC-{number:05d}",
            "title": "checkout errors",
            "message_link": "https://example.slack.com/archives/C01/p1",
        }
        for number in range(2, n_regressions + 1)
    ]
    return {
        "a": {"label": "incident-triage", "run_id": "run-a", "book_name": "incident-triage"},
        "b": {"label": "incident-triage-v2", "run_id": "run-a", "book_name": "incident-triage-v2"},
        "scorer": "element",
        "n_pairs": 240,
        "metrics": [
            {
                "name": "accuracy",
                "unit": "fraction",
                "a": 0.62,
                "b": 0.71,
                "delta": 0.09,
                "delta_low": 0.04,
                "delta_high": 0.14,
            },
            {
                "name": "mean_score",
                "unit": "score",
                "a": 0.66,
                "b": 0.70,
                "delta": 0.04,
                "delta_low": -0.01,
                "delta_high": 0.09,
            },
            {
                "name": "error_rate",
                "unit": "fraction",
                "a": 0.05,
                "b": 0.09,
                "delta": 0.04,
                "delta_low": 0.01,
                "delta_high": 0.07,
            },
            {
                "name": "latency_p50_s",
                "unit": "seconds",
                "a": 9.8,
                "b": 8.1,
                "delta": -1.7,
                "delta_low": -2.4,
                "delta_high": -1.0,
            },
        ],
        "mcnemar": {"regressions": n_regressions, "fixes": 24, "p_value": 0.00012},
        "regressions": regressions,
        "fixes": [],
        "still_wrong": [
            {"incident_id": "INC-00009", "a_verdict": "partial", "b_verdict": "incorrect"}
        ],
    }
