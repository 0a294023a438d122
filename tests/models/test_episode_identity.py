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
from pathlib import Path

import duckdb
import pytest

from sync.dbt import BuildOptions, run_dbt
from sync.demo_data import GeneratorOptions, generate
from sync.project import SEEDS_DIR

DAY_ONE, DAY_TWO = date(2026, 11, 23), date(2026, 11, 24)
HISTORY_DAYS = 400
KEY = ("account_id", "play_id", "product")
# Columns that follow the episode start: the rest of every row must agree.
FOLLOW_THE_START = {
    "intermediate.int_signal_episodes": {"signal_id", "episode_start", "fired_days"},
    "marts.expansion_signals": {"signal_id", "episode_start", "sla_due_on"},
}


def _read(path: Path, table: str) -> list[dict]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute(f"select * from {table}")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _tables(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE'"
        ).fetchall())
    finally:
        con.close()


def _split(path: Path, table: str, follow: set[str], carried: set) -> dict[str, set]:
    """A table's rows: those of carried episodes without the columns that follow the start."""
    out: dict[str, set] = {"same": set(), "carried": set()}
    for r in _read(path, table):
        part = "same"
        if follow:
            key = (tuple(r[k] for k in KEY), r.get("last_fired_on", r.get("as_of")))
            part = "carried" if key in carried else "same"
        out[part].add(tuple(sorted(
            (k, v) for k, v in r.items()
            if k != "processed_through" and (part == "same" or k not in follow))))
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory, monkeypatch_session):
    root = tmp_path_factory.mktemp("identity")
    chain, scratch = root / "chain.duckdb", root / "scratch.duckdb"
    generate(chain, GeneratorOptions(accounts=60, days=HISTORY_DAYS + 1, as_of=DAY_TWO, seed=42),
             SEEDS_DIR)
    shutil.copy(chain, scratch)
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(chain))
    run_dbt("build", BuildOptions(as_of=DAY_ONE, full_refresh=True))
    day_one = _read(chain, "marts.expansion_signals")
    run_dbt("build", BuildOptions(as_of=DAY_TWO))
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(scratch))
    run_dbt("build", BuildOptions(as_of=DAY_TWO, full_refresh=True))
    return day_one, chain, scratch


def test_a_continuing_episode_keeps_its_signal_id_when_its_start_leaves_the_window(builds):
    day_one, chain, _ = builds
    first_window_day = DAY_ONE - timedelta(days=HISTORY_DAYS - 1)
    at_window_start = {tuple(r[k] for k in KEY): r for r in day_one
                       if r["episode_start"] == first_window_day}
    assert len(at_window_start) >= 3, "the data set must have episodes as old as the window"
    day_two = {tuple(r[k] for k in KEY): r for r in _read(chain, "marts.expansion_signals")}
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
    window_start = DAY_TWO - timedelta(days=HISTORY_DAYS - 1)
    carried = {
        (tuple(r[k] for k in KEY), r["last_fired_on"])
        for r in _read(chain, "intermediate.int_signal_episodes")
        if r["episode_start"] < window_start
    }
    assert carried, "the chain must carry some start past the window"
    assert _tables(chain) == _tables(scratch)
    for table in _tables(chain):
        follow = FOLLOW_THE_START.get(table, set())

        in_chain = _split(chain, table, follow, carried)
        in_scratch = _split(scratch, table, follow, carried)
        assert in_chain["same"] == in_scratch["same"], table
        assert in_chain["carried"] == in_scratch["carried"], table
    scratch_starts = {
        (tuple(r[k] for k in KEY), r["last_fired_on"]): r["episode_start"]
        for r in _read(scratch, "intermediate.int_signal_episodes")
    }
    assert all(scratch_starts[key] >= window_start for key in carried)
