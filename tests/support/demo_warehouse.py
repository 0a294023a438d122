"""A small demo warehouse, generated and built once per test session.

The fixtures are registered in tests/conftest.py, so every test folder (the
models' tests, the report's) shares the one build.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from expansion_dev.demo_data import GeneratorOptions, generate

from expansion_signals.dbt import BuildOptions, run_dbt
from expansion_signals.project import seeds_dir
from tests.support.marts import record_build_time

AS_OF = date(2026, 11, 24)
SMALL = GeneratorOptions(accounts=150, days=400, as_of=AS_OF, seed=7, events=300_000)


@dataclass
class Warehouse:
    path: Path
    as_of: date

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params: list | None = None):
        return self.query(sql, params)[0][0]


@pytest.fixture(scope="session")
def generated_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    generate(path, SMALL, seeds_dir())
    return Warehouse(path, AS_OF)


@pytest.fixture(scope="session")
def built_warehouse(generated_warehouse: Warehouse, monkeypatch_session) -> Warehouse:
    monkeypatch_session.setenv("EXPANSION_DUCKDB_PATH", str(generated_warehouse.path))
    started = time.monotonic()
    run_dbt("build", BuildOptions(as_of=AS_OF, full_refresh=True))
    record_build_time("duckdb", "full dbt build (every model, seed, data and unit test)",
                      time.monotonic() - started)
    return generated_warehouse


@pytest.fixture(scope="session")
def monkeypatch_session() -> Iterator[pytest.MonkeyPatch]:
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()
