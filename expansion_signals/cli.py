"""The `expansion` command line: generate demo data, build the models, sync, run."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime

from expansion_signals.project import duckdb_path, seeds_dir

# Exit codes of `sync` and `run` (the scheduled command); README "Exit codes".
EXIT_OK = 0  # everything acknowledged, or a preview
EXIT_FAILED = 1  # the build or the run failed (auth, API limit, unreachable, dbt)
EXIT_BAD_INPUT = 2  # bad arguments, configuration, mapping file, or no mart to read
EXIT_PARTIAL = 3  # some records or messages failed; recorded, retried on the next run
EXIT_LOCKED = 4  # another sync run holds the lock; this one did nothing


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def _today() -> date:
    return datetime.now(UTC).date()


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=_iso_date, default=None,
                        help="evaluation date (default: today, UTC)")
    parser.add_argument("--target", default=None,
                        help="dbt target from profiles.yml (default: EXPANSION_TARGET or duckdb)")
    parser.add_argument("--full-refresh", action="store_true",
                        help="rebuild incremental models from scratch")


def _add_generate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--events", type=int, default=None,
                        help="target usage events (default: 10 per account-day)")
    parser.add_argument("--seed", type=int, default=42)


def _add_sync_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="make no calls: show and record the plan, even with credentials")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="expansion",
        description="Expansion-signal engine: usage to expansion signals, to Salesforce and Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write demo data into the DuckDB warehouse")
    _add_generate_options(generate)
    generate.add_argument("--as-of", type=_iso_date, default=None,
                          help="last day of the data (default: today, UTC)")

    build = commands.add_parser("build", help="seed, build and test the dbt models")
    _add_build_options(build)

    run = commands.add_parser("run", help="the scheduled job: build the models, then sync")
    _add_build_options(run)
    _add_sync_options(run)

    sync = commands.add_parser(
        "sync", help="push the expansion_signals mart to Salesforce and Slack (after a build)")
    sync.add_argument("--as-of", type=_iso_date, default=None,
                      help="evaluation date for resolving signals (default: the mart's as_of)")
    sync.add_argument("--target", default=None,
                      help="warehouse to read: duckdb or postgres (default: EXPANSION_TARGET)")
    _add_sync_options(sync)

    demo = commands.add_parser(
        "demo", help="generate demo data, run the whole loop and show the strongest signals")
    _add_generate_options(demo)
    demo.add_argument("--as-of", type=_iso_date, default=None)
    demo.add_argument("--with-emulators", action="store_true",
                      help="sync into local Salesforce and Slack emulators and show what landed "
                           "(default: a preview that makes no calls)")

    show = commands.add_parser("show", help="print the strongest expansion signals")
    show.add_argument("--limit", type=int, default=15)

    emulators = commands.add_parser(
        "emulators", help="run local Salesforce and Slack emulators for the demo and tests")
    emulators.add_argument("--salesforce-port", type=int, default=8443)
    emulators.add_argument("--slack-port", type=int, default=8444)
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


def cmd_generate(args: argparse.Namespace) -> int:
    _dev_tools("generate")
    from expansion_dev.demo_data import GeneratorOptions, generate

    options = GeneratorOptions(
        accounts=args.accounts, days=args.days, events=args.events, seed=args.seed,
        as_of=args.as_of or _today(),
    )
    path = duckdb_path()
    print(f"Generating {options.accounts} accounts over {options.days} days ending "
          f"{options.as_of} into {path} ...")
    result = generate(path, options, seeds_dir())
    for table, count in result.row_counts.items():
        print(f"  raw.{table:<18} {count:>12,}")
    print(f"Done in {result.seconds:.1f} s.")
    return EXIT_OK


def cmd_build(args: argparse.Namespace, *, unit_tests: bool = True) -> int:
    from expansion_signals.dbt import BuildOptions, run_dbt

    run_dbt("build", BuildOptions(as_of=args.as_of or _today(), target=args.target,
                                  full_refresh=args.full_refresh, unit_tests=unit_tests))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from expansion_signals.report import print_strongest_signals

    print_strongest_signals(duckdb_path(), limit=args.limit)
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from expansion_signals.sync_command import run_sync_command

    return run_sync_command(target=args.target, as_of=args.as_of, dry_run=args.dry_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Build, then sync what was built; the exit code says how the sync went."""
    from expansion_signals.config import load_settings
    from expansion_signals.mapping import load_mapping

    # The sync's settings and mapping first: a typo must not wait for a whole build.
    load_mapping(load_settings().mapping_path)
    args.as_of = args.as_of or _today()
    code = cmd_build(args, unit_tests=False)
    if code != EXIT_OK:
        return code
    if (args.target or os.environ.get("EXPANSION_TARGET", "duckdb")) == "duckdb":
        cmd_show(argparse.Namespace(limit=15))
    return cmd_sync(args)


def cmd_demo(args: argparse.Namespace) -> int:
    _dev_tools("demo")
    args.as_of = args.as_of or _today()
    cmd_generate(args)
    args.target = None
    args.full_refresh = True
    code = cmd_build(args)
    if code != EXIT_OK:
        return code
    cmd_show(argparse.Namespace(limit=15))
    if args.with_emulators:
        from expansion_dev.demo_emulators import run_demo_sync

        return run_demo_sync(as_of=args.as_of)
    from expansion_signals.sync_command import run_sync_command

    # The demo never writes to a real org or workspace, whatever the environment holds.
    return run_sync_command(target=None, as_of=args.as_of, dry_run=True)


def cmd_emulators(args: argparse.Namespace) -> int:
    _dev_tools("emulators")
    from expansion_dev.emulators.serve import serve

    serve(salesforce_port=args.salesforce_port, slack_port=args.slack_port)
    return EXIT_OK


COMMANDS = {
    "generate": cmd_generate,
    "build": cmd_build,
    "run": cmd_run,
    "sync": cmd_sync,
    "demo": cmd_demo,
    "show": cmd_show,
    "emulators": cmd_emulators,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from expansion_signals.dbt import DbtFailed
    from expansion_signals.warehouse import WarehouseBusy

    try:
        return COMMANDS[args.command](args)
    except WarehouseBusy as error:  # dbt could not open the DuckDB file another run holds
        print(f"Skipped: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except DbtFailed as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

