"""Tests of the run report's Repeats and scorer agreement sections, by hand and from a real run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_builders import (
    HOSTILE_END_TAG,
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    make_calibration,
    make_run_frames,
    make_stability,
    render_sample,
)

from replay.scoring.calibration import read_calibration
from replay.scoring.stats import summarize_stability

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DATASET = REPO_ROOT / "datasets" / "q3.parquet"


def section(html: str, section_id: str) -> str:
    """Return the HTML of ``<section id=section_id>``, or "" when the page has none."""
    start = html.find(f'<section id="{section_id}">')
    if start < 0:
        return ""
    return html[start : html.index("</section>", start)]


def payload_of(html: str) -> dict[str, Any]:
    block = html.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    loaded: dict[str, Any] = json.loads(block)
    return loaded


def confusion_rows(html: str) -> list[list[str]]:
    """Return the first confusion table's body rows as [human verdict, counts..., total]."""
    table = html.split('class="summary confusion-table"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        re.findall(r">([^<>]+)</(?:span|td)>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def test_repeats_section_numbers(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    stability = make_stability(["db-checks", "incident-triage"])
    html = render_sample(run_frames, tmp_path / "r.html", stability=stability).read_text()
    repeats = section(html, "repeats")
    assert "<h2>Repeats</h2>" in repeats
    assert ">incident-triage</th>" in repeats
    assert "<strong>93.8%</strong>" in repeats
    assert '<span class="interval">88.9 to 97.5</span>' in repeats
    assert '<td class="num unstable">5 <span class="muted">(18.5%)</span></td>' in repeats
    assert '<td class="num">0 <span class="muted">(0.0%)</span></td>' in repeats
    for value in ("59.3%", "60.5%", "70.4%"):
        assert f'<td class="num">{value}</td>' in repeats
    assert "<code>element</code>" in repeats


def test_repeats_section_explains_metrics(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    stability = make_stability(["incident-triage"])
    html = render_sample(run_frames, tmp_path / "r.html", stability=stability).read_text()
    glossary = section(html, "repeats").split('<dl class="glossary">', 1)[1]
    terms = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", glossary)
    assert [term for term, _ in terms] == [
        "consistency",
        "unstable incidents",
        "majority-vote accuracy",
        "pass@1",
        "pass@k",
    ]
    assert all(meaning.endswith(".") for _, meaning in terms)


def test_repeats_absent_without_repeats(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    for stability in (None, pd.DataFrame(columns=["book_name", "consistency"])):
        html = render_sample(run_frames, tmp_path / "r.html", stability=stability).read_text()
        assert section(html, "repeats") == ""
        assert 'id="filter-repeats"' not in html
        assert 'data-sort="agreement"' not in html
        assert payload_of(html)["has_repeats"] is False


def test_repeats_without_scored_repeats(tmp_path: Path) -> None:
    """A run with repeats but no stability rows shows a note instead of a table."""
    frames = make_run_frames(4, repeats=3)
    html = render_sample(frames, tmp_path / "r.html").read_text()
    repeats = section(html, "repeats")
    assert "no incident has two scored repeats" in repeats
    assert "<table" not in repeats


def test_executions_table_compares_repeats(tmp_path: Path) -> None:
    frames = make_run_frames(4, repeats=3)
    stability = make_stability(["db-checks", "incident-triage"])
    html = render_sample(frames, tmp_path / "r.html", stability=stability).read_text()
    assert payload_of(html)["has_repeats"] is True
    assert '<select id="filter-repeats">' in html
    assert '<input type="checkbox" id="group-repeats" checked>' in html
    headers = re.findall(r'data-sort="([a-z_]+)"', html)
    assert headers.index("agreement") == headers.index("score") + 1


def test_stability_scorer_column_named(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    stability = make_stability(["incident-triage"]).assign(scorer="lexical")
    html = render_sample(run_frames, tmp_path / "r.html", stability=stability).read_text()
    repeats = section(html, "repeats")
    assert "<code>lexical</code>" in repeats
    assert ">scorer</th>" not in repeats


def test_agreement_section_numbers(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html = render_sample(
        run_frames, tmp_path / "r.html", calibration=make_calibration()
    ).read_text()
    agreement = section(html, "agreement")
    assert "<h2>Scorer agreement with people</h2>" in agreement
    assert "30 human verdicts on 30 incidents, from the labels file labels.csv" in agreement
    rows = re.findall(r"<tr( class=\"primary\")?>\s*<th scope=\"row\">(\w+)", agreement)
    assert rows == [(' class="primary"', "element"), ("", "keyword"), ("", "lexical")]
    for value in ("50.0%", "60.0%", "70.0%"):
        assert f"<strong>{value}</strong>" in agreement
    for value in ("0.000", "0.200", "0.400"):
        assert f'<td class="num">{value}</td>' in agreement
    assert agreement.count('<td class="num">0.500</td>') == 2
    assert '<td class="num">none</td>' in agreement


def test_confusion_of_primary_scorer(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    manifest_settings = {"primary_scorer": "keyword"}
    html = render_sample(
        run_frames, tmp_path / "r.html", calibration=make_calibration(), settings=manifest_settings
    ).read_text()
    agreement = section(html, "agreement")
    first, others = agreement.split('<details class="more-confusions">', 1)
    assert "person \\ keyword" in first
    assert confusion_rows(first) == [
        ["correct", "21", "5", "10", "36"],
        ["partial", "20", "9", "5", "34"],
        ["incorrect", "17", "1", "4", "22"],
    ]
    assert re.findall(r'<td class="num match">(\d+)</td>', first) == ["21", "9", "4"]
    assert "person \\ element" in others
    assert "person \\ lexical" in others
    assert "person \\ keyword" not in others


def test_confusion_falls_back_first(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    """A primary scorer that was never calibrated shows the first calibrated scorer."""
    calibration = make_calibration(("rca-old", "keyword"))
    html = render_sample(run_frames, tmp_path / "r.html", calibration=calibration).read_text()
    agreement = section(html, "agreement")
    assert 'class="primary"' not in agreement
    assert "person \\ rca-old" in agreement.split("<details", 1)[0]


def test_agreement_absent_without_calibration(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html = render_sample(run_frames, tmp_path / "r.html", calibration=None).read_text()
    assert section(html, "agreement") == ""
    assert 'class="summary confusion-table"' not in html


def test_agreement_notes_unmatched(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    calibration = make_calibration(n_unmatched_labels=4)
    html = render_sample(run_frames, tmp_path / "r.html", calibration=calibration).read_text()
    assert "4 human verdicts name an incident or book" in section(html, "agreement")


def test_agreement_missing_keys(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    """An older or hand-edited calibration.json renders with n/a rather than failing."""
    calibration = {"scorers": [{"scorer": "element"}, "not an entry"]}
    html = render_sample(run_frames, tmp_path / "r.html", calibration=calibration).read_text()
    agreement = section(html, "agreement")
    assert "from the n/a" in agreement
    assert agreement.count('<td class="num">n/a</td>') == 6
    assert confusion_rows(agreement)[0] == ["correct", "0", "0", "0", "0"]


def test_agreement_no_scorers(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html = render_sample(
        run_frames, tmp_path / "r.html", calibration=make_calibration(scorers=())
    ).read_text()
    agreement = section(html, "agreement")
    assert "No scorer had executions of a labeled incident." in agreement
    assert "confusion-table" not in agreement


def test_sections_escape_hostile(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    stability = make_stability(["incident-triage", HOSTILE_END_TAG])
    calibration = make_calibration(
        (HOSTILE_SCRIPT, "element"), source=HOSTILE_IMG, created_at=HOSTILE_END_TAG
    )
    manifest_settings = {"primary_scorer": HOSTILE_SCRIPT}
    html = render_sample(
        run_frames,
        tmp_path / "r.html",
        stability=stability.assign(scorer=HOSTILE_SCRIPT),
        calibration=calibration,
        settings=manifest_settings,
    ).read_text()
    assert "<script>alert" not in html
    assert "<img" not in html
    repeats, agreement = section(html, "repeats"), section(html, "agreement")
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;</th>" in repeats
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in repeats
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in agreement
    assert "from the &#34;&gt;&lt;img src=x onerror=alert(3)&gt;" in agreement
    assert "person \\ &lt;script&gt;" in agreement


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run 30 incidents three times on the built-in simulator, then calibrate with a labels file."""
    if not SAMPLE_DATASET.exists():
        pytest.skip(f"the sample dataset {SAMPLE_DATASET} is missing")
    work = tmp_path_factory.mktemp("run")
    run = [
        sys.executable, "-m", "replay", "run", str(SAMPLE_DATASET), "--simulator",
        "--simulator-latency", "0", "--limit", "30", "--repeat", "3",
    ]  # fmt: skip
    subprocess.run(run, cwd=work, check=True, capture_output=True, timeout=120)
    (run_dir,) = (work / "runs").iterdir()

    # the human verdicts cycle through correct, partial and incorrect in dataset order
    incidents = pd.read_parquet(run_dir / "incidents.parquet")
    verdicts = ["correct", "partial", "incorrect"] * len(incidents)
    labels = pd.DataFrame(
        {"incident_id": incidents["incident_id"], "human_verdict": verdicts[: len(incidents)]}
    )
    labels.to_csv(work / "labels.csv", index=False)
    score = [
        sys.executable, "-m", "replay", "score", str(run_dir), "--calibrate",
        "--labels", str(work / "labels.csv"),
    ]  # fmt: skip
    subprocess.run(score, cwd=work, check=True, capture_output=True, timeout=120)
    return {
        "run_dir": run_dir,
        "html": (run_dir / "report.html").read_text(encoding="utf-8"),
        "scores": pd.read_parquet(run_dir / "scores.parquet"),
        "calibration": read_calibration(run_dir),
    }


def test_real_run_repeats(real_run: dict[str, Any]) -> None:
    repeats = section(real_run["html"], "repeats")
    stability = summarize_stability(real_run["scores"])
    assert sorted(stability["book_name"]) == ["db-checks", "incident-triage"]
    for book in stability.itertuples():
        row = repeats.split(f">{book.book_name}</th>", 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r"<td class=\"num[^\"]*\">(.*?)</td>", row)
        assert cells[0] == str(book.n_incidents)
        assert cells[1] == "3"
        assert cells[2].startswith(f"<strong>{book.consistency * 100:.1f}%</strong>")
        assert cells[3].startswith(f"{book.n_unstable} ")
        assert cells[6] == f"{book.pass_at_k * 100:.1f}%"


def test_real_run_table_groups(real_run: dict[str, Any]) -> None:
    payload = payload_of(real_run["html"])
    assert payload["has_repeats"] is True
    repeat_index = payload["fields"].index("repeat")
    assert sorted({row[repeat_index] for row in payload["executions"]}) == [1, 2, 3]
    assert 'id="group-repeats" checked' in real_run["html"]


def test_real_run_agreement(real_run: dict[str, Any]) -> None:
    agreement = section(real_run["html"], "agreement")
    calibration = real_run["calibration"]
    assert calibration is not None
    scorers = [entry["scorer"] for entry in calibration["scorers"]]
    assert len(scorers) == 3
    for entry in calibration["scorers"]:
        row = agreement.split(f'<th scope="row">{entry["scorer"]}', 1)[1].split("</tr>", 1)[0]
        assert f"<strong>{entry['accuracy'] * 100:.1f}%</strong>" in row
        assert f'<td class="num">{entry["kappa"]:.3f}</td>' in row
    assert "person \\ rca" in agreement.split("<details", 1)[0]
    rca = next(entry for entry in calibration["scorers"] if entry["scorer"] == "rca")
    rows = confusion_rows(agreement)
    assert sum(int(row[-1]) for row in rows) == rca["n"]
    assert [row[0] for row in rows] == ["correct", "partial", "incorrect"]
