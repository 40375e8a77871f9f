"""Run reports opened from file:// in headless Chromium: escaping, filters, sorting, details."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_builders import (
    HOSTILE_END_TAG,
    HOSTILE_LINK,
    HOSTILE_SCRIPT,
    make_comparison,
    make_run_frames,
    make_stability,
    render_sample,
)

from replay.report import render_comparison_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/replay-run-report.png")


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class _Watched:
    """A page with a record of dialogs, outside requests and console errors."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        page.route("**/*", self._on_route)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def assert_quiet(self) -> None:
        assert self.dialogs == []
        assert self.requests == []
        assert self.errors == []


@pytest.fixture
def open_report(browser: Any) -> Iterator[Any]:
    # the report's CSP forbids eval, so waits use locators (expect) instead of wait_for_function
    pages: list[Any] = []

    def _open(path: Path) -> _Watched:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        pages.append(page)
        watched = _Watched(page)
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("#executions-body tr")
        return watched

    yield _open
    for page in pages:
        page.close()


def visible_column(page: Any, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#executions-body tr.row",
        f"rows => rows.map(row => row.children[{index}].textContent)",
    )


def test_hostile_report_runs_nothing(
    tmp_path: Path, hostile_frames: dict[str, Any], open_report: Any
) -> None:
    watched = open_report(
        render_sample(hostile_frames, tmp_path / "report.html", label=HOSTILE_SCRIPT)
    )
    page = watched.page
    page.fill("#filter-text", "INC-00000")
    expect(page.locator("#executions-body tr.row")).to_have_count(2)
    row = page.locator(f'tr.row[data-key="{hostile_frames["hostile_key"]}"]')
    row.click()
    detail = page.locator("tr.detail")
    detail.wait_for()

    assert (
        detail.locator(".label-panel p.text").text_content() == f"pool exhausted {HOSTILE_SCRIPT}"
    )
    assert (
        detail.locator(".answer-panel p.text").first.text_content()
        == f"Root cause: {HOSTILE_SCRIPT} then {HOSTILE_END_TAG}"
    )
    assert page.locator("#executions-body script, #executions-body img").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    assert all(href.startswith(("http://", "https://")) for href in hrefs)
    assert "https://grafana.example.com/d/1" in hrefs
    unsafe = detail.locator(".unsafe-link").all_text_contents()
    assert HOSTILE_LINK in unsafe
    assert "JaVaScRiPt:alert(5)" in unsafe
    detail.locator(".unsafe-link", has_text=HOSTILE_LINK).first.click()
    for summary in detail.locator("summary").all():
        summary.click()
    watched.assert_quiet()


def test_watcher_catches_dialog(browser: Any) -> None:
    """The dialog and request checks above can fail: an alert and a fetch are recorded."""
    page = browser.new_page()
    try:
        watched = _Watched(page)
        page.evaluate("() => { alert('caught'); fetch('http://127.0.0.1:9/x').catch(() => null); }")
        page.wait_for_event("requestfailed")
        assert watched.dialogs == ["caught"]
        assert watched.requests == ["http://127.0.0.1:9/x"]
    finally:
        page.close()


def test_text_filter_narrows(tmp_path: Path, run_frames: dict[str, Any], open_report: Any) -> None:
    watched = open_report(render_sample(run_frames, tmp_path / "report.html"))
    page = watched.page
    page.fill("#filter-text", "inc-00017 db-checks")
    expect(page.locator("#executions-body tr.row")).to_have_count(1)
    assert visible_column(page, 1) == ["INC-00017"]
    assert visible_column(page, 3) == ["db-checks"]
    assert "1 matching" in page.text_content("#table-status")
    watched.assert_quiet()


def test_status_filter_keeps_status(
    tmp_path: Path, run_frames: dict[str, Any], open_report: Any
) -> None:
    watched = open_report(render_sample(run_frames, tmp_path / "report.html"))
    page = watched.page
    expected = int((run_frames["results"]["status"] == "ok").sum())
    page.select_option("#filter-status", "ok")
    page.select_option("#page-size", "250")
    expect(page.locator("#executions-body tr.row")).to_have_count(expected)
    assert set(visible_column(page, 5)) == {"ok"}
    page.click("#filter-reset")
    expect(page.locator("#executions-body tr.row")).to_have_count(80)
    watched.assert_quiet()


def test_verdict_filter_keeps_verdict(
    tmp_path: Path, run_frames: dict[str, Any], open_report: Any
) -> None:
    watched = open_report(render_sample(run_frames, tmp_path / "report.html"))
    page = watched.page
    # a select change re-renders synchronously, so no wait is needed here
    page.select_option("#filter-verdict", "incorrect")
    verdicts = visible_column(page, 6)
    assert verdicts
    assert set(verdicts) == {"incorrect"}
    watched.assert_quiet()


def test_sort_by_latency(tmp_path: Path, run_frames: dict[str, Any], open_report: Any) -> None:
    watched = open_report(render_sample(run_frames, tmp_path / "report.html"))
    page = watched.page
    header = page.locator('th[data-sort="latency_s"] button')
    timed = run_frames["results"]["latency_s"].dropna()

    header.click()
    assert page.get_attribute('th[data-sort="latency_s"]', "aria-sort") == "ascending"
    ascending = page.eval_on_selector_all("#executions-body tr.row", _LATENCY_JS)
    assert ascending[0] == pytest.approx(timed.min(), abs=0.01)
    assert ascending == sorted(ascending)

    header.click()
    assert page.get_attribute('th[data-sort="latency_s"]', "aria-sort") == "descending"
    descending = page.eval_on_selector_all("#executions-body tr.row", _LATENCY_JS)
    assert descending[0] == pytest.approx(timed.max(), abs=0.01)
    assert descending == sorted(descending, reverse=True)
    watched.assert_quiet()


# latency cells read "812 ms" or "12.34 s"; convert them back to seconds
_LATENCY_JS = """rows => rows.map(row => row.children[8].textContent)
  .filter(text => text !== "–")
  .map(text => text.endsWith(" ms") ? parseFloat(text) / 1000 : parseFloat(text))"""


def test_pager_moves(tmp_path: Path, run_frames: dict[str, Any], open_report: Any) -> None:
    watched = open_report(render_sample(run_frames, tmp_path / "report.html"))
    page = watched.page
    first_page = visible_column(page, 1)
    assert len(first_page) == 50
    page.click("#page-next")
    second_page = visible_column(page, 1)
    assert len(second_page) == 30
    assert second_page[0] != first_page[0]
    assert page.text_content("#page-label") == "Page 2 of 2"
    assert page.is_disabled("#page-next")
    watched.assert_quiet()


def test_expanded_row_shows_label(
    tmp_path: Path, run_frames: dict[str, Any], open_report: Any
) -> None:
    watched = open_report(render_sample(run_frames, tmp_path / "report.html"))
    page = watched.page
    page.select_option("#filter-status", "ok")
    page.locator("#executions-body tr.row").first.locator("button.expander").click()
    detail = page.locator("tr.detail")
    detail.wait_for()
    key = page.locator("#executions-body tr.row").first.get_attribute("data-key")
    incident_id = key.split("|")[0]
    incident = run_frames["incidents"].set_index("incident_id").loc[incident_id]
    result = run_frames["results"].set_index("execution_key").loc[key]

    assert detail.locator(".label-panel p.text").text_content() == incident["root_cause"]
    assert detail.locator(".answer-panel p.text").first.text_content() == result["highlights"]
    assert "Action results" in detail.text_content()
    assert detail.locator("a", has_text="grafana.example.com").count() == 1
    assert (
        page.get_attribute("button.expander[aria-expanded=true]", "aria-label")
        == f"Show details of {key}"
    )
    page.set_viewport_size({"width": 1400, "height": 1000})
    detail.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT.with_name("replay-run-report-detail.png")))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT))
    watched.assert_quiet()


def test_large_run_filters(tmp_path: Path, open_report: Any) -> None:
    """10,000 executions load, filter and page without errors."""
    frames = make_run_frames(5_000, seed=11)
    watched = open_report(render_sample(frames, tmp_path / "report.html"))
    page = watched.page
    assert "10,000 in the run" in page.text_content("#table-status")
    assert page.locator("#executions-body tr.row").count() == 50
    page.fill("#filter-text", "INC-04999")
    expect(page.locator("#executions-body tr.row")).to_have_count(2)
    page.click('th[data-sort="score"] button')
    assert set(visible_column(page, 1)) == {"INC-04999"}
    watched.assert_quiet()


def repeat_groups(page: Any) -> list[tuple[str, str]]:
    """Return (incident, book) of each visible row."""
    return list(zip(visible_column(page, 1), visible_column(page, 3), strict=True))


def assert_groups_contiguous(groups: list[tuple[str, str]]) -> None:
    """Each (incident, book) forms one run of rows, never split by another group's rows."""
    starts = [
        group for index, group in enumerate(groups) if index == 0 or groups[index - 1] != group
    ]
    assert len(starts) == len(set(starts))


def test_repeats_kept_together(tmp_path: Path, open_report: Any) -> None:
    frames = make_run_frames(12, repeats=3, seed=4)
    # shuffled, so that only the grouping brings the repeats of an incident together
    frames["results"] = frames["results"].sample(frac=1, random_state=1).reset_index(drop=True)
    stability = make_stability(["db-checks", "incident-triage"])
    watched = open_report(render_sample(frames, tmp_path / "report.html", stability=stability))
    page = watched.page
    page.select_option("#page-size", "100")

    groups = repeat_groups(page)
    assert len(groups) == 72
    assert_groups_contiguous(groups)
    assert visible_column(page, 4)[:3] == ["0", "1", "2"]
    assert page.locator("#executions-body tr.group-start").count() == 24

    page.click('th[data-sort="latency_s"] button')
    assert_groups_contiguous(repeat_groups(page))

    page.uncheck("#group-repeats")
    ungrouped = repeat_groups(page)
    assert sorted(ungrouped) == sorted(groups)
    assert len([i for i in range(1, 72) if ungrouped[i] != ungrouped[i - 1]]) > 23
    watched.assert_quiet()


def test_repeats_filter_differ(tmp_path: Path, open_report: Any) -> None:
    frames = make_run_frames(12, repeats=3, seed=4)
    scores = frames["scores"]
    scored = scores[(scores["scorer"] == "element") & (scores["verdict"] != "unscored")]
    verdicts = scored.groupby(["incident_id", "book_name"])["verdict"].agg(["nunique", "size"])
    differ = verdicts[(verdicts["nunique"] > 1) & (verdicts["size"] >= 2)]
    stability = make_stability(["db-checks", "incident-triage"])
    watched = open_report(render_sample(frames, tmp_path / "report.html", stability=stability))
    page = watched.page
    page.select_option("#page-size", "100")

    page.select_option("#filter-repeats", "differ")
    groups = repeat_groups(page)
    assert set(groups) == set(differ.index)
    assert len(groups) == 3 * len(differ)
    for text in visible_column(page, 8):
        agreeing, scored_repeats = (int(part) for part in text.split("/"))
        assert agreeing < scored_repeats

    page.select_option("#filter-repeats", "agree")
    assert not set(repeat_groups(page)) & set(differ.index)
    assert {text.split("/")[0] == text.split("/")[1] for text in visible_column(page, 8)} == {True}
    page.click("#filter-reset")
    assert len(repeat_groups(page)) == 72
    watched.assert_quiet()


def test_comparison_runs_nothing(tmp_path: Path, browser: Any) -> None:
    path = render_comparison_report(comparison=make_comparison(), path=tmp_path / "compare.html")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        watched = _Watched(page)
        page.goto(path.resolve().as_uri())
        for summary in page.locator("details.pair > summary").all():
            summary.click()
        assert page.locator("main script, main img").count() == 0
        assert page.locator("span.unsafe-link", has_text=HOSTILE_LINK).count() == 1
        page.screenshot(path=str(SCREENSHOT.with_name("replay-comparison-report.png")))
        watched.assert_quiet()
    finally:
        page.close()
