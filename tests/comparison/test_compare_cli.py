"""`replay compare` in a subprocess, and the comparison report it writes."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from replay.comparison import compare_executions, compare_runs, write_comparison_report

from .conftest import V1, V2, replay
from .test_pairing import SIDE_A, SIDE_B, frame

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_LINK = "javascript:alert(2)"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> tuple[str, _Page]:
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    return html, page


def gate(run_dir: Path, book_a: str, book_b: str, points: float, cwd: Path):
    return replay("compare", str(run_dir), "--book-a", book_a, "--book-b", book_b,
                  "--fail-on-drop", f"{points:g}", "--out", str(cwd / "gate.html"), cwd=cwd)


def test_gate_exit_codes(two_book_run: Path, workdir: Path) -> None:
    delta = compare_runs(two_book_run, book_a=V1, book_b=V2).accuracy.delta * 100
    assert delta != 0, "the sample should give the two versions different accuracy"
    # order the books so that B is the less accurate one
    worse_first = (V1, V2) if delta < 0 else (V2, V1)
    better_first = worse_first[::-1]
    drop = abs(delta)

    failed = gate(two_book_run, *worse_first, drop / 2, workdir)
    assert failed.returncode == 1, failed.stderr
    assert "gate failed" in failed.stderr
    assert gate(two_book_run, *worse_first, drop + 0.5, workdir).returncode == 0
    assert gate(two_book_run, *better_first, 0, workdir).returncode == 0


def test_compare_prints_and_writes(two_book_run: Path, workdir: Path) -> None:
    done = replay("compare", str(two_book_run), cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "McNemar exact test" in done.stdout
    report = Path(re.search(r"^report: (.+)$", done.stdout, re.MULTILINE).group(1))
    path = report if report.is_absolute() else workdir / report
    assert path.parent == workdir / "reports"
    html, page = parse(path)
    assert V2 in html
    assert [attrs.get("id") for tag, attrs in page.tags if tag == "section" and attrs.get("id")][:3] == [
        "regressions", "fixes", "still_wrong"]


def test_compare_two_runs_cli(v1_run: Path, v2_run: Path, workdir: Path) -> None:
    done = replay("compare", str(v1_run), str(v2_run), "--out", str(workdir / "two.html"), cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "only in A: 10" in done.stdout
    _, page = parse(workdir / "two.html")
    assert "Only in A" in "".join(page.text)


def test_unknown_book_exit_two(two_book_run: Path, workdir: Path) -> None:
    done = replay("compare", str(two_book_run), "--book-a", "nope", cwd=workdir)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "nope" in done.stderr


def test_help_lists_exit_codes(workdir: Path) -> None:
    done = replay("compare", "--help", cwd=workdir)
    assert done.returncode == 0
    assert "Exit codes:" in done.stdout
    assert "--fail-on-drop" in done.stdout


def test_report_escapes_hostile(tmp_path: Path) -> None:
    incidents = pd.DataFrame({"incident_id": ["I6", "I12"], "title": [HOSTILE_SCRIPT, "plain"],
                              "root_cause": [HOSTILE_SCRIPT, "pool"], "message_link": [HOSTILE_LINK, None]})
    hostile_b = SIDE_B.assign(highlights=SIDE_B["highlights"].where(SIDE_B["incident_id"] != "I6", HOSTILE_SCRIPT))
    comparison = compare_executions(SIDE_A, hostile_b, incidents=incidents, notes=(HOSTILE_SCRIPT,))
    html, page = parse(write_comparison_report(comparison, tmp_path / "hostile.html"))
    assert not any(tag == "script" for tag, _ in page.tags)
    assert HOSTILE_SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE_LINK not in [attrs.get("href") for tag, attrs in page.tags if tag == "a"]
    text = "".join(page.text)
    for title in ("Regressions", "Fixes", "Still wrong", "Not scored on both sides", "Only in A", "Only in B",
                  "Notes"):
        assert title in text
    assert "(no answer: timeout)" in text


def test_report_lower_is_better(tmp_path: Path) -> None:
    rows = [(f"I{i}", "correct") for i in range(20)]
    timeouts = {f"I{i}": "timeout" for i in range(10)}
    comparison = compare_executions(frame(rows), frame(rows, status=timeouts))
    html = write_comparison_report(comparison, tmp_path / "rates.html").read_text(encoding="utf-8")
    row = re.search(r"<th scope=\"row\">timeout rate</th>.*?</tr>", html, re.DOTALL)
    assert row is not None
    assert "worse" in row.group(0)
    assert "better" not in row.group(0)


@pytest.mark.parametrize("missing", ["a", "metrics"])
def test_report_requires_keys(tmp_path: Path, missing: str) -> None:
    from replay.comparison import comparison_report_dict
    from replay.errors import ReportError
    from replay.report.paired_comparison import render_paired_comparison_report

    report = comparison_report_dict(compare_executions(SIDE_A, SIDE_B))
    del report[missing]
    with pytest.raises(ReportError, match=repr(missing)):
        render_paired_comparison_report(comparison=report, path=tmp_path / "x.html")
