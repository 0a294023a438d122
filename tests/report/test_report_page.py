"""The report page without a browser: escaping, empty and null cases, the numbers' formats,
reading the marts and the backtest, and the command's one-line errors."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from expansion_signals import cli, exit_codes, formats
from expansion_signals.markup import HTML_VOID, esc, tag
from expansion_signals.report_data import (
    MARTS,
    Backtest,
    EfficiencyQuarter,
    NrrMonth,
    PlayFunnel,
    PlayPerformance,
    ReadyAccount,
    ReportData,
    SignalWeek,
    SweepRow,
    read_report,
)
from expansion_signals.report_page import NO_BACKTEST, SECTIONS, render
from expansion_signals.warehouse import connect_duckdb

AS_OF = date(2026, 11, 24)
HOSTILE = "<script>alert(1)</script> & Co"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"


def month(m: int, year: int = 2026, nrr: float | None = 1.1) -> NrrMonth:
    return NrrMonth(date(year, m, 1), date(year - 1, m, 1), date(year, m, 28), AS_OF, 50,
                    1_000_000.0, 40_000.0, 30_000.0, 20_000.0, 10_000.0, 0.0, 5_000.0,
                    105_000.0, 10_000.0, 20_000.0, 1_075_000.0, nrr, 0.97,
                    0.4, 0.3, 0.2, 0.1, 0.0)


def play(play_id: str, lift: float | None, lower: float | None, upper: float | None,
         conversions: int = 3) -> PlayPerformance:
    return PlayPerformance(play_id, "seat", AS_OF, 30, 24, conversions, conversions / 24, 12.0,
                           50_000.0, 0.01, lift, lower, upper, 10, 0.3, 3.0, 4_000.0)


def sample(**changes: object) -> ReportData:
    data = ReportData(
        warehouse="DuckDB file /tmp/warehouse.duckdb",
        as_of=AS_OF,
        nrr=[month(9), month(10, nrr=None), month(11, nrr=1.234)],
        efficiency=[EfficiencyQuarter(date(2026, 7, 1), date(2026, 9, 30), AS_OF, 120, 20,
                                      20 / 120, 8, 150.0, 6, 0.05, 300_000.0, 200_000.0, 1.08,
                                      30, 10_000.0, 40, 120.0, 150_000.0, 1_250.0)],
        plays=[play("seat_expansion", 10.6, 2.8, 39.7),
               play("consumption_commit", None, 13.2, None),
               play("bu_rollout", None, 0.0, None, conversions=0),
               play("tier_upgrade", 0.0, 0.0, 83.9, conversions=0)],
        funnel=[PlayFunnel("seat_expansion", "seat", AS_OF, 27, None, 12, 3, 20, 15, 0.75),
                PlayFunnel("tier_upgrade", "tier", AS_OF, 0, None, 0, 0, 0, 0, None)],
        signal_weeks=[SignalWeek(date(2026, 11, 2), AS_OF, 30, 6, 1, 3, 2, 5),
                      SignalWeek(date(2026, 11, 9), AS_OF, 31, 4, 0, 2, 2, 3)],
        accounts=[ReadyAccount(1, "A1", HOSTILE, AS_OF, "ana+<b>@example.com", 6_322.73, 2, 3,
                               True, "seat_expansion", "high", "seat_expansion, tier_upgrade"),
                  ReadyAccount(2, "A2", "Globex", AS_OF, None, 416.67, 1, 1, False,
                               "tier_upgrade", "medium", "tier_upgrade")],
        backtest=None,
    )
    return dataclasses.replace(data, **changes)


def sweep_row(value: float, **changes: object) -> SweepRow:
    row = SweepRow("expansion_seat_utilization_threshold", "seat_expansion", value,
                   value == 0.85, value == 0.9, 40, 0.2, 30, 3, 0.1, 0.3, 90_000.0, 2_250.0,
                   True)
    return dataclasses.replace(row, **changes)


class Balance(HTMLParser):
    """Every element the page opens, it closes, in order (SVG shapes close themselves)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, name: str, attrs: list) -> None:
        if name not in HTML_VOID:
            self.open.append(name)

    def handle_endtag(self, name: str) -> None:
        if not self.open or self.open[-1] != name:
            self.problems.append(f"</{name}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def balanced(page: str) -> list[str]:
    parser = Balance()
    parser.feed(page)
    return parser.problems + [f"<{name}> left open" for name in parser.open]


def section_of(page: str, section_id: str) -> str:
    start = page.index(f'<section id="{section_id}"')
    return page[start:page.index("</section>", start)]


def test_text_from_data_is_escaped_wherever_it_lands():
    hostile_parameter = '<img src=x onerror="alert(2)">'
    page = render(sample(backtest=Backtest("run-<1>", datetime(2026, 11, 24, 9, 30), [
        sweep_row(0.85, parameter=hostile_parameter), sweep_row(0.9, parameter=hostile_parameter),
    ])))
    assert HOSTILE not in page and "<script" not in page
    assert HOSTILE_ESCAPED in section_of(page, "accounts")
    assert "ana+&lt;b&gt;@example.com" in page
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "run-&lt;1&gt;" in page
    assert balanced(page) == []


def test_markup_escapes_attributes_and_children_but_not_markup():
    built = tag("td", {"title": '"><b>'}, "<i>", tag("b", {}, "&"))
    assert built == '<td title="&quot;&gt;&lt;b&gt;">&lt;i&gt;<b>&amp;</b></td>'
    assert esc(None) == "" and tag("td", {}) == "<td></td>" and tag("rect", {}) == "<rect/>"


def test_every_section_has_its_heading_and_the_page_loads_nothing():
    page = render(sample())
    for section_id, heading in SECTIONS:
        assert f'<section id="{section_id}" aria-labelledby="{section_id}-heading">' in page
        assert f'<h2 id="{section_id}-heading">{heading}</h2>' in page
    assert "<script" not in page and "<link" not in page and " src=" not in page
    assert "https://" not in page and "url(" not in page
    assert 'datetime="2026-11-24"' in page and "DuckDB file /tmp/warehouse.duckdb" in page
    assert "Cell(" not in page and "Markup(" not in page  # no Python object shown as text


def test_no_backtest_says_how_to_make_one_and_draws_nothing():
    thresholds = section_of(render(sample(backtest=None)), "thresholds")
    assert "Run <code>expansion backtest</code> to see the threshold curves." in thresholds
    assert NO_BACKTEST == "Run `expansion backtest` to see the threshold curves."
    assert "<svg" not in thresholds


def test_a_backtest_draws_a_curve_per_parameter_with_default_and_best_marked():
    rows = [sweep_row(v) for v in (0.75, 0.8, 0.85, 0.9, 0.95)]
    rows[0] = dataclasses.replace(rows[0], within_budget=False)
    rows.append(sweep_row(14.0, parameter="expansion_sustained_days", is_default=True,
                          is_best=True))
    rows.append(sweep_row(21.0, parameter="expansion_sustained_days", is_best=False))
    thresholds = section_of(render(sample(backtest=Backtest("r2", None, rows))),
                            "thresholds")
    assert thresholds.count("<svg") == 2
    assert thresholds.count('class="mark point over-budget"') == 2  # both panels
    assert 'class="marker default" data-value="0.85"' in thresholds
    assert 'class="marker best" data-value="0.9"' in thresholds
    assert 'class="marker default best" data-value="14.0"' in thresholds
    assert "Default 0.85: $2.2K won per alert" in thresholds


def test_null_lift_bounds_run_to_the_edge_with_an_arrow():
    lift = section_of(render(sample()), "lift")
    unbounded = lift[lift.index('data-key="consumption_commit"'):]
    unbounded = unbounded[:unbounded.index("</g>")]
    assert 'data-upper=""' in unbounded and 'class="arrow unbounded"' in unbounded
    assert ">unbounded</text>" in unbounded and "∞ (13.2× – ∞)" in unbounded
    assert 'class="mark estimate"' not in unbounded  # an infinite lift has no dot
    neither = lift[lift.index('data-key="bu_rollout"'):]
    assert "n/a (0× – ∞)" in neither[:neither.index("</g>")]
    assert 'class="arrow to-zero"' in lift
    one = section_of(render(sample(plays=[play("tier_upgrade", None, None, None, 0),
                                          play("seat_expansion", 2.0, 1.1, 3.0)])), "lift")
    assert "n/a (no interval)" in one
    none = section_of(render(sample(plays=[play("tier_upgrade", None, None, None, 0)])), "lift")
    assert "<svg" not in none and "No play has a lift to show yet" in none


def test_nulls_show_as_missing_not_as_zero():
    page = render(sample())
    funnel = section_of(page, "funnel")
    assert "sync never ran" in funnel and "nothing tracked" in funnel
    nrr = section_of(page, "nrr")
    assert nrr.count('class="mark point" data-series="nrr"') == 2  # the null month is a gap
    assert 'data-kpi="nrr" data-value="1.234"' in nrr and ">123.4%<" in nrr


def test_efficiency_is_read_against_its_targets():
    efficiency = section_of(render(sample()), "efficiency")
    assert 'class="num on-target" data-value="0.16666666666666666" data-flag="on target"' \
        in efficiency
    assert 'data-value="150.0" data-flag="on target"' in efficiency
    late = section_of(render(sample(efficiency=[dataclasses.replace(
        sample().efficiency[0], expansion_logo_pct=0.07,
        median_days_to_first_expansion=256.0)])), "efficiency")
    assert "below target" in late and "over target" in late and "off-target" in late


def test_empty_marts_say_so_instead_of_drawing_blank_charts():
    page = render(sample(nrr=[], efficiency=[], plays=[], funnel=[], signal_weeks=[],
                         accounts=[], as_of=None))
    assert "<svg" not in page and page.count('class="empty"') == len(SECTIONS)
    assert balanced(page) == []


def test_rows_with_nothing_to_draw_say_so_too():
    nothing = dataclasses.replace(month(9, nrr=None), grr=None, seat_share=None,
                                  consumption_share=None, cross_sell_share=None, tier_share=None,
                                  bu_rollout_share=None)
    quiet = [dataclasses.replace(f, fired=0, opportunities=0, won=0) for f in sample().funnel]
    weeks = [dataclasses.replace(w, firing_signals=0, new_signals=0, new_high=0, new_medium=0,
                                 new_low=0) for w in sample().signal_weeks]
    page = render(sample(nrr=[nothing], funnel=quiet, signal_weeks=weeks))
    for section_id in ("nrr", "mix", "funnel", "signal-volume"):
        assert '<p class="empty">' in section_of(page, section_id), section_id
        assert "<svg" not in section_of(page, section_id), section_id


@pytest.mark.parametrize(("value", "shown"), [
    (None, "—"), (0, "$0"), (950, "$950"), (999.6, "$1.0K"), (12_345, "$12.3K"),
    (123_456, "$123K"), (999_600, "$1.0M"), (1_234_567, "$1.2M"), (-2_500_000, "−$2.5M"),
])
def test_money_reads_like_a_person_writes_it(value, shown):
    assert formats.money(value) == shown


def test_other_formats():
    assert formats.percent(0.234) == "23%" and formats.percent(1.2346, 1) == "123.5%"
    assert formats.count(1234.4) == "1,234" and formats.ratio(10.555) == "10.6×"
    assert formats.ratio(0.5237) == "0.52×" and formats.ratio(0) == "0×"
    assert formats.number(0.85) == "0.85" and formats.number(14.0) == "14"
    assert formats.quarter(date(2026, 7, 1)) == "Q3 2026"


# --- reading the marts ----------------------------------------------------------------------

def write_marts(path: Path, data: ReportData, skip: str | None = None) -> None:
    """The marts as tables holding the sample's rows (what the page reads, no more)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        rows_of = {"marts.nrr_by_motion": data.nrr, "marts.expansion_efficiency": data.efficiency,
                   "marts.play_performance": data.plays, "marts.play_funnel": data.funnel,
                   "marts.signal_volume": data.signal_weeks,
                   "marts.expansion_ready_accounts": data.accounts}
        for table, row_type, _ in MARTS:
            if table == skip:
                continue
            names = [f.name for f in dataclasses.fields(row_type)]
            rows = [dataclasses.astuple(r) for r in rows_of[table]]
            con.execute(f"create table {table} as select * from (values "
                        f"({', '.join('?' * len(names))})) t({', '.join(names)}) limit 0",
                        list(rows[0]))
            con.executemany(f"insert into {table} values ({', '.join('?' * len(names))})",
                            rows)
    finally:
        con.close()


def write_sweep(path: Path, runs: list[tuple[str, datetime]], rows: list[tuple]) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema backtest")
        con.execute("create table backtest.runs (run_id varchar, finished_at timestamp)")
        con.executemany("insert into backtest.runs values (?, ?)", runs)
        # as the backtest writes it: matured_episodes (read as episodes), and a lift column
        con.execute("""create table backtest.threshold_sweep (run_id varchar, parameter varchar,
            play_id varchar, value double, is_default boolean, is_best boolean, alerts integer,
            alerts_per_owner_per_week double, matured_episodes integer, conversions integer,
            precision double, recall double, lift double, won_arr double,
            won_arr_per_alert double, within_budget boolean)""")
        con.executemany(f"insert into backtest.threshold_sweep values ({', '.join('?' * 16)})",
                        rows)
    finally:
        con.close()


def test_the_marts_are_read_as_the_page_shows_them(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    write_marts(path, sample())
    db = connect_duckdb(path)
    try:
        read = read_report(db)
    finally:
        db.close()
    assert read.backtest is None and read.as_of == AS_OF
    assert read.nrr == sample().nrr and read.plays[0] == sorted(sample().plays,
                                                                key=lambda p: p.play_id)[0]
    assert [a.account_name for a in read.accounts] == [HOSTILE, "Globex"]
    assert read.warehouse == f"DuckDB file {path}"


def test_the_latest_backtest_run_is_read(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    write_marts(path, sample())
    sweep = ("expansion_seat_utilization_threshold", "seat_expansion")
    write_sweep(path, [("old", datetime(2026, 11, 1)), ("new", datetime(2026, 11, 20))], [
        ("old", *sweep, 0.5, True, True, 9, 0.1, 9, 1, 0.1, 0.1, 1.0, 1.0, 1.0, True),
        ("new", *sweep, 0.85, True, False, 40, 0.2, 30, 3, 0.1, 0.3, 2.0, 9.0, 0.2, True),
        ("new", *sweep, 0.9, False, True, 20, 0.1, 18, 3, 0.15, 0.3, 3.0, 9.0, 0.45, True),
    ])
    db = connect_duckdb(path)
    try:
        backtest = read_report(db).backtest
    finally:
        db.close()
    assert backtest is not None and backtest.run_id == "new"
    assert [(r.value, r.episodes, r.is_best) for r in backtest.sweep] == [
        (0.85, 30, False), (0.9, 18, True)]


# --- the command --------------------------------------------------------------------------

@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("EXPANSION_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("EXPANSION_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    return tmp_path


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    return err[0]


def test_report_writes_the_page_into_the_work_folder(work: Path, capsys):
    write_marts(work / "w.duckdb", sample())
    assert cli.main(["report"]) == exit_codes.OK
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Warehouse: DuckDB file {work / 'w.duckdb'} (target duckdb)",
                   f"Report: {work / 'report.html'}"]
    assert HOSTILE_ESCAPED in (work / "report.html").read_text(encoding="utf-8")


def test_no_warehouse_is_one_line_and_exit_code_2(work: Path, capsys):
    assert cli.main(["report"]) == exit_codes.BAD_INPUT
    assert one_error(capsys) == (f"error: no warehouse at {work / 'w.duckdb'}: run "
                                 "`expansion build` (or `expansion demo`)")


def test_a_missing_mart_is_named_with_what_to_run(work: Path, capsys):
    write_marts(work / "w.duckdb", sample(), skip="marts.play_funnel")
    assert cli.main(["report", "--output", str(work / "r.html")]) == exit_codes.BAD_INPUT
    assert one_error(capsys) == (f"error: marts.play_funnel is not in {work / 'w.duckdb'}: run "
                                 "`expansion build` first (the report reads the marts it builds)")
    assert not (work / "r.html").exists()


def test_a_mart_built_by_an_older_version_is_named(work: Path, capsys):
    write_marts(work / "w.duckdb", sample())
    con = duckdb.connect(str(work / "w.duckdb"))
    con.execute("alter table marts.signal_volume drop column new_signal_accounts")
    con.close()
    assert cli.main(["report"]) == exit_codes.BAD_INPUT
    assert "marts.signal_volume" in one_error(capsys)


def test_an_output_folder_that_does_not_exist_is_one_line(work: Path, capsys):
    write_marts(work / "w.duckdb", sample())
    assert cli.main(["report", "-o", str(work / "nowhere" / "r.html")]) == exit_codes.BAD_INPUT
    assert one_error(capsys) == (f"error: --output {work / 'nowhere' / 'r.html'}: there is no "
                                 f"folder {work / 'nowhere'}")
