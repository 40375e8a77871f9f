"""Reports of large runs: which executions the page embeds, and what it says about the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_builders import make_manifest, make_run_frames, make_summary

from replay.report import render_run_report
from replay.report._selection import choose_embedded, overview


def _results(statuses: list[list[str]]) -> pd.DataFrame:
    """One group per inner list: the repeats of incident I<n> against one book."""
    rows = [
        {"execution_key": f"I{group}/b/{repeat}", "incident_id": f"I{group}", "book_name": "b",
         "repeat": repeat, "status": status, "latency_s": 0.5}
        for group, repeats in enumerate(statuses) for repeat, status in enumerate(repeats)
    ]
    return pd.DataFrame(rows)


def _scores(results: pd.DataFrame, verdicts: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "execution_key": results["execution_key"], "scorer": "rca",
        "verdict": [verdicts.get(key, "correct") for key in results["execution_key"]], "score": 1.0,
    })


def _embedded_groups(mask: pd.Series, results: pd.DataFrame) -> set[str]:
    return set(results.loc[mask.to_numpy(), "incident_id"])


def test_choose_failed_first() -> None:
    results = _results([["ok", "ok"]] * 5 + [["ok", "timeout"]])
    mask = choose_embedded(results, _scores(results, {}), "rca", limit=2)
    assert _embedded_groups(mask, results) == {"I5"}
    assert mask.sum() == 2


def test_choose_disagreement_next() -> None:
    results = _results([["ok", "ok"]] * 6)
    verdicts = {"I2/b/0": "correct", "I2/b/1": "incorrect", "I4/b/0": "incorrect", "I4/b/1": "incorrect"}
    mask = choose_embedded(results, _scores(results, verdicts), "rca", limit=4)
    assert _embedded_groups(mask, results) == {"I2", "I4"}


def test_choose_keeps_groups_whole() -> None:
    results = _results([["ok"] * 3] * 7)
    mask = choose_embedded(results, _scores(results, {}), "rca", limit=7)
    assert mask.sum() == 6
    assert results.loc[mask.to_numpy()].groupby("incident_id").size().eq(3).all()


def test_choose_seeded_sample() -> None:
    results = _results([["ok"]] * 50)
    first = choose_embedded(results, _scores(results, {}), "rca", limit=10)
    second = choose_embedded(results, _scores(results, {}), "rca", limit=10)
    assert first.equals(second)
    assert first.sum() == 10
    assert _embedded_groups(first, results) != {f"I{n}" for n in range(10)}


def test_choose_oversized_group() -> None:
    results = _results([["ok"] * 5])
    assert choose_embedded(results, _scores(results, {}), "rca", limit=3).sum() == 3


def test_overview_counts_all() -> None:
    results = _results([["ok", "timeout"], ["ok", "ok"]])
    counts = overview(results)
    assert counts.n_executions == 4
    assert counts.status_counts == {"b": {"ok": 3, "timeout": 1}}
    assert counts.latencies_by_book == {"b": [0.5] * 4}
    assert counts.has_repeats


def _render(frames: dict[str, Any], path: Path, max_embedded: int) -> str:
    render_run_report(manifest=make_manifest(), incidents=frames["incidents"], results=frames["results"],
                      scores=frames["scores"], summary=make_summary("book_name", ["db-checks", "incident-triage"]),
                      path=path, max_embedded=max_embedded)
    return path.read_text(encoding="utf-8")


def _payload(html: str) -> dict[str, Any]:
    return json.loads(html.split('id="report-data">', 1)[1].split("</script>", 1)[0])


def test_report_capped_note(tmp_path: Path) -> None:
    frames = make_run_frames(30, seed=5)
    html = _render(frames, tmp_path / "report.html", max_embedded=20)
    payload = _payload(html)
    assert len(payload["executions"]) == 20
    assert payload["n_executions"] == 60
    assert "This table holds 20 of the run's 60 executions" in html
    assert set(payload["incidents"]) == {row[1] for row in payload["executions"]}
    status_rows = html.split("Executions by status", 1)[1].split("</tbody>", 1)[0].split("<tr>")[2:]
    totals = [int(row.rsplit('<td class="num">', 1)[1].split("<")[0].replace(",", "")) for row in status_rows]
    assert sum(totals) == 60


def test_report_complete_without_note(tmp_path: Path) -> None:
    frames = make_run_frames(30, seed=5)
    html = _render(frames, tmp_path / "report.html", max_embedded=60)
    assert len(_payload(html)["executions"]) == 60
    assert 'id="embedded-note"' not in html


@pytest.mark.browser
def test_capped_status_line(tmp_path: Path) -> None:
    """The table's status line counts the embedded executions and the whole run."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    path = tmp_path / "report.html"
    _render(make_run_frames(30, seed=5), path, max_embedded=20)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(path.as_uri())
        status = page.text_content("#table-status")
        browser.close()
    assert "(20 in this table, 60 in the run)" in status
