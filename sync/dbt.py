"""Running dbt in-process against this project."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date

from sync.project import PROJECT_ROOT, duckdb_path
from sync.test_failures import explain


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
    select: str | None = None
    extra_vars: dict[str, object] | None = None


def dbt_args(command: str, options: BuildOptions) -> list[str]:
    dbt_vars: dict[str, object] = {"expansion_as_of": options.as_of.isoformat()}
    dbt_vars.update(options.extra_vars or {})
    args = [
        command,
        "--project-dir", str(PROJECT_ROOT),
        "--profiles-dir", str(PROJECT_ROOT),
        "--vars", json.dumps(dbt_vars),
    ]
    if options.target:
        args += ["--target", options.target]
    if options.full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    if options.select:
        args += ["--select", options.select]
    return args


def run_dbt(command: str, options: BuildOptions) -> None:
    """Invoke dbt; raise DbtFailed when it does not succeed."""
    from dbt.cli.main import dbtRunner

    # profiles.yml reads the warehouse path from the environment; pin it to an
    # absolute path so dbt resolves the same file whatever the working directory.
    os.environ["EXPANSION_DUCKDB_PATH"] = str(duckdb_path())
    result = dbtRunner().invoke(dbt_args(command, options))
    if not result.success:
        detail = f": {result.exception}" if result.exception else ""
        problems = explain(PROJECT_ROOT / "target", _first_row_reader(options.target))
        raise DbtFailed(f"dbt {command} failed{detail}", problems)


def _first_row_reader(target: str | None):
    """Reads the first failing row of a test from the warehouse, after dbt has let go of it."""
    if (target or os.environ.get("EXPANSION_TARGET", "duckdb")) != "duckdb":
        return lambda sql: None

    def first_row(sql: str) -> dict[str, object] | None:
        import duckdb

        # dbt-duckdb may still hold the file in this process: share its mode
        con = duckdb.connect(str(duckdb_path()))
        try:
            cursor = con.execute(f"select * from ({sql}) as failing_rows limit 1")
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([c[0] for c in cursor.description], row, strict=True))
        finally:
            con.close()

    return first_row
