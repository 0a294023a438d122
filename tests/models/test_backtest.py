"""`expansion backtest` on the small demo warehouse: the replay agrees with the models, the
sweep's built value agrees with the replay, the planted lifts are found, and its options
and results behave as a user expects."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import duckdb
import pytest

from expansion_signals.backtest import (
    BacktestOptions,
    BacktestResult,
    rate_ratio_interval,
    run_backtest,
)
from expansion_signals.cli import main
from expansion_signals.warehouse import connect_duckdb

from .conftest import Warehouse


@pytest.fixture(scope="module")
def backtest_warehouse(built_warehouse: Warehouse, tmp_path_factory) -> Warehouse:
    """A copy: the backtest writes its schema, which the other tests need not see."""
    path = tmp_path_factory.mktemp("backtest") / "replayed.duckdb"
    shutil.copy(built_warehouse.path, path)
    return Warehouse(path, built_warehouse.as_of)


def backtest(warehouse: Warehouse, **options) -> BacktestResult:
    db = connect_duckdb(warehouse.path)
    try:
        return run_backtest(db, BacktestOptions(**options))
    finally:
        db.close()


@pytest.fixture(scope="module")
def weekly(backtest_warehouse: Warehouse) -> BacktestResult:
    return backtest(backtest_warehouse)


def test_a_daily_replay_of_the_whole_history_is_the_models_episodes(
        backtest_warehouse: Warehouse):
    history_start = backtest_warehouse.scalar(
        "select min(date_day) from intermediate.int_day_spine where is_in_history")
    result = backtest(backtest_warehouse, start=history_start, every_days=1)
    expected = {play: (episodes, matured, converted) for play, episodes, matured, converted in
                backtest_warehouse.query("""
                    select play_id, count(*), count(*) filter (where is_matured),
                           count(*) filter (where is_matured and converted)
                    from intermediate.int_episode_outcomes group by play_id""")}
    replayed = {p.play_id: (p.alerts, p.matured_episodes, p.conversions)
                for p in result.plays if p.alerts}
    assert replayed == expected


def test_the_sweep_at_the_built_value_is_the_replay(weekly: BacktestResult):
    alerts = {p.play_id: p.alerts for p in weekly.plays}
    defaults = [p for p in weekly.sweeps if p.is_default]
    assert {p.parameter for p in defaults} == {
        "expansion_seat_utilization_threshold", "expansion_seat_sustained_days",
        "expansion_consumption_ratio_threshold", "expansion_consumption_months",
        "expansion_limit_warning", "expansion_feature_gap_min_events",
        "expansion_attach_adoption_shift"}
    for point in defaults:
        assert point.alerts == alerts.get(point.play_id, 0), point.parameter
    # every value of the grid was replayed: the loosest seat threshold fires
    seat = {p.value: p.alerts for p in weekly.sweeps
            if p.parameter == "expansion_seat_utilization_threshold"}
    assert seat[min(seat)] > 0 and len(seat) >= 5


def test_the_planted_lift_is_found_and_none_where_nothing_was_planted(weekly: BacktestResult):
    plays = {p.play_id: p for p in weekly.plays}
    planted = plays["consumption_commit"]
    assert planted.lift_lower is not None and planted.lift_lower > 1
    if planted.lift is not None:  # None: no account without the signal ever won one
        assert planted.lift_lower <= planted.lift <= (planted.lift_upper or float("inf"))
    assert planted.recall is not None and planted.recall > 0.3
    unplanted = plays["post_renewal_expansion"]
    # no lift shown: the interval reaches below 1
    assert unplanted.lift_lower is not None and unplanted.lift_lower < 1


def test_compound_converts_more_under_both_rules(weekly: BacktestResult):
    rules = {c.rule: c for c in weekly.compound}
    assert set(rules) == {"signals_and_categories", "signals_only"}
    for rule in rules.values():
        assert rule.ratio is not None and rule.ratio > 1.5
    # the category rule is the stricter one
    assert (rules["signals_and_categories"].compound_episodes
            <= rules["signals_only"].compound_episodes)


def test_the_best_value_respects_the_budget(backtest_warehouse: Warehouse,
                                            weekly: BacktestResult):
    assert weekly.over_budget() is None  # the small book is well within 5 a week
    for parameter in {p.parameter for p in weekly.sweeps}:
        best = [p for p in weekly.sweeps if p.parameter == parameter and p.is_best]
        assert len(best) <= 1
        for p in best:
            assert p.within_budget and p.matured_episodes >= 10
            peers = [q for q in weekly.sweeps if q.parameter == parameter and q.within_budget
                     and q.matured_episodes >= 10 and q.won_arr_per_alert is not None]
            assert p.won_arr_per_alert == max(q.won_arr_per_alert for q in peers)
    line = weekly.vars_line()
    for name, value in weekly.best_vars.items():
        assert f"{name}: " in line
        assert not any(p.is_default for p in weekly.sweeps
                       if p.parameter == name and p.value == value)
    # over budget already: only values that send no more than the built ones are proposed
    tight = backtest(backtest_warehouse, alerts_per_owner_per_week=0.001)
    assert "over the budget of 0.001" in tight.over_budget()
    built = tight.built_alerts_per_owner_per_week
    assert all(p.alerts_per_owner_per_week <= built + 1e-9 for p in tight.sweeps if p.is_best)
    # no value with enough history: nothing is proposed
    thin = backtest(backtest_warehouse, min_matured_episodes=10**6)
    assert not any(p.is_best for p in thin.sweeps) and thin.vars_line() is None


def test_the_command_writes_tables_json_and_a_table(backtest_warehouse: Warehouse, tmp_path,
                                                     monkeypatch, capsys):
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(backtest_warehouse.path))
    monkeypatch.setenv("EXPANSION_WORK_DIR", str(tmp_path))
    assert main(["backtest"]) == 0
    out = capsys.readouterr().out
    assert "consumption_commit" in out and "Backtest done in" in out
    body = json.loads((tmp_path / "backtest.json").read_text())
    con = duckdb.connect(str(backtest_warehouse.path), read_only=True)
    try:
        run_id = con.execute("select run_id from backtest.runs order by finished_at desc "
                             "limit 1").fetchone()[0]
        stored = dict(con.execute("select play_id, alerts from backtest.play_results "
                                  "where run_id = ?", [run_id]).fetchall())
        swept = con.execute("select count(*) from backtest.threshold_sweep where run_id = ?",
                            [run_id]).fetchone()[0]
    finally:
        con.close()
    assert body["run_id"] == run_id
    assert stored == {p["play_id"]: p["alerts"] for p in body["plays"]}
    assert swept == len(body["sweeps"]) > 30


@pytest.mark.parametrize("argv, message", [
    (["backtest", "--start", "2020-01-01"], "before the history window"),
    (["backtest", "--end", "2099-01-01"], "after the warehouse's as_of"),
    (["backtest", "--every", "0"], "not a positive whole number"),
    (["backtest", "--alerts-per-owner-per-week", "none"], "not a number above 0"),
])
def test_bad_options_are_one_line(backtest_warehouse: Warehouse, monkeypatch, capsys,
                                  argv, message):
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(backtest_warehouse.path))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_an_unbuilt_warehouse_says_what_to_run(tmp_path, monkeypatch, capsys):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(path))
    assert main(["backtest"]) == 2
    assert "run `expansion build` first" in capsys.readouterr().err


def test_the_interval_is_katz_with_the_models_edge_rules():
    lower, upper = rate_ratio_interval(10, 100, 5, 500)
    assert lower == pytest.approx(3.4929, rel=1e-4) and upper == pytest.approx(28.629, rel=1e-4)
    assert rate_ratio_interval(0, 50, 5, 500)[0] == 0
    assert rate_ratio_interval(3, 50, 0, 500)[1] is None
    assert rate_ratio_interval(3, 0, 1, 500) == (None, None)


def test_the_range_defaults_to_the_last_twelve_months(weekly: BacktestResult,
                                                      backtest_warehouse: Warehouse):
    assert weekly.end == backtest_warehouse.as_of
    assert weekly.start == max(weekly.end - timedelta(days=364), backtest_warehouse.scalar(
        "select min(date_day) from intermediate.int_day_spine where is_in_history"))


def test_a_warehouse_built_by_an_older_version_says_so(backtest_warehouse: Warehouse, tmp_path,
                                                       monkeypatch, capsys):
    path = tmp_path / "older.duckdb"
    shutil.copy(backtest_warehouse.path, path)
    con = duckdb.connect(str(path))
    con.execute("delete from marts.model_thresholds "
                "where parameter = 'expansion_attach_adoption_shift'")
    con.close()
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(path))
    assert main(["backtest"]) == 2
    err = capsys.readouterr().err
    assert "has no expansion_attach_adoption_shift" in err and "expansion build" in err
