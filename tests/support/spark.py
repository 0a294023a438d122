"""A Spark warehouse for the tests: dbt-spark's session method in local mode,
its tables and Hive metastore under one temporary folder.

Spark's embedded metastore (Derby) admits one process at a time: the raw tables
are loaded and dbt builds in child processes, one after the other, and a test
reads the built tables' parquet files with DuckDB rather than start Spark in
the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SparkHome:
    root: Path

    def env(self) -> dict[str, str]:
        return {
            "EXPANSION_TARGET": "spark",
            "EXPANSION_SPARK_WAREHOUSE": str(self.root / "warehouse"),
            "EXPANSION_SPARK_LEDGER": str(self.root / "ledger.duckdb"),
            "EXPANSION_SPARK_MEMORY": "1g",
            "EXPANSION_SPARK_PARTITIONS": "2",
            "EXPANSION_THREADS": "4",
        }

    def files(self, schema: str, table: str) -> str:
        """A glob of the table's parquet files, for DuckDB's read_parquet."""
        return str(self.root / "warehouse" / f"{schema}.db" / table / "*.parquet")

    def load_raw(self, duckdb_file: Path) -> None:
        """The demo's raw tables, copied into Spark by a child process."""
        done = subprocess.run(
            [sys.executable, "-m", "expansion_dev.spark_raw", str(duckdb_file)],
            env={**os.environ, **self.env()}, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"loading the raw tables into Spark failed:\n{done.stderr[-3000:]}")


@contextmanager
def spark_env(home: SparkHome) -> Iterator[None]:
    """The Spark target as the default, for this process and its children."""
    saved = dict(os.environ)
    os.environ.update(home.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
