"""The `expansion` command line: generate demo data, build the models, sync, run."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml

from expansion_signals import exit_codes
from expansion_signals.project import duckdb_path, seeds_dir

# Exit codes of every command; README "Exit codes".

AS_OF_VAR = "expansion_as_of"
ACCOUNTS_SHOWN = 25  # `expansion show` and `run`: "start with the top 25 expansion-ready accounts"
ACCOUNTS_SHOWN_IN_DEMO = 10  # the demo keeps its whole output to one screen or two


class BadArguments(ValueError):
    """A command-line argument is missing or malformed."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line (main prints it), not usage text."""

    def error(self, message: str) -> NoReturn:
        raise BadArguments(f"{message} (see `{self.prog} --help`)")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r}; give it as YYYY-MM-DD, e.g. 2026-11-24") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return value


def _dbt_vars(text: str) -> dict[str, Any]:
    """--vars as dbt takes it: a YAML (or JSON) dictionary."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise argparse.ArgumentTypeError(
            f"not a YAML or JSON dictionary: {text!r}; "
            "e.g. --vars '{expansion_seat_utilization_threshold: 0.9}'")
    return value


def _today() -> date:
    return datetime.now(UTC).date()


def _add_as_of(parser: argparse.ArgumentParser, what: str = "evaluation date") -> None:
    parser.add_argument("--as-of", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help=f"{what} (default: today, UTC)")


def _add_target(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--target", default=None, metavar="NAME",
                        help=f"{what}, an output of profiles.yml: duckdb, postgres or spark "
                             "(default: EXPANSION_TARGET, else duckdb)")


def _add_dbt_options(parser: argparse.ArgumentParser, *, full_refresh: bool = True) -> None:
    if full_refresh:
        parser.add_argument("--full-refresh", action="store_true",
                            help="rebuild incremental models from scratch (default: only the "
                                 "new days)")
    parser.add_argument("--vars", type=_dbt_vars, default={}, metavar="YAML",
                        help="dbt vars as a YAML or JSON dictionary, merged with the "
                             f"evaluation date ({AS_OF_VAR}), e.g. "
                             "'{expansion_cooldown_days: 45}' (default: dbt_project.yml's)")
    parser.add_argument("--select", "-s", nargs="+", action="extend", default=[],
                        metavar="SELECTOR",
                        help="build only these dbt nodes, in dbt's selector syntax "
                             "(default: all)")
    parser.add_argument("--exclude", nargs="+", action="extend", default=[], metavar="SELECTOR",
                        help="leave these dbt nodes out (default: none)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print dbt's own log lines instead of the progress bar "
                             "(default: a progress bar and a summary)")


def _add_generate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=_positive_int, default=500,
                        help="number of demo accounts (default: %(default)s)")
    parser.add_argument("--days", type=_positive_int, default=400,
                        help="days of history, ending on --as-of (default: %(default)s)")
    parser.add_argument("--events", type=_positive_int, default=None,
                        help="target number of usage events (default: 10 per account-day)")
    parser.add_argument("--seed", type=int, default=42,
                        help="random seed; the same seed gives the same data "
                             "(default: %(default)s)")


def _add_sync_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="make no calls: show and record the plan, even with credentials "
                             "(default: call Salesforce and Slack when credentials are set)")
    parser.add_argument("--accept-volume", action="store_true",
                        help="let this one run through the volume guard, which otherwise "
                             "holds a run that would create more new Opportunities than "
                             "EXPANSION_SYNC_MAX_NEW_OPPORTUNITIES (200) or 3x the median of "
                             "the last 10 runs: it writes nothing, posts one ops notice and "
                             f"exits with code {exit_codes.HELD} (default: the guard is on)")
    parser.add_argument("--rebind", action="append", choices=["salesforce", "slack"],
                        default=[],
                        help="move the sync state to the org or workspace the credentials now "
                             "point at (a sandbox to production): every open signal is new "
                             "there (default: stay bound; a run pointed at another org or "
                             "workspace than the state's stops before any write, exit code "
                             f"{exit_codes.BAD_INPUT})")


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a number above 0: {text!r}")
    return value


def _add_backtest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help="first day of the range (default: 12 months before --end, or the "
                             "history's first day)")
    parser.add_argument("--end", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help="last day of the range (default: the warehouse's as_of)")
    parser.add_argument("--every", type=_positive_int, default=7, metavar="DAYS",
                        help="replay the engine every this many days (default: %(default)s, "
                             "weekly; 1 replays the daily run)")
    parser.add_argument("--alerts-per-owner-per-week", type=_positive_number, default=5.0,
                        metavar="N",
                        help="alerts an owner can work in a week; a threshold value whose "
                             "alerts exceed it is not proposed (default: %(default)s)")
    parser.add_argument("--min-episodes", type=_positive_int, default=10, metavar="N",
                        help="matured episodes a threshold value needs before it can be "
                             "proposed (default: %(default)s)")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="where to write the results as JSON (default: backtest.json in "
                             "the work folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="expansion",
        description="Expansion-signal engine: usage to expansion signals, to Salesforce and Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    generate = commands.add_parser("generate", help="write demo data into the DuckDB warehouse")
    _add_generate_options(generate)
    _add_as_of(generate, "last day of the data")

    build = commands.add_parser("build", help="seed, build and test the dbt models")
    _add_as_of(build)
    _add_target(build, "warehouse to build into")
    _add_dbt_options(build)

    run = commands.add_parser("run", help="the scheduled job: build the models, then sync")
    _add_as_of(run)
    _add_target(run, "warehouse to build into and sync from")
    _add_dbt_options(run)
    _add_sync_options(run)
    run.add_argument("--skip-freshness", action="store_true",
                     help="build and sync even when a source is stale (a deliberate backfill); "
                          "by default a stale source (usage_events older than "
                          "expansion_freshness_error_hours at the end of the as_of day) stops "
                          f"the run before the build, exit code {exit_codes.STALE}")

    sync = commands.add_parser(
        "sync", help="push the expansion_signals mart to Salesforce and Slack (after a build)")
    sync.add_argument("--as-of", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                      help="evaluation date for resolving signals (default: the mart's as_of)")
    _add_target(sync, "warehouse to read")
    _add_sync_options(sync)

    demo = commands.add_parser(
        "demo", help="generate demo data, run the whole loop and show the work queue")
    _add_generate_options(demo)
    _add_as_of(demo, "evaluation date and last day of the data")
    _add_target(demo, "DuckDB output of profiles.yml to build into")
    _add_dbt_options(demo, full_refresh=False)
    demo.add_argument("--with-emulators", action="store_true",
                      help="sync into local Salesforce and Slack emulators and show what landed "
                           "(default: a preview that makes no calls)")

    show = commands.add_parser("show", help="print the work queue: the expansion-ready accounts "
                                            "in order, then the plays firing today")
    show.add_argument("--limit", type=_positive_int, default=ACCOUNTS_SHOWN,
                      help="how many accounts to list (default: %(default)s)")
    show.add_argument("--owner", metavar="EMAIL",
                      help="show one owner's queue (default: every owner's accounts together)")
    _add_target(show, "warehouse to read")

    backtest = commands.add_parser(
        "backtest", help="replay the history: each play's precision, recall and lift, and the "
                         "thresholds that would have earned more per alert")
    _add_backtest_options(backtest)
    _add_target(backtest, "warehouse to read (and to write the backtest schema into)")

    report = commands.add_parser(
        "report", help="write the RevOps report: one self-contained HTML page of NRR, the "
                       "expansion mix, efficiency, the plays, thresholds and the work queue")
    report.add_argument("--output", "-o", type=Path, default=None, metavar="PATH",
                        help="the HTML file to write (default: report.html in the work folder, "
                             "EXPANSION_WORK_DIR)")
    _add_target(report, "warehouse to read")

    emulators = commands.add_parser(
        "emulators", help="run local Salesforce and Slack emulators for the demo and tests")
    emulators.add_argument("--salesforce-port", type=_port, default=8443,
                           help="port of the Salesforce emulator (default: %(default)s)")
    emulators.add_argument("--slack-port", type=_port, default=8444,
                           help="port of the Slack emulator (default: %(default)s)")
    return parser


class DevToolsMissing(ValueError):
    """A demo or emulator command in an installation without the development tools."""


def _dev_tools(command: str):
    """The development package (demo data, emulators), which production installs leave out."""
    try:
        import expansion_dev
    except ImportError:
        raise DevToolsMissing(
            f"`expansion {command}` needs the development tools, which this installation does "
            "not have: from a checkout, run `make demo`, or `pip install -e ./dev`") from None
    return expansion_dev


# --- the warehouse a command uses -------------------------------------------------------

def describe_target(target: str | None) -> str:
    """Where a dbt target points, for people: the DuckDB file, or a DSN without password."""
    from expansion_signals.profiles import target_output
    from expansion_signals.warehouse import postgres_dsn

    name, output = target_output(target)
    kind = output.get("type")
    if kind == "duckdb":
        return f"DuckDB file {duckdb_path()} (target {name})"
    if kind == "postgres":
        return f"PostgreSQL {postgres_dsn(output)} (target {name})"
    return f"{kind} (target {name} of profiles.yml)"


def _target_type(target: str | None) -> str:
    from expansion_signals.profiles import target_output

    return str(target_output(target)[1].get("type"))


def _say_warehouse(target: str | None) -> None:
    print(f"Warehouse: {describe_target(target)}", flush=True)


# --- commands ---------------------------------------------------------------------------

def _resolve_as_of(args: argparse.Namespace) -> None:
    """One evaluation date, from --as-of or from --vars' expansion_as_of; today otherwise."""
    dbt_vars = dict(getattr(args, "vars", {}) or {})
    given = dbt_vars.pop(AS_OF_VAR, None)
    if given is not None:
        try:
            from_vars = date.fromisoformat(str(given))
        except ValueError:
            raise BadArguments(f"--vars: {AS_OF_VAR} is not a date: {given!r}; give it as "
                               "YYYY-MM-DD, or use --as-of") from None
        if args.as_of and args.as_of != from_vars:
            raise BadArguments(f"--as-of {args.as_of} and --vars {AS_OF_VAR}: {from_vars} "
                               "disagree; give the date once, with --as-of")
        args.as_of = from_vars
    args.as_of = args.as_of or _today()
    args.vars = dbt_vars


def cmd_generate(args: argparse.Namespace) -> int:
    _dev_tools("generate")
    from expansion_dev.demo_data import GeneratorOptions, generate

    options = GeneratorOptions(
        accounts=args.accounts, days=args.days, events=args.events, seed=args.seed,
        as_of=args.as_of or _today(),
    )
    print(f"Generating {options.accounts} accounts over {options.days} days ending "
          f"{options.as_of} ...", flush=True)
    result = generate(duckdb_path(), options, seeds_dir())
    counts = ", ".join(f"{table} {count:,}" for table, count in result.row_counts.items())
    print(textwrap.fill(f"raw: {counts}", width=96, initial_indent="  ",
                        subsequent_indent="    "))
    print(f"Wrote {len(result.row_counts)} tables in {result.seconds:.1f} s.")
    return exit_codes.OK


def cmd_build(args: argparse.Namespace, *, unit_tests: bool = True) -> int:
    from expansion_signals.dbt import BuildOptions, run_dbt

    _resolve_as_of(args)
    run_dbt("build", BuildOptions(
        as_of=args.as_of, target=args.target, full_refresh=args.full_refresh,
        unit_tests=unit_tests, dbt_vars=args.vars, select=tuple(args.select),
        exclude=tuple(args.exclude),
    ), verbose=args.verbose)
    if _target_type(args.target) in ("duckdb", "postgres"):
        from expansion_signals.queue import print_plays_off

        print_plays_off(args.target)
    return exit_codes.OK


def cmd_show(args: argparse.Namespace) -> int:
    from expansion_signals.queue import print_queue

    print_queue(args.target, limit=args.limit, owner=getattr(args, "owner", None))
    return exit_codes.OK


def cmd_report(args: argparse.Namespace) -> int:
    from expansion_signals.report_command import write_report

    path = write_report(args.output, args.target)
    print(f"Report: {path}")
    return exit_codes.OK


def cmd_sync(args: argparse.Namespace) -> int:
    from expansion_signals.sync_command import run_sync_command

    return run_sync_command(target=args.target, as_of=args.as_of, dry_run=args.dry_run,
                            accept_volume=getattr(args, "accept_volume", False),
                            rebind=getattr(args, "rebind", []))


def _check_sync_reads(target: str | None) -> None:
    kind = _target_type(target)
    if kind not in ("duckdb", "postgres", "spark"):
        raise BadArguments(f"the sync reads DuckDB, PostgreSQL or Spark, and target "
                           f"{target or os.environ.get('EXPANSION_TARGET')!r} is {kind}: "
                           "build it with `expansion build`, sync from a duckdb, postgres or "
                           "spark target")


def cmd_run(args: argparse.Namespace) -> int:
    """Build, then sync what was built; the exit code says how the sync went."""
    from expansion_signals.config import load_settings
    from expansion_signals.mapping import load_mapping

    # The sync's settings, mapping and target first: a typo must not wait for a whole build.
    load_mapping(load_settings().mapping_path)
    _check_sync_reads(args.target)
    if not args.skip_freshness and not _sources_fresh(args):
        return exit_codes.STALE
    code = cmd_build(args, unit_tests=False)
    if code != exit_codes.OK:
        return code
    cmd_show(argparse.Namespace(limit=ACCOUNTS_SHOWN, target=args.target))
    return cmd_sync(args)


def _sources_fresh(args: argparse.Namespace) -> bool:
    """The freshness gate (freshness.py): False, after one line per stale source and one
    ops notice, when a source is too old to build on."""
    from expansion_signals.config import load_settings
    from expansion_signals.dbt import BuildOptions
    from expansion_signals.freshness import STOPS, check_sources, notify

    _resolve_as_of(args)
    sources = check_sources(BuildOptions(as_of=args.as_of, target=args.target,
                                         dbt_vars=args.vars))
    stale = [s for s in sources if s.status in STOPS]
    for source in sources:
        if source.status == "warn":
            print(f"Freshness warning: {source.sentence()}")
    if not stale:
        print(f"Sources fresh for {args.as_of}: {len(sources)} checked.")
        return True
    said = "; ".join(s.sentence() for s in stale)
    notify(load_settings().slack,
           f"expansion run for {args.as_of} stopped before building: {said}. Nothing was "
           "built or sent; fix the pipeline, or rerun with --skip-freshness for a deliberate "
           "backfill.")
    print(f"error: stale source, nothing was built or sent: {said}; fix the pipeline, or "
          "rerun with --skip-freshness for a deliberate backfill", file=sys.stderr)
    return False


def cmd_demo(args: argparse.Namespace) -> int:
    _dev_tools("demo")
    if _target_type(args.target) != "duckdb":
        raise BadArguments(f"--target {args.target}: the demo writes its data into DuckDB; "
                           "name a duckdb output of profiles.yml, or leave --target out")
    _resolve_as_of(args)
    cmd_generate(args)
    args.full_refresh = True
    code = cmd_build(args)
    if code != exit_codes.OK:
        return code
    cmd_show(argparse.Namespace(limit=ACCOUNTS_SHOWN_IN_DEMO, target=args.target))
    if args.with_emulators:
        from expansion_dev.demo_emulators import run_demo_sync

        code = run_demo_sync(as_of=args.as_of)
    else:
        from expansion_signals.sync_command import run_sync_command

        # The demo never writes to a real org or workspace, whatever the environment holds.
        code = run_sync_command(target=args.target, as_of=args.as_of, dry_run=True)
    # How the demo book behaves: signal share, urgency, episode age, plays, mix, lift.
    from expansion_dev.demo_figures import compute_from_path

    print("\nThe demo book:")
    for line in compute_from_path(str(duckdb_path())).lines():
        print(textwrap.fill(line, width=96, initial_indent="  ", subsequent_indent="    "))
    # What the past says of the plays and their thresholds (`expansion backtest` for all).
    from expansion_signals.backtest import BacktestOptions, summary

    result = _backtest(args.target, BacktestOptions())
    print("\nWhat the history says (`expansion backtest` for every figure):")
    for line in summary(result):
        print(textwrap.fill(line, width=96, initial_indent="  ", subsequent_indent="    "))
    print()
    cmd_report(argparse.Namespace(output=None, target=args.target))
    return code


def _backtest(target: str | None, options: Any, progress: Any = None) -> Any:
    """Run the backtest on the target's warehouse and keep its results there."""
    from expansion_signals.backtest import run_backtest, store
    from expansion_signals.warehouse import connect_warehouse

    db = connect_warehouse(target)
    try:
        result = run_backtest(db, options, progress=progress or (lambda _step: None))
        store(db, result)
    finally:
        db.close()
    return result


def cmd_backtest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from expansion_signals.backtest import BacktestOptions, render, to_json
    from expansion_signals.project import work_dir

    options = BacktestOptions(start=args.start, end=args.end, every_days=args.every,
                              alerts_per_owner_per_week=args.alerts_per_owner_per_week,
                              min_matured_episodes=args.min_episodes)
    result = _backtest(args.target, options,
                       progress=lambda step: print(f"  {step} ...", flush=True))
    path = Path(args.json) if args.json else work_dir() / "backtest.json"
    path.write_text(to_json(result) + "\n")
    print()
    for line in render(result):
        print(line)
    print(f"\nBacktest done in {result.seconds:.1f} s: tables backtest.play_results, "
          f"backtest.compound_results, backtest.threshold_sweep (run {result.run_id}); "
          f"JSON at {path}")
    return exit_codes.OK


def cmd_emulators(args: argparse.Namespace) -> int:
    _dev_tools("emulators")
    from expansion_dev.emulators.serve import serve

    serve(salesforce_port=args.salesforce_port, slack_port=args.slack_port)
    return exit_codes.OK


COMMANDS = {
    "generate": cmd_generate,
    "build": cmd_build,
    "run": cmd_run,
    "sync": cmd_sync,
    "demo": cmd_demo,
    "show": cmd_show,
    "report": cmd_report,
    "backtest": cmd_backtest,
    "emulators": cmd_emulators,
}


def _silence_stdout() -> None:
    """The reader of our output has gone (`expansion show | head`): drop what is left, so
    Python's final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (under a test's capture)
        pass


def main(argv: list[str] | None = None) -> int:
    from expansion_signals.dbt import DbtFailed
    from expansion_signals.warehouse import WarehouseBusy, WarehouseError

    args = None
    try:
        args = build_parser().parse_args(argv)
        if args.command != "emulators":
            _say_warehouse("duckdb" if args.command == "generate" else args.target)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # here, so that a closed pipe is noticed while we can handle it
        return code
    except WarehouseBusy as error:  # another process holds the DuckDB file
        print(f"Skipped: {error}", file=sys.stderr)
        return exit_codes.LOCKED
    except DbtFailed as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return exit_codes.FAILED
    except (ValueError, FileNotFoundError, WarehouseError) as error:
        # one line, also when a driver's message has several
        print("error: " + " ".join(part.strip() for part in str(error).splitlines()),
              file=sys.stderr)
        return exit_codes.BAD_INPUT
    except BrokenPipeError:
        _silence_stdout()
        # Only `show` is wholly a reading; elsewhere the work was cut short.
        return exit_codes.OK if args is not None and args.command == "show" else exit_codes.FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
