"""Running dbt in-process against this project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date

from expansion_signals.project import duckdb_path, project_dir, target_dir, work_dir
from expansion_signals.test_failures import explain
from expansion_signals.warehouse import is_duckdb_lock_conflict, warehouse_busy


class DbtFailed(RuntimeError):
    """dbt reported a failing model or test; `problems` says which, one line each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class BuildOptions:
    as_of: date
    target: str | None = None
    full_refresh: bool = False
    # dbt unit tests check the SQL, not the data: the scheduled run leaves them to
    # `expansion build` and CI, and runs every data test.
    unit_tests: bool = True


def dbt_args(command: str, options: BuildOptions) -> list[str]:
    dbt_vars = {"expansion_as_of": options.as_of.isoformat()}
    args = [
        command,
        "--project-dir", str(project_dir()),
        "--profiles-dir", str(project_dir()),
        "--target-path", str(target_dir()),
        "--log-path", str(work_dir() / "logs"),
        "--vars", json.dumps(dbt_vars),
    ]
    if options.target:
        args += ["--target", options.target]
    if options.full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    if not options.unit_tests and command == "build":
        args += ["--exclude-resource-type", "unit_test"]
    return args


def run_dbt(command: str, options: BuildOptions) -> None:
    """Run dbt in a child process; raise DbtFailed when it does not succeed.

    A child process, so that dbt lets go of the DuckDB file (one writer at a
    time) before anything else here opens it. Its output is passed through and
    watched for DuckDB's file-lock error: dbt failing because another run holds
    the file raises WarehouseBusy, not DbtFailed.
    """
    # profiles.yml reads the warehouse path from the environment; pin it to an
    # absolute path so dbt resolves the same file whatever the working directory.
    env = {**os.environ, "EXPANSION_DUCKDB_PATH": str(duckdb_path())}
    locked_out = False
    with subprocess.Popen(
        [sys.executable, "-m", "dbt.cli.main", *dbt_args(command, options)],
        cwd=work_dir(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace",
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.write(line)
            locked_out = locked_out or is_duckdb_lock_conflict(line)
        returncode = child.wait()
    sys.stdout.flush()
    if returncode != 0:
        if locked_out:
            raise warehouse_busy(duckdb_path())
        problems = explain(target_dir(), _first_row_reader(options.target))
        raise DbtFailed(f"dbt {command} failed (exit code {returncode})", problems)


def _first_row_reader(target: str | None):
    """Reads the first failing row of a test from the warehouse, after dbt has let go of it."""
    if (target or os.environ.get("EXPANSION_TARGET", "duckdb")) != "duckdb":
        return lambda sql: None

    def first_row(sql: str) -> dict[str, object] | None:
        import duckdb

        con = duckdb.connect(str(duckdb_path()), read_only=True)
        try:
            cursor = con.execute(f"select * from ({sql}) as failing_rows limit 1")
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([c[0] for c in cursor.description], row, strict=True))
        finally:
            con.close()

    return first_row
