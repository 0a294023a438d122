"""`expansion sync`: settings from the environment, clients, one run, a report, an exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from expansion_signals import exit_codes
from expansion_signals.binding import salesforce_identity, slack_identity
from expansion_signals.config import ConfigError, load_settings
from expansion_signals.connections import connect_salesforce, connect_slack
from expansion_signals.engine import SyncRun
from expansion_signals.errors import SyncAborted, describe
from expansion_signals.mapping import MappingError, load_mapping
from expansion_signals.org_check import check_mapping_against_org
from expansion_signals.sync_report import result_lines
from expansion_signals.warehouse import (
    WarehouseBusy,
    WarehouseError,
    connect_warehouse,
    require_sync_marts,
)


def run_sync_command(
    *,
    target: str | None,
    as_of: date | None,
    dry_run: bool,
    accept_volume: bool = False,
    rebind: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    say: Callable[[str], None] = print,
) -> int:
    def fail(message: str, code: int) -> int:
        print(f"error: {message}", file=sys.stderr)
        return code

    try:
        settings = load_settings(env)
        mapping = load_mapping(settings.mapping_path)
    except ValueError as error:  # ConfigError, MappingError
        return fail(str(error), exit_codes.BAD_INPUT)
    try:
        db = connect_warehouse(target)
    except WarehouseBusy as error:  # the DuckDB file is held by another run's build or sync
        say(f"Sync skipped: {error}")
        return exit_codes.LOCKED
    except WarehouseError as error:
        return fail(str(error), exit_codes.BAD_INPUT)
    try:
        try:
            require_sync_marts(db)
        except WarehouseError as error:
            return fail(str(error), exit_codes.BAD_INPUT)
        live = not dry_run
        try:
            salesforce = (
                connect_salesforce(settings.salesforce, settings.retry)
                if live and settings.salesforce.configured else None
            )
            if salesforce is not None:  # before anything is written: one describe per object
                check_mapping_against_org(salesforce, mapping, settings.retry)
        except SyncAborted as error:
            return fail(str(error), exit_codes.FAILED)
        except (ConfigError, MappingError) as error:  # the org lacks a mapped name or version
            return fail(str(error), exit_codes.BAD_INPUT)
        slack = connect_slack(settings.slack) if live and settings.slack.configured else None
        try:  # which org and workspace the credentials are for (binding.py)
            identities = ([salesforce_identity(salesforce, settings.retry)] if salesforce
                          else []) + ([slack_identity(slack, settings.retry)] if slack else [])
        except SyncAborted as error:
            return fail(str(error), exit_codes.FAILED)
        except Exception as error:  # an API error answered for good (auth, scopes)
            code, message = describe(error)
            return fail(f"cannot tell which org or workspace the credentials are for: "
                        f"{code}: {message}", exit_codes.FAILED)
        for line in settings.describe():
            say(line)
        result = SyncRun(db, settings, mapping, salesforce, slack, dry_run=dry_run,
                         as_of=as_of, accept_volume=accept_volume, identities=identities,
                         rebind=rebind).run()
        if result.status == "unbound":
            return fail(str(result.error), result.exit_code)
        for line in result_lines(result):
            say(line)
        return result.exit_code
    finally:
        db.close()
