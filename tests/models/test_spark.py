"""The same project builds and passes its tests on Apache Spark (dbt-spark's
session method, local mode), and its marts agree with DuckDB's, row for row.

Spark's tables cannot delete a row, so the incremental models go through the
project's own delete+insert and delete_rows for Spark (macros/spark.sql): after
the full build, the scheduled run of the same day runs them again, replacing
every row they hold, and their tables must still be DuckDB's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from expansion_signals.dbt import BuildOptions, run_dbt
from tests.support.marts import MARTS, mart_columns, normalise, record_build_time
from tests.support.spark import SparkHome, spark_env

from .conftest import Warehouse

# Incremental models run again, one of each kind of key: a day (with the
# window pruned after), an account and day panel, a composite key that is not
# a date, and the signal episodes and their context (keys, and the pruning of
# episodes that left the window).
EXPANSION = Path(sys.executable).parent / "expansion"
AGAIN = ("int_usage_daily", "int_account_days", "int_department_first_usage",
         "int_signal_episodes", "int_signal_context")


@pytest.fixture(scope="module")
def spark_build(built_warehouse: Warehouse, tmp_path_factory) -> SparkHome:
    home = SparkHome(tmp_path_factory.mktemp("spark"))
    home.load_raw(built_warehouse.path)
    with spark_env(home):
        started = time.monotonic()
        # every model, seed, data test and unit test
        run_dbt("build", BuildOptions(as_of=built_warehouse.as_of, target="spark",
                                      full_refresh=True))
        full = time.monotonic() - started
        started = time.monotonic()
        run_dbt("run", BuildOptions(as_of=built_warehouse.as_of, target="spark",
                                    select=AGAIN))
        again = time.monotonic() - started
    record_build_time("spark", "full dbt build (every model, seed, data and unit test)", full)
    record_build_time("spark", f"dbt run of {len(AGAIN)} incremental models again", again)
    return home


def _rows(rows: list[tuple]) -> set[tuple]:
    return {tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows}


def test_the_incremental_models_run_again_hold_the_same_rows(
    spark_build: SparkHome, built_warehouse: Warehouse
):
    """Every intermediate table Spark stores equals DuckDB's, the ones run again included."""
    tables = sorted(p.name for p in (spark_build.root / "warehouse" / "intermediate.db").iterdir()
                    if any(p.glob("*.parquet")))
    assert "int_usage_daily" in tables and "int_signal_episodes" in tables
    differ = []
    for table in tables:
        columns = ", ".join(r[0] for r in built_warehouse.query(
            "select column_name from information_schema.columns where table_schema = "
            "'intermediate' and table_name = ? and column_name <> 'processed_through' "
            "order by ordinal_position", [table]))
        on_duckdb = _rows(built_warehouse.query(f"select {columns} from intermediate.{table}"))
        on_spark = _rows(duckdb.connect().execute(
            f"select {columns} from read_parquet('{spark_build.files('intermediate', table)}')"
        ).fetchall())
        if on_spark != on_duckdb:
            differ.append((table, len(on_duckdb - on_spark), len(on_spark - on_duckdb)))
    assert differ == []


def test_no_scratch_table_is_left(spark_build: SparkHome):
    left = list((spark_build.root / "warehouse").glob("*.db/*__dbt_*"))
    assert left == []


@pytest.mark.parametrize("mart", MARTS)
def test_spark_marts_equal_duckdb(spark_build: SparkHome, built_warehouse: Warehouse, mart: str):
    columns = mart_columns(built_warehouse.query, mart)
    evidence_index = columns.index("evidence") if "evidence" in columns else None
    select = f"select {', '.join(columns)} from marts.{mart}"
    duckdb_rows = {normalise(r, evidence_index) for r in built_warehouse.query(select)}
    spark_rows = {
        normalise(r, evidence_index) for r in duckdb.connect().execute(
            f"select {', '.join(columns)} from read_parquet('{spark_build.files('marts', mart)}')"
        ).fetchall()
    }
    assert duckdb_rows
    assert spark_rows == duckdb_rows


def test_the_commands_read_the_spark_build(spark_build: SparkHome, built_warehouse: Warehouse):
    """The sync's preview, the work queue and the report, as a user runs them on Spark: the
    loop past the mart, with Spark's start-up lines kept out of what they print."""
    env = {**os.environ, **spark_build.env(), "EXPANSION_WORK_DIR": str(spark_build.root)}
    for name in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    expected = built_warehouse.scalar("select count(*) from marts.expansion_signals")
    outputs = {}
    for command in (["sync", "--dry-run"], ["show"], ["report"]):
        done = subprocess.run([str(EXPANSION), *command], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, (command, done.stderr[-2000:])
        assert "WARN" not in done.stdout + done.stderr and "log4j" not in done.stderr
        outputs[command[0]] = done.stdout
    assert f"{expected} signals in the mart on {built_warehouse.as_of}" in outputs["sync"]
    assert "Expansion-ready accounts:" in outputs["show"]
    assert (spark_build.root / "report.html").stat().st_size > 10_000
    assert (spark_build.root / "logs" / "spark.log").exists()
