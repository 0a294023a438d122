"""Closing the loop: the Opportunities the sync opened, read back into the warehouse.

After its writes, each apply run with Salesforce asks for the Opportunities that
carry a signal id and changed since the last read, and upserts them into
expansion_sync.opportunity_readback, which stg_opportunities reads: a won
Opportunity then converts exactly the signal it carries.

* The watermark is the largest LastModifiedDate read so far, kept per run in
  `runs.readback_through` and written in the same transaction as the rows, so it
  moves only once they are stored. The query asks for LastModifiedDate at or
  after it, to the second (SOQL's dateTime literal has whole seconds, and a
  record changed again within the second of the last read is not lost); a record
  read again unchanged is neither written nor counted.
* No readback table (a first run, or the table was dropped): no watermark, every
  Opportunity carrying a signal id is read.
* account_id and motion come from the ledger (signal_state); an Opportunity
  whose signal the ledger does not know (another warehouse's sync, a lost
  ledger) is skipped and counted. Its change still moves the watermark.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from expansion_signals.connections import SalesforceConnection
from expansion_signals.errors import RetryPolicy
from expansion_signals.ledger import SCHEMA
from expansion_signals.mapping import Mapping
from expansion_signals.types import Play
from expansion_signals.warehouse import Database, SparkDatabase

TABLE_NAME = "opportunity_readback"
TABLE = f"{SCHEMA}.{TABLE_NAME}"


class Row(NamedTuple):
    """One row of the readback table, in its column order."""

    opportunity_id: str
    expansion_signal_id: str
    account_id: str  # the warehouse's, not the CRM's
    motion: str
    stage_name: str | None
    is_closed: bool
    is_won: bool
    amount: float | None
    created_at: datetime | None
    close_date: date | None
    last_modified_at: datetime | None
    read_at: datetime


COLUMNS = Row._fields
# The columns and their types, in Row's order.
TYPES = ("varchar", "varchar", "varchar", "varchar", "varchar", "boolean", "boolean",
         "double precision", "timestamp", "date", "timestamp", "timestamp")
COLUMN_TYPES = ", ".join(f"{c} {t}" for c, t in zip(COLUMNS, TYPES, strict=True))
KEYED = COLUMN_TYPES.replace(" varchar", " varchar primary key", 1)  # opportunity_id
DDL = f"create table if not exists {TABLE} ({KEYED})"
# Standard Opportunity fields, the same in every org; stage and close date follow the mapping.
STANDARD_FIELDS = ("Id", "IsClosed", "IsWon", "Amount", "CreatedDate", "LastModifiedDate")


@dataclass(frozen=True)
class ReadBack:
    """What one run read back: Opportunities new or changed in the warehouse, of them won,
    and those skipped because the ledger does not know their signal."""

    read: int = 0
    won: int = 0
    skipped: int = 0

    def sentence(self) -> str:
        noun = "Opportunity" if self.read == 1 else "Opportunities"
        text = f"read back {self.read} {noun} ({self.won} won)"
        if self.skipped:
            text += f"; {self.skipped} skipped: signal not in the ledger"
        return text


def _timestamp(value: Any) -> datetime | None:
    """Salesforce's 2026-01-02T03:04:05.000+0000 -> naive UTC, as the ledger keeps times."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def soql_datetime(moment: datetime) -> str:
    """A naive UTC time as a SOQL dateTime literal, to the second (rounded down)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def readback_soql(mapping: Mapping, since: datetime | None) -> str:
    opportunity = mapping.opportunity
    key = opportunity.external_id
    fields = ["Id", key, opportunity.fields["stage"], "IsClosed", "IsWon", "Amount",
              opportunity.fields["close_date"], "CreatedDate", "LastModifiedDate"]
    where = f"{key} != null"
    if since is not None:
        where += f" AND LastModifiedDate >= {soql_datetime(since)}"
    return f"SELECT {', '.join(fields)} FROM {opportunity.object} WHERE {where}"


def fetch(
    connection: SalesforceConnection, mapping: Mapping, policy: RetryPolicy,
    since: datetime | None,
) -> list[dict[str, Any]]:
    """Every page of the read-back query, under the retry policy."""
    soql = readback_soql(mapping, since)
    found = connection.call(lambda sf: sf.query_all(soql), policy)
    return list(found.get("records", []))


def signal_ids(records: Iterable[dict[str, Any]], mapping: Mapping) -> set[str]:
    key = mapping.opportunity.external_id.lower()
    return {str(v) for r in records for k, v in r.items() if k.lower() == key and v}


def to_rows(
    records: Sequence[dict[str, Any]],
    mapping: Mapping,
    known: dict[str, tuple[str | None, ...]],
    plays: dict[str, Play],
    read_at: datetime,
    since: datetime | None = None,
) -> tuple[list[Row], list[tuple[str, str]], datetime | None]:
    """(rows to store, (Opportunity id, signal id) of those skipped, the latest
    LastModifiedDate of all records).

    account_id and motion are the ledger's; a ledger row from before it kept the
    motion gets the play's from the catalog. A skipped record no newer than the
    watermark `since` was reported when it was first read, and is not again.
    """
    opportunity = mapping.opportunity
    names = {n.lower(): n for n in (opportunity.external_id, opportunity.fields["stage"],
                                    opportunity.fields["close_date"], *STANDARD_FIELDS)}
    rows: dict[str, Row] = {}
    skipped: list[tuple[str, str]] = []
    through: datetime | None = None
    for record in records:
        # Field names as the mapping writes them, whatever case the org answers in.
        value = {names[k.lower()]: v for k, v in record.items() if k.lower() in names}
        modified = _timestamp(value.get("LastModifiedDate"))
        if modified is not None and (through is None or modified > through):
            through = modified
        signal_id = str(value.get(opportunity.external_id) or "")
        account_id, play_id, motion = known.get(signal_id, (None, None, None))
        if motion is None and play_id in plays:
            motion = plays[str(play_id)].motion
        opportunity_id = str(value["Id"])
        if account_id is None or motion is None:
            if since is None or modified is None or modified > since:
                skipped.append((opportunity_id, signal_id))
            continue
        amount = value.get("Amount")
        rows[opportunity_id] = Row(
            opportunity_id, signal_id, str(account_id), str(motion),
            value.get(opportunity.fields["stage"]), bool(value.get("IsClosed")),
            bool(value.get("IsWon")), None if amount is None else float(amount),
            _timestamp(value.get("CreatedDate")), _day(value.get(opportunity.fields["close_date"])),
            modified, read_at,
        )
    return list(rows.values()), skipped, through


class ReadbackTable:
    """expansion_sync.opportunity_readback and the watermark in expansion_sync.runs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def watermark(self) -> datetime | None:
        """None before the table exists: the first read takes everything."""
        if not self.db.table_exists(SCHEMA, TABLE_NAME):
            return None
        found = self.db.execute(f"select max(readback_through) from {SCHEMA}.runs")
        return found[0][0] if found and found[0][0] is not None else None

    def ensure(self) -> None:
        self.db.execute(DDL)

    def publish(self, warehouse: SparkDatabase) -> None:
        """Copy the table to a warehouse that keeps its ledger elsewhere (Spark), where
        stg_opportunities reads it: whole, every run, so a copy a crash cut short is
        mended by the next one."""
        rows = self.db.execute(f"select {', '.join(COLUMNS)} from {TABLE}")
        warehouse.replace_table(TABLE, COLUMN_TYPES, rows)

    def _changed(self, rows: Sequence[Row], since: datetime | None) -> list[Row]:
        """The rows not stored as they are. One equal to a stored row has its
        LastModifiedDate, hence one at or after `since`: only those are read."""
        if not rows:
            return []
        where, params = ("where last_modified_at >= ?", [since.replace(microsecond=0)]) \
            if since is not None else ("", [])
        stored = {
            tuple(r) for r in self.db.execute(
                f"select {', '.join(COLUMNS[:-1])} from {TABLE} {where}", params)
        }
        return [r for r in rows if tuple(r[:-1]) not in stored]

    def store(
        self, run_id: str, rows: Sequence[Row], since: datetime | None,
        through: datetime | None,
    ) -> list[Row]:
        """Upsert the rows that changed and move the watermark, in one transaction."""
        changed = self._changed(rows, since)
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        with self.db.transaction():
            self.db.insert_rows(
                f"insert into {TABLE} ({', '.join(COLUMNS)})", changed,
                f"on conflict (opportunity_id) do update set {updates}",
            )
            if through is not None:
                self.db.execute(f"update {SCHEMA}.runs set readback_through = ? "
                                "where run_id = ?", [through, run_id])
        return changed
