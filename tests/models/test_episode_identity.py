"""An episode keeps its identity for as long as it lasts.

Demo data of 401 days: some keys fire on every day of it, so on the first of
two consecutive daily builds their episode starts on the window's first day,
and on the second that day has left the window. The daily run carries the
start forward (same signal_id); a from-scratch build of the second day
computes the start from the window. The two agree everywhere else.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
from expansion_dev.demo_data import GeneratorOptions, generate

from expansion_signals.dbt import BuildOptions, run_dbt
from expansion_signals.project import seeds_dir

from .chain import KEY, assert_chain_equals_scratch, read

DAY_ONE, DAY_TWO = date(2026, 11, 23), date(2026, 11, 24)
# A short history window, so that standing episodes (which the demo's customers make rare
# at the default 400 days) start before it.
HISTORY_DAYS = 30
WINDOW = {"expansion_history_days": HISTORY_DAYS}


@pytest.fixture(scope="module")
def builds(tmp_path_factory, monkeypatch_session):
    root = tmp_path_factory.mktemp("identity")
    chain, scratch = root / "chain.duckdb", root / "scratch.duckdb"
    generate(chain, GeneratorOptions(accounts=120, days=200, as_of=DAY_TWO, seed=42),
             seeds_dir())
    shutil.copy(chain, scratch)
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(chain))
    run_dbt("build", BuildOptions(as_of=DAY_ONE, full_refresh=True, dbt_vars=WINDOW))
    day_one = read(chain, "marts.expansion_signals")
    run_dbt("build", BuildOptions(as_of=DAY_TWO, dbt_vars=WINDOW))
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(scratch))
    run_dbt("build", BuildOptions(as_of=DAY_TWO, full_refresh=True, dbt_vars=WINDOW))
    return day_one, chain, scratch


def test_a_continuing_episode_keeps_its_signal_id_when_its_start_leaves_the_window(builds):
    day_one, chain, _ = builds
    first_window_day = DAY_ONE - timedelta(days=HISTORY_DAYS - 1)
    at_window_start = {tuple(r[k] for k in KEY): r for r in day_one
                       if r["episode_start"] == first_window_day}
    assert len(at_window_start) >= 3, "the data set must have episodes as old as the window"
    day_two = {tuple(r[k] for k in KEY): r for r in read(chain, "marts.expansion_signals")}
    continuing = set(at_window_start) & set(day_two)
    assert continuing
    for key in continuing:
        assert day_two[key]["signal_id"] == at_window_start[key]["signal_id"], key
        assert day_two[key]["episode_start"] == first_window_day
    # A key firing on both days fired on consecutive days: one episode, one id, for every key.
    day_one_ids = {tuple(r[k] for k in KEY): r["signal_id"] for r in day_one}
    changed = [k for k in set(day_one_ids) & set(day_two)
               if day_two[k]["signal_id"] != day_one_ids[k]]
    assert not changed


def test_the_daily_chain_equals_a_scratch_build_but_for_carried_starts(builds):
    _, chain, scratch = builds
    carried = assert_chain_equals_scratch(chain, scratch, DAY_TWO, HISTORY_DAYS)
    assert carried, "the chain must carry some start past the window"
