"""Tests of the comparison report's HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_builders import HOSTILE_LINK, HOSTILE_SCRIPT, make_comparison

from replay.errors import ReportError
from replay.report import comparison as comparison_module
from replay.report import render_comparison_report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def render(
    tmp_path: Path, n_regressions: int = 3
) -> tuple[str, list[tuple[str, dict[str, str | None]]]]:
    path = render_comparison_report(
        comparison=make_comparison(n_regressions), path=tmp_path / "compare.html"
    )
    html = path.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    return html, parser.tags


def test_comparison_has_no_script(tmp_path: Path) -> None:
    _, tags = render(tmp_path)
    assert not any(tag == "script" for tag, _ in tags)
    csp = [
        attrs.get("content") or ""
        for tag, attrs in tags
        if attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(csp) == 1
    assert "script-src 'none'" in csp[0]


def test_comparison_escapes_hostile(tmp_path: Path) -> None:
    html, tags = render(tmp_path)
    assert HOSTILE_SCRIPT not in html
    assert "<img" not in html
    hrefs = [attrs.get("href") for tag, attrs in tags if tag == "a"]
    assert HOSTILE_LINK not in hrefs
    assert "https://example.slack.com/archives/C01/p1" in hrefs
    assert f'<span class="unsafe-link">{HOSTILE_LINK}</span>' in html


def test_comparison_metrics_shown(tmp_path: Path) -> None:
    html, _ = render(tmp_path)
    assert "+9.0 pts" in html
    assert "+4.0 pts to +14.0 pts" in html
    assert "-1.70 s" in html
    assert "p = <strong>0.00012</strong>" in html


def test_comparison_marks_direction(tmp_path: Path) -> None:
    html, _ = render(tmp_path)
    rows = {row.split("</th>")[0].rsplit(">", 1)[-1]: row for row in html.split("<tr>")[1:]}
    assert "better" in rows["accuracy"]
    assert "no clear change" in rows["mean score"]
    assert "worse" in rows["error rate"]
    assert "better" in rows["latency p50 s"]


def test_comparison_lists_counted(tmp_path: Path) -> None:
    html, _ = render(tmp_path)
    assert 'Regressions <span class="muted">(3)</span>' in html
    assert 'Fixes <span class="muted">(0)</span>' in html
    assert html.count('<details class="pair">') == 4


def test_comparison_cuts_long_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comparison_module, "MAX_LISTED_INCIDENTS", 5)
    html, _ = render(tmp_path, n_regressions=8)
    assert "3 more not listed here." in html
    assert html.count('<details class="pair">') == 6


def test_comparison_missing_keys(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"no 'metrics' key"):
        render_comparison_report(comparison={"a": {}, "b": {}}, path=tmp_path / "compare.html")
