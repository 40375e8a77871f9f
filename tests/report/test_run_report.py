"""Tests of the run report's HTML: escaping, self-containment, content and errors."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from report_builders import (
    HOSTILE_END_TAG,
    HOSTILE_IMG,
    HOSTILE_LINK,
    HOSTILE_SCRIPT,
    make_manifest,
    make_run_frames,
    make_summary,
    render_sample,
)

from replay.errors import ReportError
from replay.report import render_run_report


class _Page(HTMLParser):
    """Collect every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script_attrs: dict[str, str | None] | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script_attrs = dict(attrs)
            self._script_text = []

    def handle_data(self, data: str) -> None:
        if self._script_attrs is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script_attrs is not None:
            self.scripts.append((self._script_attrs, "".join(self._script_text)))
            self._script_attrs = None


def parse(path: Path) -> tuple[str, _Page]:
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    page.close()
    return html, page


def embedded_payload(page: _Page) -> dict[str, Any]:
    blocks = [text for attrs, text in page.scripts if attrs.get("type") == "application/json"]
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_render_returns_path(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    path = render_sample(run_frames, tmp_path / "nested" / "report.html")
    assert path == tmp_path / "nested" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_readable_by_group(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    """The report gets the umask's permissions, not those of a private temporary file."""
    previous = os.umask(0o022)
    try:
        path = render_sample(run_frames, tmp_path / "report.html")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [item.name for item in tmp_path.iterdir()] == ["report.html"]


def test_no_external_resources(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    for tag, attrs in page.tags:
        assert "src" not in attrs, f"<{tag}> loads {attrs['src']!r}"
        assert tag not in ("link", "iframe", "img", "object", "embed"), f"unexpected <{tag}>"
        href = attrs.get("href") or ""
        assert not re.match(r"\s*(https?:)?//", href), f"<{tag}> links to {href!r}"


def test_csp_blocks_network(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    csp = [
        attrs["content"]
        for tag, attrs in page.tags
        if attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(csp) == 1
    assert "default-src 'none'" in (csp[0] or "")
    assert "'unsafe-inline'" not in (csp[0] or "").split("script-src")[1].split(";")[0]


def test_csp_hash_matches_script(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    csp = next(
        attrs["content"]
        for tag, attrs in page.tags
        if attrs.get("http-equiv") == "Content-Security-Policy"
    )
    inline = [text for attrs, text in page.scripts if "type" not in attrs]
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode("utf-8")).digest()).decode()
    assert f"'sha256-{digest}'" in (csp or "")


def test_script_has_no_inner_html(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    inline = next(text for attrs, text in page.scripts if "type" not in attrs)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in inline


def test_hostile_strings_escaped(tmp_path: Path, hostile_frames: dict[str, Any]) -> None:
    html, page = parse(
        render_sample(
            hostile_frames, tmp_path / "report.html", label=HOSTILE_SCRIPT, dataset_path=HOSTILE_IMG
        )
    )
    assert HOSTILE_SCRIPT not in html
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(page.scripts) == 2
    assert not any(tag == "img" for tag, _ in page.tags)


def test_end_tag_cannot_close_json(tmp_path: Path, hostile_frames: dict[str, Any]) -> None:
    html, page = parse(render_sample(hostile_frames, tmp_path / "report.html"))
    data_block = html.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data_block
    payload = embedded_payload(page)
    highlights = [row[payload["fields"].index("highlights")] for row in payload["executions"]]
    assert f"Root cause: {HOSTILE_SCRIPT} then {HOSTILE_END_TAG}" in highlights


def test_payload_keeps_hostile_text(tmp_path: Path, hostile_frames: dict[str, Any]) -> None:
    _, page = parse(render_sample(hostile_frames, tmp_path / "report.html"))
    payload = embedded_payload(page)
    incident = payload["incidents"]["INC-00000"]
    assert incident["title"] == HOSTILE_IMG
    assert incident["message_link"] == HOSTILE_LINK
    assert incident["keywords"] == [HOSTILE_SCRIPT]
    assert incident["metadata"]["service"] == HOSTILE_END_TAG


def test_payload_rows_match_results(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    payload = embedded_payload(page)
    fields = payload["fields"]
    assert len(payload["executions"]) == len(run_frames["results"])
    assert payload["scorers"] == ["element", "keyword", "lexical"]
    assert payload["primary_scorer"] == 0
    first = dict(zip(fields, payload["executions"][0], strict=True))
    expected = run_frames["results"].iloc[0]
    assert first["key"] == expected["execution_key"]
    assert first["status"] == expected["status"]
    assert len(first["scores"]) == 3


def test_parquet_round_trip(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    """List, map and timestamp columns read back from Parquet render like Python lists."""
    incidents = run_frames["incidents"]
    schema = pa.Schema.from_pandas(incidents.drop(columns=["attributes"]), preserve_index=False)
    schema = schema.append(pa.field("attributes", pa.map_(pa.string(), pa.string())))
    pq.write_table(
        pa.Table.from_pandas(incidents, schema=schema, preserve_index=False),
        tmp_path / "incidents.parquet",
    )
    run_frames["incidents"] = pd.read_parquet(tmp_path / "incidents.parquet")
    for name in ("results", "scores"):
        run_frames[name].to_parquet(tmp_path / f"{name}.parquet")
        run_frames[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    payload = embedded_payload(page)
    fields = payload["fields"]
    ok_rows = [
        dict(zip(fields, row, strict=True))
        for row in payload["executions"]
        if row[fields.index("status")] == "ok"
    ]
    assert ok_rows[0]["action_results"][0][2] == "https://grafana.example.com/d/abc"
    assert ok_rows[0]["gadgets"][0][0] == "Deploy timeline"
    incident = payload["incidents"]["INC-00000"]
    assert incident["attributes"] == {"service": "checkout", "region": "us-east-1"}
    assert incident["time"].startswith("2026-07-01T00:00:00")


def test_summary_numbers_shown(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html, _ = parse(render_sample(run_frames, tmp_path / "report.html"))
    assert "55.0%" in html
    assert "50.3 to 59.5" in html
    assert "0.590" in html
    assert "31.20 s" in html
    assert "By severity" in html
    assert ">sev3<" in html


def test_charts_drawn(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert len(svgs) == 2
    bars = [attrs for tag, attrs in page.tags if tag == "rect" and attrs.get("class") == "bar"]
    assert len(bars) == 2
    assert "95% interval 50.3% to 59.5%" in html


def test_status_table_counts(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html, _ = parse(render_sample(run_frames, tmp_path / "report.html"))
    section = html.split('class="summary status-table"', 1)[1].split("</table>", 1)[0]
    counts = run_frames["results"].groupby("book_name").size()
    for book, total in counts.items():
        assert re.search(rf">{book}</th>.*?<td class=\"num\">{total}</td></tr>", section, re.S)


def test_header_shows_manifest(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    html, _ = parse(render_sample(run_frames, tmp_path / "report.html"))
    assert "20260714-031200-q3" in html
    assert "Q3 replay of incident-triage" in html
    assert "datasets/q3.parquet" in html
    assert "29m 27s" in html
    assert "&#34;incident-triage&#34;" in html


def test_missing_manifest_keys(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    path = render_run_report(
        manifest={},
        incidents=run_frames["incidents"],
        results=run_frames["results"],
        scores=run_frames["scores"],
        summary=make_summary("book_name", ["db-checks"]),
        path=tmp_path / "report.html",
    )
    assert "n/a" in path.read_text(encoding="utf-8")


def test_unscored_run_renders(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    path = render_run_report(
        manifest=make_manifest(),
        incidents=run_frames["incidents"],
        results=run_frames["results"],
        scores=pd.DataFrame(),
        summary=pd.DataFrame(columns=["book_name", "n_executions"]),
        path=tmp_path / "report.html",
    )
    _, page = parse(path)
    payload = embedded_payload(page)
    assert payload["scorers"] == []
    assert payload["primary_scorer"] == -1


def test_settings_name_primary_scorer(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    manifest = make_manifest(settings={"primary_scorer": "lexical"})
    path = render_run_report(
        manifest=manifest,
        incidents=run_frames["incidents"],
        results=run_frames["results"],
        scores=run_frames["scores"],
        summary=make_summary("book_name", ["db-checks"]),
        path=tmp_path / "report.html",
    )
    _, page = parse(path)
    assert embedded_payload(page)["primary_scorer"] == 2


def test_summary_scorer_column_names_primary(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    summary = make_summary("book_name", ["db-checks"]).assign(scorer="keyword")
    path = render_run_report(
        manifest=make_manifest(),
        incidents=run_frames["incidents"],
        results=run_frames["results"],
        scores=run_frames["scores"],
        summary=summary,
        path=tmp_path / "report.html",
    )
    _, page = parse(path)
    assert embedded_payload(page)["primary_scorer"] == 1


def test_missing_column_raises(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    results = run_frames["results"].drop(columns=["status"])
    with pytest.raises(ReportError, match=r"results frame has no column 'status'"):
        render_run_report(
            manifest=make_manifest(),
            incidents=run_frames["incidents"],
            results=results,
            scores=run_frames["scores"],
            summary=make_summary("book_name", ["db-checks"]),
            path=tmp_path / "report.html",
        )


def test_unwritable_path_raises(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(ReportError, match=r"Could not write the report .*taken"):
        render_sample(run_frames, tmp_path / "taken")


def test_missing_values_render(tmp_path: Path) -> None:
    """None, NaN and NaT in every optional column end up as JSON null, never NaN."""
    frames = make_run_frames(3, books=("incident-triage",))
    results = frames["results"]
    for column in ("latency_s", "http_status", "attempts", "started_at", "highlights", "error"):
        results[column] = None
    results["action_results"] = None
    frames["incidents"]["root_cause_category"] = float("nan")
    frames["incidents"]["root_cause_keywords"] = None
    html, page = parse(render_sample(frames, tmp_path / "report.html"))
    assert "NaN" not in html.split('id="report-data">', 1)[1]
    payload = embedded_payload(page)
    row = dict(zip(payload["fields"], payload["executions"][0], strict=True))
    assert row["latency_s"] is None
    assert row["action_results"] == []
    assert payload["incidents"]["INC-00000"]["category"] is None


def test_long_text_is_cut(tmp_path: Path) -> None:
    frames = make_run_frames(2, books=("incident-triage",))
    frames["results"]["highlights"] = "x" * 50_000
    _, page = parse(render_sample(frames, tmp_path / "report.html"))
    payload = embedded_payload(page)
    highlights = payload["executions"][0][payload["fields"].index("highlights")]
    assert len(highlights) < 21_000
    assert highlights.endswith("50,000 characters in total]")


def test_book_named_total(tmp_path: Path) -> None:
    frames = make_run_frames(4, books=("total", "db-checks"))
    html, page = parse(render_sample(frames, tmp_path / "report.html"))
    assert embedded_payload(page)["books"] == ["db-checks", "total"]
    assert ">total</th>" in html


def test_large_texts_fit_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the embedded data is too large, long texts are cut further and the page shows a note."""
    monkeypatch.setattr("replay.report.run.MAX_PAYLOAD_CHARS", 200_000)
    frames = make_run_frames(40, books=("incident-triage",))
    frames["results"]["highlights"] = "word " * 2_000
    html, page = parse(render_sample(frames, tmp_path / "report.html"))
    payload = embedded_payload(page)
    highlights = payload["executions"][0][payload["fields"].index("highlights")]
    assert len(highlights) < 1_600
    assert highlights.endswith("10,000 characters in total]")
    assert "texts longer than 1,500 characters are cut" in html


def test_rca_scorer_is_default(tmp_path: Path, run_frames: dict[str, Any]) -> None:
    scores = run_frames["scores"]
    run_frames["scores"] = scores.assign(scorer=scores["scorer"].replace({"lexical": "rca"}))
    _, page = parse(render_sample(run_frames, tmp_path / "report.html"))
    payload = embedded_payload(page)
    assert payload["scorers"] == ["element", "keyword", "rca"]
    assert payload["primary_scorer"] == 2
