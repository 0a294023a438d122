"""Running dbt in-process against this project."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date

from sync.project import PROJECT_ROOT, duckdb_path


class DbtFailed(RuntimeError):
    """dbt reported a failing model or test; its own log says which."""


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
        raise DbtFailed(f"dbt {command} failed{detail} (see the log above)")
