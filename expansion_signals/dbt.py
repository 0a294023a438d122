"""Running dbt against this project, in a child process, with a progress bar and a summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

import yaml

from expansion_signals.build_progress import BuildProgress, BuildTally
from expansion_signals.project import duckdb_path, project_dir, target_dir, work_dir
from expansion_signals.test_failures import explain
from expansion_signals.warehouse import is_duckdb_lock_conflict, warehouse_busy

AS_OF_VAR = "expansion_as_of"


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
    dbt_vars: dict[str, Any] = field(default_factory=dict)  # --vars, besides expansion_as_of
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def vars_argument(options: BuildOptions) -> str:
    """--vars for dbt: the user's vars and the evaluation date, as one flow-style YAML dict
    (YAML, not JSON, so a date or a number reaches dbt as the type the user wrote)."""
    merged = {**options.dbt_vars, AS_OF_VAR: options.as_of.isoformat()}
    return yaml.safe_dump(merged, default_flow_style=True, sort_keys=False,
                          width=float("inf")).strip()


def dbt_args(command: str, options: BuildOptions) -> list[str]:
    args = [
        *command.split(),  # "build", or "source freshness"
        "--project-dir", str(project_dir()),
        "--profiles-dir", str(project_dir()),
        "--target-path", str(target_dir()),
        "--log-path", str(work_dir() / "logs"),
        "--vars", vars_argument(options),
    ]
    if options.target:
        args += ["--target", options.target]
    if options.full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    if options.select:
        args += ["--select", *options.select]
    if options.exclude:
        args += ["--exclude", *options.exclude]
    if not options.unit_tests and command == "build":
        args += ["--exclude-resource-type", "unit_test"]
    return args


@dataclass
class DbtChild:
    """What one dbt invocation in the child process did."""

    returncode: int
    tally: BuildTally
    end: dict[str, Any]  # the child's last event: success and error
    leftover: list[str]  # whatever else the child printed (a warning, a crash)
    locked_out: bool  # DuckDB said another process holds the file
    seconds: float


def spawn_dbt(command: str, options: BuildOptions, *, verbose: bool = False,
              quiet: bool = False, out: TextIO | None = None) -> DbtChild:
    """Run dbt in a child process and follow its node events (the progress unless `quiet`).

    A child process, so that dbt lets go of the DuckDB file (one writer at a
    time) before anything else here opens it. The child
    (expansion_signals/dbt_child.py) sends dbt's node events as JSON lines over
    a pipe; `verbose` lets dbt print its own log lines instead of the bar.
    """
    out = out or sys.stdout
    terminal = out.isatty()
    # profiles.yml reads the warehouse path from the environment; pin it to an
    # absolute path so dbt resolves the same file whatever the working directory.
    env = {**os.environ, "EXPANSION_DUCKDB_PATH": str(duckdb_path())}
    tally = BuildTally()
    progress = BuildProgress(command, out, terminal=terminal, quiet=verbose or quiet)
    progress.started()
    started = time.monotonic()
    end: dict[str, Any] = {}
    locked_out = False
    read_fd, write_fd = os.pipe()
    flags = ["--verbose"] + (["--colors"] if terminal else []) if verbose else []
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as child_output:
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "expansion_signals.dbt_child",
                 "--events-fd", str(write_fd), *flags, "--", *dbt_args(command, options)],
                cwd=work_dir(), env=env, pass_fds=(write_fd,),
                # quiet: whatever else the child prints (a warning, a crash) is kept for
                # the error message; verbose: dbt's lines go straight to the terminal.
                stdout=None if verbose else child_output,
                stderr=None if verbose else subprocess.STDOUT,
            )
        finally:
            os.close(write_fd)
        try:
            with os.fdopen(read_fd, encoding="utf-8", errors="replace") as events:
                for line in events:
                    record = json.loads(line)
                    kind = record.get("kind")
                    if kind == "total":
                        tally.total = record["total"]
                        progress.total(record["total"])
                    elif kind == "node":
                        tally.add(record)
                        progress.node(tally, record, time.monotonic() - started)
                    elif kind == "locked":
                        locked_out = True
                    elif kind == "end":
                        end = record
            returncode = child.wait()
        finally:
            progress.close()
            if child.poll() is None:  # we are leaving early (Ctrl-C, a closed pipe)
                child.terminate()
                child.wait()
        child_output.seek(0)
        leftover = [line.rstrip() for line in child_output if line.strip()]
    locked_out = locked_out or any(is_duckdb_lock_conflict(line) for line in leftover)
    return DbtChild(returncode, tally, end, leftover, locked_out, time.monotonic() - started)


def run_dbt(command: str, options: BuildOptions, *, verbose: bool = False,
            out: TextIO | None = None) -> BuildTally:
    """Run dbt in a child process (spawn_dbt), show its progress, print one summary line.

    Raises DbtFailed when dbt does not succeed, with one line per problem, and
    WarehouseBusy when it failed because another process holds the DuckDB file.
    """
    out = out or sys.stdout
    child = spawn_dbt(command, options, verbose=verbose, out=out)
    tally = child.tally
    success = child.returncode == 0 and bool(child.end.get("success", False))
    if success:
        print(tally.summary(command, child.seconds, True), file=out, flush=True)
        return tally
    if child.locked_out:
        raise warehouse_busy(duckdb_path())
    print(tally.summary(command, child.seconds, False), file=out, flush=True)
    problems = []
    if tally.finished:  # dbt ran nodes, so run_results.json is this run's
        problems += explain(target_dir(), _first_row_reader(options.target))
    problems += tally.errors
    if child.end.get("error"):
        problems += first_lines(child.end["error"], 3)
    if not problems and child.leftover:
        problems.append(child.leftover[-1])
    raise DbtFailed(f"dbt {command} failed (exit code {child.returncode})", problems)


def first_lines(text: str, count: int) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:count]


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
