"""A scheduled incremental run gives exactly what a full build gives, and an
earlier as_of reproduces what the models said on that day."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from expansion_signals.dbt import BuildOptions, run_dbt

from .chain import assert_chain_equals_scratch, read
from .conftest import Warehouse


def _tables(path: Path) -> dict[str, set[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE'"
        ).fetchall()]
        contents = {}
        for table in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema || '.' || table_name = ? "
                "and column_name <> 'processed_through'",
                [table]).fetchall()]
            rows = con.execute(f"select {', '.join(columns)} from {table}").fetchall()
            contents[table] = set(rows)
        return contents
    finally:
        con.close()


@pytest.fixture(scope="module")
def incremental_and_full(generated_warehouse: Warehouse, tmp_path_factory, monkeypatch_session):
    root = tmp_path_factory.mktemp("incremental")
    incremental, full = root / "incremental.duckdb", root / "full.duckdb"
    shutil.copy(generated_warehouse.path, incremental)
    shutil.copy(generated_warehouse.path, full)
    as_of = generated_warehouse.as_of
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(incremental))
    run_dbt("build", BuildOptions(as_of=as_of - timedelta(days=4), full_refresh=True))
    run_dbt("build", BuildOptions(as_of=as_of))
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(full))
    run_dbt("build", BuildOptions(as_of=as_of, full_refresh=True))
    return incremental, full


def test_incremental_run_equals_full_build(incremental_and_full, generated_warehouse: Warehouse):
    """Equal everywhere but for episodes whose start the chain carried past the window."""
    incremental, full = incremental_and_full
    assert_chain_equals_scratch(incremental, full, generated_warehouse.as_of)
    assert read(full, "marts.expansion_signals")


def test_an_earlier_as_of_ignores_later_rows(incremental_and_full, generated_warehouse: Warehouse,
                                             tmp_path: Path, monkeypatch_session):
    """A backtest: rows dated after as_of change nothing, so deleting them changes nothing."""
    as_of = generated_warehouse.as_of - timedelta(days=45)
    with_future, without_future = tmp_path / "with.duckdb", tmp_path / "without.duckdb"
    shutil.copy(generated_warehouse.path, with_future)
    shutil.copy(generated_warehouse.path, without_future)
    con = duckdb.connect(str(without_future))
    for table, column in [("usage_events", "occurred_at"), ("marketing_events", "occurred_at"),
                          ("nps_responses", "responded_at"), ("support_tickets", "created_at"),
                          ("crm_activities", "occurred_at"), ("account_outcomes", "achieved_at"),
                          ("subscriptions", "start_date"), ("opportunities", "created_at"),
                          ("seat_assignments", "assigned_at")]:
        con.execute(f"delete from raw.{table} where cast({column} as date) > ?", [as_of])
    con.close()
    for path in (with_future, without_future):
        monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(path))
        run_dbt("build", BuildOptions(as_of=as_of, full_refresh=True))
    first, second = _tables(with_future), _tables(without_future)
    for mart in ("marts.expansion_signals", "marts.account_health"):
        assert first[mart] == second[mart], mart
    assert first["marts.account_health"]
