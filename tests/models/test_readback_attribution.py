"""An Opportunity the sync opened and read back won converts its own signal on the
next build: exactly that signal, even created after the window that matching by
account, motion and date would allow."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest

from expansion_signals.dbt import BuildOptions, run_dbt

from .conftest import AS_OF, Warehouse

READBACK_DDL = """
create schema if not exists expansion_sync;
create table expansion_sync.opportunity_readback (
    opportunity_id varchar primary key, expansion_signal_id varchar, account_id varchar,
    motion varchar, stage_name varchar, is_closed boolean, is_won boolean, amount double,
    created_at timestamp, close_date date, last_modified_at timestamp, read_at timestamp)
"""


@pytest.fixture()
def copied_warehouse(built_warehouse: Warehouse, tmp_path, monkeypatch) -> Warehouse:
    path = tmp_path / "copy.duckdb"
    shutil.copy(built_warehouse.path, path)
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(path))
    return Warehouse(path, built_warehouse.as_of)


def test_a_won_readback_opportunity_converts_its_signal(copied_warehouse: Warehouse):
    # a matured episode that did not convert; its Opportunity was created (and
    # won) after the 90-day window
    signal_id, account_id, motion, start = copied_warehouse.query("""
        select o.signal_id, o.account_id, p.motion, o.episode_start
        from intermediate.int_episode_outcomes o
        join intermediate.int_plays p using (play_id)
        where not o.converted and p.motion = 'cross_sell' and o.episode_start <= ?
        order by o.signal_id limit 1""", [AS_OF - timedelta(days=130)])[0]
    created = start + timedelta(days=95)
    con = duckdb.connect(str(copied_warehouse.path))
    try:
        con.execute(READBACK_DDL)
        con.execute(
            "insert into expansion_sync.opportunity_readback values "
            "('006000000000001AAA', ?, ?, ?, 'Closed Won', true, true, 12345.0, ?, ?, ?, ?)",
            [signal_id, account_id, motion, created, created + timedelta(days=20),
             created + timedelta(days=20), created + timedelta(days=21)])
    finally:
        con.close()

    run_dbt("build", BuildOptions(as_of=AS_OF, unit_tests=False,
                                  select=("stg_opportunities+",)))

    row = copied_warehouse.query(
        "select converted, days_to_conversion, expansion_amount "
        "from intermediate.int_episode_outcomes where signal_id = ?", [signal_id])
    assert row == [(True, 95, 12345.0)]
    opportunity = copied_warehouse.query(
        "select opportunity_type, motion, is_won, closed_on from staging.stg_opportunities "
        "where expansion_signal_id = ?", [signal_id])
    assert opportunity == [("expansion", motion, True, created + timedelta(days=20))]
