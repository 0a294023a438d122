"""The dialect proof for the warehouses CI cannot start: the project compiles with the real
dbt adapters of Snowflake, BigQuery, Databricks and Redshift, and every compiled model and
test parses with sqlglot for that dialect. The adapters and sqlglot live in .venv-dialects
(scripts/ensure-dialects.sh, run by `make test`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from expansion_signals.project import CHECKOUT

VENV = CHECKOUT / ".venv-dialects" / "bin" / "python"
DIALECTS = CHECKOUT / "dev" / "dialects"
# dbt target (dev/dialects/profiles.yml) -> sqlglot dialect
TARGETS = {"snowflake": "snowflake", "bigquery": "bigquery", "databricks": "databricks",
           "redshift": "redshift"}


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert VENV.exists(), "run scripts/ensure-dialects.sh (make test does)"
    return subprocess.run([str(VENV), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def _parse(target_path: Path, dialect: str) -> dict:
    done = _python(str(DIALECTS / "parse.py"), str(target_path), dialect, cwd=target_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_model_compiles_and_parses_for(target: str, tmp_path: Path):
    done = _python(
        str(DIALECTS / "compile.py"), "compile",
        "--project-dir", str(CHECKOUT), "--profiles-dir", str(DIALECTS),
        "--target", target, "--target-path", str(tmp_path / "target"),
        "--log-path", str(tmp_path / "logs"), "--no-populate-cache",
        "--vars", "{expansion_as_of: '2026-12-06'}", cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"Registered adapter: {target}=" in done.stdout
    found = _parse(tmp_path / "target", TARGETS[target])
    models = list((tmp_path / "target" / "compiled").rglob("models/marts/*.sql"))
    assert len(models) >= 12 and found["files"] > 500
    assert found["failures"] == []


def test_the_parser_catches_a_backslash_literal(tmp_path: Path):
    """What the evidence's JSON once compiled to: '\\' is a whole string in DuckDB and
    PostgreSQL and an unterminated one in the four dialects."""
    compiled = tmp_path / "target" / "compiled" / "evidence.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text("select replace(replace(name, '\\', '\\\\'), '\"', '\\\"') from t\n",
                        encoding="utf-8")
    for dialect in TARGETS.values():
        found = _parse(tmp_path / "target", dialect)
        assert [f["file"] for f in found["failures"]] == ["evidence.sql"], dialect
