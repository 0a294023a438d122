"""The evidence's JSON holds any text a customer can type (quotes, backslashes, line breaks,
tabs) on DuckDB and on a real PostgreSQL server, and the macro writes no backslash inside a
string literal (which Spark, BigQuery and Snowflake read as an escape)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from expansion_signals.project import CHECKOUT
from tests.support.postgres import postgres_cluster

DBT = str(Path(sys.executable).parent / "dbt")
# a"b\c<newline>d<tab>e<carriage return>, built from code points so no quoting is involved
TRICKY_SQL = ("'a' || chr(34) || 'b' || chr(92) || 'c' || chr(10) || 'd' || chr(9) || 'e'"
              " || chr(13)")
TRICKY = 'a"b\\c\nd\te\r'
INLINE = ("select {{ json_object([['name', \"" + TRICKY_SQL + "\", 'string'], "
          "['none', 'cast(null as varchar)', 'string'], ['n', '3', 'integer'], "
          "['ok', '1 = 1', 'boolean']]) }} as evidence")


def _show(tmp_path: Path, env: dict[str, str], target: str) -> dict:
    done = subprocess.run(
        [DBT, "show", "--project-dir", str(CHECKOUT), "--profiles-dir", str(CHECKOUT),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--target", target, "--inline", INLINE, "--output", "json", "--quiet"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = json.loads(done.stdout)["show"]
    return json.loads(row["evidence"])


def _expected(evidence: dict) -> None:
    assert evidence == {"name": TRICKY, "none": None, "n": 3, "ok": True}


def test_json_object_escapes_any_text_on_duckdb(tmp_path):
    env = {**os.environ, "EXPANSION_DUCKDB_PATH": str(tmp_path / "scratch.duckdb")}
    _expected(_show(tmp_path, env, "duckdb"))


def test_json_object_escapes_any_text_on_postgres(tmp_path):
    with postgres_cluster() as server:
        _expected(_show(tmp_path, {**os.environ, **server.env()}, "postgres"))


def test_the_compiled_evidence_has_no_backslash_in_a_string_literal(tmp_path):
    """'\\' means one backslash in DuckDB and PostgreSQL but opens an escape in Spark,
    BigQuery, Snowflake and Databricks: the compiled SQL must not contain one."""
    env = {**os.environ, "EXPANSION_DUCKDB_PATH": str(tmp_path / "scratch.duckdb")}
    done = subprocess.run(
        [DBT, "compile", "--project-dir", str(CHECKOUT), "--profiles-dir", str(CHECKOUT),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--select", "int_signal_evidence", "--vars", "{expansion_as_of: '2026-12-06'}"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    [compiled] = list((tmp_path / "target" / "compiled").rglob("int_signal_evidence.sql"))
    sql = compiled.read_text(encoding="utf-8")
    assert "chr(92)" in sql
    assert "\\" not in sql, [line for line in sql.splitlines() if "\\" in line][:3]

