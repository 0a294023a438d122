"""The same project builds and passes its tests on a real PostgreSQL server,
and its marts agree with DuckDB's, row for row."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict

import pytest

from expansion_signals.backtest import BacktestOptions, run_backtest, store
from expansion_signals.dbt import BuildOptions, run_dbt
from expansion_signals.warehouse import connect_duckdb, connect_warehouse
from tests.support.marts import MARTS, mart_columns, normalise, record_build_time
from tests.support.postgres import copy_raw_tables, postgres_cluster

from .conftest import Warehouse


@pytest.fixture(scope="module")
def postgres_build(built_warehouse: Warehouse, monkeypatch_session):
    with postgres_cluster() as server:
        copy_raw_tables(built_warehouse.path, server)
        saved = dict(os.environ)
        os.environ.update(server.env())
        try:
            # dbt build runs every model, data test and unit test on PostgreSQL
            started = time.monotonic()
            run_dbt("build", BuildOptions(as_of=built_warehouse.as_of, target="postgres",
                                          full_refresh=True))
            record_build_time("postgres", "full dbt build (every model, seed, data and unit "
                              "test)", time.monotonic() - started)
            conn = server.connect()
            try:
                yield conn
            finally:
                conn.close()
        finally:
            os.environ.clear()
            os.environ.update(saved)


@pytest.mark.parametrize("mart", MARTS)
def test_postgres_marts_equal_duckdb(postgres_build, built_warehouse: Warehouse, mart: str):
    columns = mart_columns(built_warehouse.query, mart)
    evidence_index = columns.index("evidence") if "evidence" in columns else None
    select = f"select {', '.join(columns)} from marts.{mart}"
    duckdb_rows = {normalise(r, evidence_index) for r in built_warehouse.query(select)}
    with postgres_build.cursor() as cursor:
        cursor.execute(select)
        postgres_rows = {normalise(r, evidence_index) for r in cursor.fetchall()}
    assert duckdb_rows
    assert postgres_rows == duckdb_rows


def _figures(result) -> dict:
    """A backtest's figures, floats rounded (the engines sum doubles in their own order)."""
    def rounded(row: dict) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}
    return {"plays": sorted((rounded(asdict(p)) for p in result.plays),
                            key=lambda p: p["play_id"]),
            "sweeps": [rounded(asdict(p)) for p in result.sweeps],
            "compound": [rounded(asdict(c)) for c in result.compound],
            "range": (result.start, result.end, result.owners),
            "vars": result.vars_line()}


def test_the_backtest_on_postgres_equals_duckdb(postgres_build, built_warehouse: Warehouse,
                                                tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(built_warehouse.path, path)
    duck = connect_duckdb(path)
    try:
        on_duckdb = run_backtest(duck, BacktestOptions())
    finally:
        duck.close()
    postgres = connect_warehouse("postgres")
    try:
        on_postgres = run_backtest(postgres, BacktestOptions())
        store(postgres, on_postgres)
        stored = postgres.execute("select count(*) from backtest.threshold_sweep")
    finally:
        postgres.close()
    assert on_postgres.plays and _figures(on_postgres) == _figures(on_duckdb)
    assert stored == [(len(on_postgres.sweeps),)]

