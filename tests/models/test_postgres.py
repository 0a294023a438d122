"""The same project builds and passes its tests on a real PostgreSQL server,
and its marts agree with DuckDB's, row for row."""

from __future__ import annotations

import json
import os

import pytest

from expansion_signals.dbt import BuildOptions, run_dbt
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
            run_dbt("build", BuildOptions(as_of=built_warehouse.as_of, target="postgres",
                                          full_refresh=True))
            conn = server.connect()
            try:
                yield conn
            finally:
                conn.close()
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _normalise(row: tuple, evidence_index: int | None) -> tuple:
    values = list(row)
    for i, value in enumerate(values):
        if isinstance(value, float):
            values[i] = round(value, 6)
    if evidence_index is not None and values[evidence_index] is not None:
        # 1.0 and 1 are the same JSON number; adapters print doubles differently
        evidence = json.loads(values[evidence_index], parse_int=float)
        values[evidence_index] = json.dumps(evidence, sort_keys=True)
    return tuple(values)


@pytest.mark.parametrize("mart", ["expansion_signals", "account_health", "play_performance",
                                  "expansion_ready_accounts", "sync_plays", "sync_settings"])
def test_postgres_marts_equal_duckdb(postgres_build, built_warehouse: Warehouse, mart: str):
    columns = [r[0] for r in built_warehouse.query(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position", [mart])]
    evidence_index = columns.index("evidence") if "evidence" in columns else None
    select = f"select {', '.join(columns)} from marts.{mart}"
    duckdb_rows = {_normalise(r, evidence_index) for r in built_warehouse.query(select)}
    with postgres_build.cursor() as cursor:
        cursor.execute(select)
        postgres_rows = {_normalise(r, evidence_index) for r in cursor.fetchall()}
    assert duckdb_rows
    assert postgres_rows == duckdb_rows
