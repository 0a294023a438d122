"""Copy the raw tables of a DuckDB warehouse (the demo's) into the Spark target.

    python -m expansion_dev.spark_raw WAREHOUSE.duckdb [--target spark]

Spark opens the Hive metastore of the target (a Derby database that one
process at a time may hold), so run this before dbt, in a process of its own.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

from expansion_dev.contract import RAW_TABLES
from expansion_signals.warehouse import SparkDatabase, connect_warehouse


def copy_raw_tables(source: Path, target: str = "spark", schema: str = "raw") -> dict[str, int]:
    """Every raw table of the contract, through parquet; the rows copied per table."""
    db = connect_warehouse(target)
    if not isinstance(db, SparkDatabase):
        raise SystemExit(f"target {target!r} is not a Spark target")
    copied: dict[str, int] = {}
    try:
        session = db.connection
        db.execute(f"create schema if not exists {schema}")
        with tempfile.TemporaryDirectory() as scratch, \
                duckdb.connect(str(source), read_only=True) as con:
            for table in RAW_TABLES:
                path = Path(scratch) / f"{table}.parquet"
                con.execute(f"copy raw.{table} to '{path}' (format parquet)")
                frame = session.read.parquet(str(path))
                frame.write.mode("overwrite").saveAsTable(f"{schema}.{table}")
                copied[table] = db.execute(f"select count(*) from {schema}.{table}")[0][0]
                expected = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
                if copied[table] != expected:
                    raise RuntimeError(f"copied {copied[table]} of {expected} rows of raw.{table}")
    finally:
        db.close()
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expansion_dev.spark_raw",
                                     description="Copy a DuckDB warehouse's raw tables to Spark.")
    parser.add_argument("warehouse", type=Path, help="the DuckDB file with the raw schema")
    parser.add_argument("--target", default="spark",
                        help="the Spark output of profiles.yml (default: spark)")
    args = parser.parse_args(argv)
    for table, rows in copy_raw_tables(args.warehouse, args.target).items():
        print(f"raw.{table}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
