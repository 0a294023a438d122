"""`expansion report` as a RevOps lead opens it: the page in real headless Chromium.

Debian's Chromium (scripts/ensure-chromium.sh installs it), driven by Playwright
with Playwright's own browser download never used. The page is written from a
copy of the small demo warehouse, once as built and once after `expansion
backtest`, and must open offline with no console or page error, show every
section, draw every chart, and show the marts' numbers. A full-page screenshot
is kept under the test's tmp folder and at .ci/artifacts/report.png.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from expansion_signals import cli, exit_codes, formats
from expansion_signals.backtest import BacktestOptions, run_backtest, store
from expansion_signals.report_page import NO_BACKTEST, SECTIONS
from expansion_signals.warehouse import connect_duckdb
from tests.support.demo_warehouse import Warehouse

CHECKOUT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACT = CHECKOUT / ".ci" / "artifacts" / "report.png"
CHARTS = {"nrr", "mix", "funnel", "lift", "new-signals", "firing-signals"}

# In the page: every chart with the number of its marks that have a size on screen.
DRAWN_MARKS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const drawn = [...svg.querySelectorAll('.mark')].filter(mark => {
        const b = mark.getBBox();
        return mark.tagName === 'circle' || mark.tagName === 'rect'
            ? b.width > 0 && b.height > 0 : b.width > 0 || b.height > 0;
    });
    return {chart: svg.dataset.chart, width: box.width, height: box.height,
            marks: drawn.length};
})"""


@dataclass(frozen=True)
class Report:
    variant: str
    html: Path
    warehouse: Warehouse


@dataclass
class Opened:
    report: Report
    page: Page
    errors: list[str]
    requests: list[str]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.report.warehouse.query(sql, params)


def write_report(built: Warehouse, folder: Path, *, with_backtest: bool) -> Report:
    """The page from a copy of the demo warehouse, through the command as a person runs it."""
    path = folder / "warehouse.duckdb"
    shutil.copy(built.path, path)
    con = duckdb.connect(str(path))
    con.execute("drop schema if exists backtest cascade")
    con.close()
    if with_backtest:
        db = connect_duckdb(path)
        try:
            store(db, run_backtest(db, BacktestOptions()))
        finally:
            db.close()
    html = folder / "report.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("EXPANSION_TARGET", raising=False)
        patch.setenv("EXPANSION_DUCKDB_PATH", str(path))
        assert cli.main(["report", "--output", str(html)]) == exit_codes.OK
    return Report("backtest" if with_backtest else "plain", html, Warehouse(path, built.as_of))


@pytest.fixture(scope="module")
def reports(built_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Report]:
    found = [write_report(built_warehouse, tmp_path_factory.mktemp(f"report-{variant}"),
                          with_backtest=variant == "backtest")
             for variant in ("plain", "backtest")]
    return {r.variant: r for r in found}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail(f"no {CHROMIUM}: run scripts/ensure-chromium.sh (Debian's chromium package)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data-dir
            executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1200, "height": 900})
        try:
            yield context
        finally:
            context.close()


def open_report(browser: BrowserContext, report: Report) -> Opened:
    page = browser.new_page()
    opened = Opened(report, page, [], [])
    page.on("console", lambda message: opened.errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.on("request", lambda request: opened.requests.append(request.url))
    page.goto(report.html.as_uri(), wait_until="load")
    return opened


@pytest.fixture(scope="module", params=["plain", "backtest"])
def opened(request: pytest.FixtureRequest, browser: BrowserContext,
           reports: dict[str, Report]) -> Iterator[Opened]:
    found = open_report(browser, reports[request.param])
    yield found
    found.page.close()


@pytest.fixture(scope="module")
def plain(browser: BrowserContext, reports: dict[str, Report]) -> Iterator[Opened]:
    found = open_report(browser, reports["plain"])
    yield found
    found.page.close()


def test_the_page_opens_offline_with_no_console_or_page_error(opened: Opened):
    assert opened.errors == []
    # self-contained: the file itself is all the browser asks for
    assert opened.requests == [opened.report.html.as_uri()]


def test_every_section_is_there_with_its_heading(opened: Opened):
    for section_id, heading in SECTIONS:
        found = opened.page.locator(f"section#{section_id} > h2")
        assert found.count() == 1, section_id
        assert found.inner_text() == heading and found.is_visible()


def test_every_chart_draws_marks(opened: Opened):
    charts = opened.page.evaluate(DRAWN_MARKS)
    assert {c["chart"] for c in charts} >= CHARTS
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["marks"] > 0, chart
    sweeps = [c for c in charts if c["chart"].startswith("sweep-")]
    assert bool(sweeps) == (opened.report.variant == "backtest")


def test_the_header_names_the_date_and_the_warehouse(plain: Opened):
    as_of = plain.query("select max(as_of) from marts.nrr_by_motion")[0][0]
    assert plain.page.locator("#as-of").get_attribute("datetime") == as_of.isoformat()
    assert plain.page.locator("#warehouse").inner_text() == (
        f"DuckDB file {plain.report.warehouse.path}")


def test_nrr_and_the_mix_are_the_marts(plain: Opened):
    months = plain.query("select month, nrr, seat_share from marts.nrr_by_motion order by month")
    latest = [m for m in months if m[1] is not None][-1]
    tile = plain.page.locator("[data-kpi=nrr]")
    assert float(tile.get_attribute("data-value")) == latest[1]
    assert tile.locator(".kpi-value").inner_text() == formats.percent(latest[1], 1)
    drawn = plain.page.eval_on_selector_all(
        "#chart-nrr circle.mark[data-series=nrr]",
        "marks => marks.map(m => [m.dataset.x, Number(m.dataset.value)])")
    assert drawn == [[m.isoformat(), nrr] for m, nrr, _ in months if nrr is not None]
    seat = plain.page.eval_on_selector_all(
        "#chart-mix rect.mark.segment[data-series=seat]",
        "marks => marks.map(m => [m.dataset.x, Number(m.dataset.value)])")
    assert seat == [[m.isoformat(), share] for m, _, share in months if share]


def test_each_plays_lift_and_interval_are_the_marts(plain: Opened):
    marts = {play: (lift, lower, upper) for play, lift, lower, upper in plain.query(
        "select play_id, lift, lift_lower, lift_upper from marts.play_performance")}
    rows = plain.page.eval_on_selector_all(
        "#chart-lift g.interval-row",
        "rows => rows.map(r => [r.dataset.key, r.dataset.estimate, r.dataset.lower, "
        "r.dataset.upper, r.textContent])")
    assert {key for key, *_ in rows} == set(marts)

    def number(text: str) -> float | None:
        return float(text) if text else None

    for key, estimate, lower, upper, shown in rows:
        assert (number(estimate), number(lower), number(upper)) == marts[key], key
        if marts[key][0] is not None:
            assert formats.ratio(marts[key][0]) in shown
        if marts[key][2] is None:
            assert "unbounded" in shown


def test_the_funnel_is_the_marts(plain: Opened):
    marts = plain.query("select play_id, fired, won from marts.play_funnel")
    for play, fired, won in marts:
        row = plain.page.locator(f"#chart-funnel g.funnel-row[data-key='{play}']")
        assert float(row.locator("[data-stage=fired]").get_attribute("data-value")) == fired
        assert float(row.locator("[data-stage=won]").get_attribute("data-value")) == won


def test_efficiency_is_the_marts_against_its_targets(plain: Opened):
    marts = plain.query("select quarter, expansion_logo_pct, median_days_to_first_expansion "
                        "from marts.expansion_efficiency order by quarter")
    rows = plain.page.locator("section#efficiency table tbody tr")
    assert rows.count() == len(marts)
    for i, (quarter, logo, days) in enumerate(marts):
        row = rows.nth(i)
        assert row.locator("td").first.get_attribute("data-quarter") == quarter.isoformat()
        if logo is not None:
            cell = row.locator("td[data-flag]").first
            assert float(cell.get_attribute("data-value")) == logo
            on = 0.15 <= logo <= 0.25
            assert cell.get_attribute("data-flag") == ("on target" if on else
                                                      "below target" if logo < 0.15
                                                      else "above target")
        if days is not None:
            cell = row.locator("td[data-flag]").nth(1 if logo is not None else 0)
            assert float(cell.get_attribute("data-value")) == days


def test_signal_volume_is_the_marts(plain: Opened):
    weeks = plain.query("select week_start, firing_signals, new_high, new_medium, new_low "
                        "from marts.signal_volume order by week_start")
    stacked = plain.page.eval_on_selector_all(
        "#chart-new-signals rect.mark",
        "marks => marks.map(m => [m.dataset.x, m.dataset.series, Number(m.dataset.value)])")
    expected = [[w.isoformat(), urgency, count] for w, _, *counts in weeks
                for urgency, count in zip(("high", "medium", "low"), counts, strict=True)
                if count]
    assert stacked == expected
    firing = plain.page.eval_on_selector_all(
        "#chart-firing-signals circle.mark",
        "marks => marks.map(m => [m.dataset.x, Number(m.dataset.value)])")
    assert firing == [[w.isoformat(), count] for w, count, *_ in weeks]


def test_the_top_accounts_are_the_work_queue(plain: Opened):
    marts = plain.query("select account_name, expected_value from marts.expansion_ready_accounts "
                        "order by overall_rank limit 25")
    rows = plain.page.locator("section#accounts table tbody tr")
    assert rows.count() == len(marts) > 0
    name, value = marts[0]
    first = rows.first
    assert first.locator("td.account").inner_text() == name
    shown = first.locator("td[data-value]")
    assert float(shown.get_attribute("data-value")) == value
    assert shown.inner_text() == formats.money(value)


def test_the_threshold_curves_are_the_latest_backtest(opened: Opened):
    section = opened.page.locator("section#thresholds")
    if opened.report.variant == "plain":
        assert section.locator("p.empty").inner_text() == NO_BACKTEST.replace("`", "")
        assert section.locator("svg").count() == 0
        return
    run = opened.query("select run_id from backtest.runs order by finished_at desc limit 1")[0][0]
    sweep = opened.query(
        "select parameter, play_id, value, is_default, is_best, won_arr_per_alert "
        "from backtest.threshold_sweep where run_id = ? order by parameter, value", [run])
    assert section.locator(".note").get_attribute("data-run") == run
    for parameter in {row[0] for row in sweep}:
        rows = [r for r in sweep if r[0] == parameter]
        figure = section.locator(f".sweep[data-parameter='{parameter}']")
        assert figure.count() == 1, parameter
        default = [r[2] for r in rows if r[3]]
        best = [r[2] for r in rows if r[4]]
        assert [float(v) for v in figure.locator(".marker.default").evaluate_all(
            "ms => ms.map(m => m.dataset.value)")] == default
        assert [float(v) for v in figure.locator(".marker.best").evaluate_all(
            "ms => ms.map(m => m.dataset.value)")] == best
        points = figure.locator("circle.mark[data-series=won_arr_per_alert]").evaluate_all(
            "ms => ms.map(m => [Number(m.dataset.x), Number(m.dataset.value)])")
        assert points == [[r[2], r[5]] for r in rows if r[5] is not None]


def test_a_screenshot_is_kept(browser: BrowserContext, reports: dict[str, Report],
                              tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    page = open_report(browser, reports["backtest"]).page
    try:
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert shot.stat().st_size > 50_000  # a drawn page, not a blank one
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACT)
    with capsys.disabled():
        print(f"\nreport screenshot: {shot} (and {ARTIFACT})")

