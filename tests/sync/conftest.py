"""A small hand-written warehouse, settings that retry fast, and clients for the emulators."""

from __future__ import annotations

import copy
import json
import os
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
from expansion_dev.marts import (
    DEFAULT_SLA_DAYS,
    SYNC_MARTS,
    rank_per_owner,
    seed_plays,
    write_sync_marts,
)
from slack_sdk import WebClient

from expansion_signals.config import SalesforceSettings, SlackSettings, SyncSettings
from expansion_signals.connections import SalesforceConnection, connect_salesforce
from expansion_signals.engine import Checkpoint, RunResult, SyncRun
from expansion_signals.errors import RetryPolicy
from expansion_signals.ledger import Ledger
from expansion_signals.mapping import load_mapping
from expansion_signals.profiles import target_output
from expansion_signals.types import SignalRow
from expansion_signals.warehouse import (
    SIGNAL_COLUMNS,
    Database,
    SparkDatabase,
    connect_duckdb,
    connect_postgres,
    connect_spark,
    split_emails,
)
from tests.support.postgres import PostgresServer, postgres_cluster
from tests.support.spark import SparkHome

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
                    f"insert into marts.expansion_signals values ({marks})", mart_values(rows))
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """SQL on the ledger's database (here the warehouse file itself)."""
        con = duckdb.connect(str(self.path))
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def connect(self) -> Database:
        """The warehouse as the sync opens it."""
        return connect_duckdb(self.path)


def mart_values(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r[c] for c in SIGNAL_COLUMNS] for r in rank_per_owner(rows)]


@dataclass
class SparkMart(Mart):
    """The marts in Spark (a session in this process), the ledger in the DuckDB file `path`,
    as the spark target of profiles.yml keeps them."""

    session: Any = None
    written: Any = None  # what the marts hold now: writing the same again is skipped

    def write(self, rows: list[dict[str, Any]], cooldown_days: int = 30) -> None:
        if self.written == (rows, cooldown_days):
            return
        self.written = (copy.deepcopy(rows), cooldown_days)
        db = self.connect()
        try:
            as_of = max((r["as_of"] for r in rows), default=AS_OF)
            settings = [(as_of, cooldown_days, DEFAULT_SLA_DAYS, 400)]
            for table, values in (("expansion_signals", mart_values(rows)),
                                  ("sync_plays", seed_plays()), ("sync_settings", settings)):
                db.replace_table(f"marts.{table}", SYNC_MARTS[table], values)
        finally:
            db.close()

    def connect(self) -> SparkDatabase:
        return SparkDatabase(self.session, "spark", "Spark (tests)",
                             connect_duckdb(self.path, create=True))


@dataclass
class PostgresMart(Mart):
    """The marts and the ledger in a PostgreSQL database."""

    server: PostgresServer | None = None

    def write(self, rows: list[dict[str, Any]], cooldown_days: int = 30) -> None:
        db = self.connect()
        try:
            as_of = max((r["as_of"] for r in rows), default=AS_OF)
            write_sync_marts(db.execute, as_of, cooldown_days=cooldown_days)
            db.insert_rows("insert into marts.expansion_signals", mart_values(rows))
        finally:
            db.close()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        db = self.connect()
        try:
            return db.execute(sql, params or [])
        finally:
            db.close()

    def connect(self) -> Database:
        assert self.server is not None
        return connect_postgres(self.server.env())


ENGINES = ("duckdb", "postgres", "spark")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with postgres_cluster() as server:
        yield server


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One Spark session for the process, with its tables under a temporary folder."""
    home = SparkHome(tmp_path_factory.mktemp("spark-sync"))
    _, output = target_output("spark", {**os.environ, **home.env()})
    db = connect_spark("spark", output)
    db.close()
    return db.connection


def engine_mart(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Mart:
    """An empty warehouse on `engine`, the ledger gone."""
    if engine == "postgres":
        found: Mart = PostgresMart(tmp_path / "unused", request.getfixturevalue("postgres_server"))
        found.query("drop schema if exists expansion_sync cascade")
    elif engine == "spark":
        found = SparkMart(tmp_path / "ledger.duckdb", request.getfixturevalue("spark_session"))
    else:
        found = Mart(tmp_path / "warehouse.duckdb")
    found.write([])
    return found


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
        db = mart.connect()
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
    db = mart.connect()
    try:
        return Ledger(db.ledger_db).load_states()
    finally:
        db.close()
