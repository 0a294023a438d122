"""A small hand-written warehouse, settings that retry fast, and clients for the emulators."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from expansion_dev.emulators import clients
from expansion_dev.emulators.salesforce import SalesforceEmulator
from expansion_dev.emulators.slack import SlackEmulator
from expansion_dev.marts import rank_per_owner, write_sync_marts
from slack_sdk import WebClient

from expansion_signals.config import SalesforceSettings, SlackSettings, SyncSettings
from expansion_signals.connections import SalesforceConnection, connect_salesforce
from expansion_signals.engine import Checkpoint, RunResult, SyncRun
from expansion_signals.errors import RetryPolicy
from expansion_signals.ledger import Ledger
from expansion_signals.mapping import load_mapping
from expansion_signals.types import SignalRow
from expansion_signals.warehouse import SIGNAL_COLUMNS, connect_duckdb, split_emails

AS_OF = date(2026, 11, 24)
OWNER = "ana@example.com"
SEAT_EVIDENCE = {"seats_assigned": 46, "seats_purchased": 50, "seat_utilization": 0.92,
                 "sustained_days": 14}


def signal_row(n: int, **overrides: Any) -> dict[str, Any]:
    """One mart row; seat_expansion for an owner by default."""
    row: dict[str, Any] = {
        "signal_id": f"sig-{n:05d}",
        "account_id": f"acc-{n:05d}",
        "crm_account_id": None,
        "account_name": f"Account {n}",
        "play_id": "seat_expansion",
        "motion": "seat",
        "product": "",
        "episode_start": AS_OF - timedelta(days=14),
        "as_of": AS_OF,
        "urgency": "medium",
        "close_path": "mid_cycle",
        "owner_role": "account_executive",
        "owner_email": OWNER,
        "sla_due_on": AS_OF + timedelta(days=14),
        "signal_count": 1,
        "compound": False,
        "days_to_renewal": 200,
        "evidence": json.dumps(SEAT_EVIDENCE),
        "signal_categories": 1,
        "priority_score": 50.0,
        # Distinct within any owner; Mart.write makes them 1, 2, ... per owner.
        "priority_rank": n + 1,
        "informed_emails": None,
        "held_until": None,
    }
    row.update(overrides)
    # The accountable owner makes the first move unless a test says who does.
    row.setdefault("responsible_role", row["owner_role"])
    row.setdefault("responsible_email", row["owner_email"])
    return row


def as_signal(row: dict[str, Any]) -> SignalRow:
    """A mart row as the sync reads it (informed_emails split)."""
    return SignalRow(**{**row, "informed_emails": split_emails(row.get("informed_emails"))})


@dataclass
class Mart:
    """A DuckDB warehouse file holding only the marts the sync reads (plays from the seed)."""

    path: Path

    def write(self, rows: list[dict[str, Any]], cooldown_days: int = 30) -> None:
        con = duckdb.connect(str(self.path))
        try:
            as_of = max((r["as_of"] for r in rows), default=AS_OF)
            write_sync_marts(con.execute, as_of, cooldown_days=cooldown_days)
            if rows:
                marks = ", ".join(["?"] * len(SIGNAL_COLUMNS))
                con.executemany(
                    f"insert into marts.expansion_signals values ({marks})",
                    [[r[c] for c in SIGNAL_COLUMNS] for r in rank_per_owner(rows)],
                )
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.path))
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


@pytest.fixture
def mart(tmp_path: Path) -> Mart:
    found = Mart(tmp_path / "warehouse.duckdb")
    found.write([])
    return found


@pytest.fixture
def fallback_channel(slack_emulator: SlackEmulator) -> str:
    return slack_emulator.seed_channel("expansion-signals")


@pytest.fixture
def ops_channel(slack_emulator: SlackEmulator) -> str:
    return slack_emulator.seed_channel("revops-alerts")


@pytest.fixture
def settings(
    salesforce_emulator: SalesforceEmulator,
    slack_emulator: SlackEmulator,
    fallback_channel: str,
    ops_channel: str,
) -> SyncSettings:
    return SyncSettings(
        salesforce=SalesforceSettings(
            instance_url=salesforce_emulator.instance_url,
            access_token=salesforce_emulator.session_id,
            client_id=salesforce_emulator.settings.client_id,
            client_secret=salesforce_emulator.settings.client_secret,
            ca_bundle=salesforce_emulator.ca_path,
            timeout=1.5,  # short, so a delayed answer times out fast
        ),
        slack=SlackSettings(
            bot_token=slack_emulator.bot_token,
            api_url=slack_emulator.base_url,
            fallback_channel=fallback_channel,
            ops_channel=ops_channel,
        ),
        bulk_poll_seconds=0,
        retry=RetryPolicy(attempts=4, initial_wait=0.01, max_wait=0.05),
    )


@pytest.fixture
def connection(settings: SyncSettings) -> Iterator[SalesforceConnection]:
    found = connect_salesforce(settings.salesforce)
    yield found
    found.client.session.close()


@pytest.fixture
def slack(slack_emulator: SlackEmulator) -> WebClient:
    return clients.slack_client(slack_emulator)


RunSync = Callable[..., RunResult]


@pytest.fixture
def run_sync(
    mart: Mart, settings: SyncSettings, connection: SalesforceConnection, slack: WebClient
) -> RunSync:
    """One run against the emulators; keyword arguments override SyncRun's."""

    def run(
        *,
        salesforce: SalesforceConnection | None | str = "default",
        slack_client: WebClient | None | str = "default",
        checkpoint: Checkpoint | None = None,
        as_of: date | None = None,
        dry_run: bool = False,
        accept_volume: bool = False,
        **overrides: Any,
    ) -> RunResult:
        db = connect_duckdb(mart.path)
        try:
            return SyncRun(
                db,
                replace(settings, **overrides),
                load_mapping(),
                connection if salesforce == "default" else salesforce,  # type: ignore[arg-type]
                slack if slack_client == "default" else slack_client,  # type: ignore[arg-type]
                dry_run=dry_run,
                as_of=as_of,
                checkpoint=checkpoint,
                accept_volume=accept_volume,
            ).run()
        finally:
            db.close()

    return run


def ledger_states(mart: Mart) -> dict[str, Any]:
    db = connect_duckdb(mart.path)
    try:
        return Ledger(db).load_states()
    finally:
        db.close()
