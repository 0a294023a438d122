"""The sync's own tables in the warehouse (schema `expansion_sync`).

* signal_state: per signal_id, what each destination acknowledged (hashes of
  the payloads sent, Salesforce ids, the Slack channel and ts, the urgency
  announced) plus when the mart last showed it. Written only after an
  acknowledgement, so a crash can lose at most work that is then redone.
* slack_intents: a message about to be sent. Written before chat.postMessage
  and removed once its ts is committed; one still here on the next run means
  "maybe sent": the channel is searched before sending again.
* runs: one row per run (mode, status, counts, error). A run whose process
  died stays `running` until the next run takes the lock, which closes it as
  `abandoned`. `readback_through`: the latest LastModifiedDate of the
  Opportunities the run read back (expansion_signals.readback); the largest is the
  read-back's watermark.
* operations: one row per record or message a run planned, sent or failed.
* run_lock: one row while a run holds the lock.
* slack_recipients: per owner email, the Slack user and direct-message
  channel last looked up (user_id null: no Slack user, the fallback channel),
  so a daily run asks Slack only about owners it has not seen lately.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from expansion_signals.binding import (
    SALESFORCE,
    WHAT,
    BindingMismatch,
    Identity,
    mismatch_message,
)
from expansion_signals.types import (
    OPEN,
    OPPORTUNITY,
    RESOLVED,
    SIGNAL,
    TASK,
    Intent,
    Operation,
    RecordResult,
    RunRecord,
    SignalRow,
    SignalState,
)
from expansion_signals.warehouse import Database

SCHEMA = "expansion_sync"
LOCK_NAME = "sync"
STATE_COLUMNS = tuple(f.name for f in fields(SignalState))
# What the models read of signal_state (stg_sync_deliveries, play_funnel).
DELIVERY_COLUMNS = "signal_id varchar, sf_signal_id varchar, slack_ts varchar, sla_due date"
DELIVERY_NAMES = ", ".join(column.split()[0] for column in DELIVERY_COLUMNS.split(", "))
DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.signal_state (
        signal_id varchar primary key, status varchar, last_seen date, owner_email varchar,
        account_name varchar, signal_hash varchar, opportunity_hash varchar, task_hash varchar,
        sf_signal_id varchar, sf_opportunity_id varchar, sf_task_id varchar, sf_error varchar,
        slack_channel varchar, slack_ts varchar, slack_urgency varchar, slack_error varchar,
        updated_at timestamp, account_id varchar, play_id varchar, product varchar,
        episode_start date, sla_due date, backlog varchar, motion varchar, held_until date)""",
    # Ledgers made before the state kept the signal's key, then its SLA date and backlog mark,
    # then its play's motion (the read-back's), then the renewal it was held for.
    *(f"alter table {SCHEMA}.signal_state add column if not exists {column}"
      for column in ("account_id varchar", "play_id varchar", "product varchar",
                     "episode_start date", "sla_due date", "backlog varchar",
                     "motion varchar", "held_until date")),
    f"""create table if not exists {SCHEMA}.slack_intents (
        notice_id varchar primary key, run_id varchar, kind varchar, channel varchar,
        thread_ts varchar, signal_ids varchar, urgency varchar, posted_after varchar,
        recorded_at timestamp, recipient varchar)""",
    # Ledgers made before informed digests (their intents name the person).
    f"alter table {SCHEMA}.slack_intents add column if not exists recipient varchar",
    # Who of the informed roles was told of which signal (channel and ts null: the person
    # has no Slack user, so is not told).
    f"""create table if not exists {SCHEMA}.informed (
        signal_id varchar, recipient varchar, notice_id varchar, channel varchar, ts varchar,
        informed_at timestamp, primary key (signal_id, recipient))""",
    f"""create table if not exists {SCHEMA}.runs (
        run_id varchar primary key, mode varchar, status varchar, as_of date,
        started_at timestamp, finished_at timestamp, counts varchar, error varchar,
        new_opportunities integer, readback_through timestamp)""",
    # Ledgers made before runs counted the Opportunities they created (the volume guard),
    # and before they read Opportunities back.
    f"alter table {SCHEMA}.runs add column if not exists new_opportunities integer",
    f"alter table {SCHEMA}.runs add column if not exists readback_through timestamp",
    f"""create table if not exists {SCHEMA}.operations (
        run_id varchar, seq integer, logged_at timestamp, destination varchar, action varchar,
        signal_id varchar, owner varchar, outcome varchar, remote_id varchar,
        error_code varchar, error_message varchar, detail varchar)""",
    # The org and workspace the state belongs to (binding.py).
    f"""create table if not exists {SCHEMA}.binding (
        destination varchar primary key, remote_id varchar, name varchar,
        bound_at timestamp)""",
    f"""create table if not exists {SCHEMA}.run_lock (
        name varchar primary key, run_id varchar, holder varchar, acquired_at timestamp)""",
    f"""create table if not exists {SCHEMA}.slack_recipients (
        owner_email varchar primary key, user_id varchar, channel_id varchar,
        looked_up_at timestamp)""",
)
ABANDONED = "abandoned"  # runs.status of a run whose process died before it finished
# Runs that ended without saying whether the sync works: skipped by the ops-channel streak.
# A run the volume guard held wrote nothing and says nothing about whether the sync works.
HELD = "held"
NO_VERDICT = (ABANDONED, "interrupted", HELD)


def now() -> datetime:
    # Naive UTC: the one timestamp type DuckDB and PostgreSQL both take without a zone.
    return datetime.now(UTC).replace(tzinfo=None)


class LockHeld(RuntimeError):
    """Another run holds the lock; this one must not send anything."""


# signal_state columns of a Salesforce id and the hash of what was sent, per kind of record.
STATE_COLUMNS_BY_KIND: dict[str, tuple[str, str]] = {
    SIGNAL: ("sf_signal_id", "signal_hash"),
    OPPORTUNITY: ("sf_opportunity_id", "opportunity_hash"),
    TASK: ("sf_task_id", "task_hash"),
}


# signal_state's columns the mart's rows set (Ledger.observe), in its order
OBSERVED_COLUMNS = ("status", "last_seen", "owner_email", "account_name", "account_id",
                    "play_id", "product", "episode_start", "sla_due", "backlog", "motion",
                    "held_until")


class Ledger:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seq = 0
        # Salesforce results acknowledged but not yet written (see acknowledge).
        self._waiting_states: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        self._waiting_ops: list[Operation] = []

    def ensure_schema(self) -> None:
        for statement in DDL:
            for attempt in range(3):
                try:
                    self.db.execute(statement)
                    break
                except Exception:
                    # Two runs starting together may race on "create ... if not exists";
                    # the loser finds the object there on the next try.
                    if attempt == 2:
                        raise
                    time.sleep(0.2)

    # --- lock ----------------------------------------------------------------------------

    @staticmethod
    def holder() -> str:
        return f"{socket.gethostname()}:{os.getpid()}"

    def acquire_lock(self, run_id: str, timeout_minutes: int) -> None:
        """Take the lock, or take over one whose run is dead; LockHeld otherwise.

        Once the lock is ours no other run can be under way, so every other run
        still `running` in the run log died before finishing: it is closed as
        `abandoned`, the one whose lock was taken over saying so in its error.
        """
        try:
            self.db.execute(
                f"insert into {SCHEMA}.run_lock values (?, ?, ?, ?)",
                [LOCK_NAME, run_id, self.holder(), now()],
            )
        except Exception:  # each driver names its key violation differently; look at the row
            pass
        else:
            self._abandon_other_runs(run_id)
            return
        found = self.db.execute(
            f"select run_id, holder, acquired_at from {SCHEMA}.run_lock where name = ?",
            [LOCK_NAME],
        )
        if not found:
            return self.acquire_lock(run_id, timeout_minutes)
        other_run, holder, acquired_at = found[0]
        why_dead = self._why_dead(holder, acquired_at, timeout_minutes)
        if why_dead is None:
            raise LockHeld(
                f"another sync run ({other_run}, {holder}) has held the lock since "
                f"{acquired_at:%Y-%m-%d %H:%M} UTC"
            )
        taken = self.db.execute(
            f"update {SCHEMA}.run_lock set run_id = ?, holder = ?, acquired_at = ? "
            f"where name = ? and run_id = ? returning run_id",
            [run_id, self.holder(), now(), LOCK_NAME, other_run],
        )
        if not taken:
            raise LockHeld("another sync run took the lock at the same moment")
        self._abandon_other_runs(
            run_id, other_run, f"its lock was taken over by run {run_id}: {why_dead}"
        )

    def _why_dead(self, holder: str, acquired_at: datetime, timeout_minutes: int) -> str | None:
        """Why the lock's holder is taken for dead, or None while it may be alive."""
        if now() - acquired_at > timedelta(minutes=timeout_minutes):
            return f"the lock was older than {timeout_minutes} minutes"
        host, _, pid = str(holder).rpartition(":")
        if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
            return None  # another machine, or this very process: assume alive
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return f"its process {holder} was gone"
        except PermissionError:
            return None
        return None

    def _abandon_other_runs(
        self, run_id: str, taken_over: str | None = None, why: str | None = None
    ) -> None:
        stamp = now()
        if taken_over is not None:
            self.db.execute(
                f"update {SCHEMA}.runs set status = ?, finished_at = ?, error = ? "
                "where run_id = ? and status = 'running'",
                [ABANDONED, stamp, why, taken_over],
            )
        self.db.execute(
            f"update {SCHEMA}.runs set status = ?, finished_at = ?, error = ? "
            "where status = 'running' and run_id <> ?",
            [ABANDONED, stamp, f"still running when run {run_id} took the lock: "
             "its process died before it finished", run_id],
        )

    def release_lock(self, run_id: str) -> None:
        self.db.execute(
            f"delete from {SCHEMA}.run_lock where name = ? and run_id = ?", [LOCK_NAME, run_id]
        )

    # --- runs and operations -------------------------------------------------------------

    def start_run(self, run_id: str, mode: str, as_of: date | None) -> None:
        self.db.execute(
            f"insert into {SCHEMA}.runs (run_id, mode, status, as_of, started_at) "
            "values (?, ?, 'running', ?, ?)",
            [run_id, mode, as_of, now()],
        )

    def set_run_as_of(self, run_id: str, as_of: date) -> None:
        self.db.execute(f"update {SCHEMA}.runs set as_of = ? where run_id = ?", [as_of, run_id])

    def finish_run(
        self, run_id: str, status: str, counts: dict[str, int], error: str | None = None,
        new_opportunities: int = 0,
    ) -> None:
        self.db.execute(
            f"update {SCHEMA}.runs set status = ?, finished_at = ?, counts = ?, error = ?, "
            "new_opportunities = ? where run_id = ?",
            [status, now(), json.dumps(counts, sort_keys=True), error, new_opportunities,
             run_id],
        )

    def recent_new_opportunities(self, run_id: str, runs: int = 10) -> list[int]:
        """New Opportunities created by each of the last `runs` successful apply runs (ok or
        partial), newest first; the volume guard's history."""
        found = self.db.execute(
            f"select coalesce(new_opportunities, 0) from {SCHEMA}.runs where mode = 'apply' "
            "and status in ('ok', 'partial') and run_id <> ? and finished_at is not null "
            f"order by started_at desc limit {int(runs)}",
            [run_id],
        )
        return [int(n) for (n,) in found]

    def previous_run(self, run_id: str, mode: str = "apply") -> RunRecord | None:
        """The latest finished run of a mode before this one (for the ops-channel streak).

        Abandoned runs (their process died) and interrupted ones are skipped: they
        ended without saying whether the sync works, and are not failures. So
        failed, abandoned, ok still posts "works again", and failed, abandoned,
        failed stays one failing streak with one notice.
        """
        marks = ", ".join(["?"] * len(NO_VERDICT))
        found = self.db.execute(
            f"select run_id, mode, status, error from {SCHEMA}.runs where mode = ? "
            f"and run_id <> ? and finished_at is not null and status not in ({marks}) "
            "order by started_at desc limit 1",
            [mode, run_id, *NO_VERDICT],
        )
        return RunRecord(*found[0]) if found else None

    def runs(self) -> list[RunRecord]:
        rows = self.db.execute(
            f"select run_id, mode, status, error from {SCHEMA}.runs order by started_at"
        )
        return [RunRecord(*r) for r in rows]

    def log(self, run_id: str, operations: Iterable[Operation]) -> None:
        rows = []
        at = now()
        for op in operations:
            self._seq += 1
            rows.append(
                (run_id, self._seq, at, op.destination, op.action, op.signal_id, op.owner,
                 op.outcome, op.remote_id, op.error_code, op.error_message, op.detail)
            )
        self.db.insert_rows(f"insert into {SCHEMA}.operations", rows)

    def operations(self, run_id: str | None = None) -> list[Operation]:
        where, params = ("where run_id = ?", [run_id]) if run_id else ("", [])
        rows = self.db.execute(
            f"select destination, action, signal_id, outcome, owner, remote_id, error_code, "
            f"error_message, detail from {SCHEMA}.operations {where} order by run_id, seq",
            params,
        )
        return [Operation(*r) for r in rows]

    # --- signal state --------------------------------------------------------------------

    def deliveries(self) -> list[tuple[Any, ...]]:
        """signal_state's DELIVERY_COLUMNS, every row."""
        return self.db.execute(f"select {DELIVERY_NAMES} from {SCHEMA}.signal_state")

    def load_states(self) -> dict[str, SignalState]:
        rows = self.db.execute(f"select {', '.join(STATE_COLUMNS)} from {SCHEMA}.signal_state")
        states = {}
        for values in rows:
            data = dict(zip(STATE_COLUMNS, values, strict=True))
            states[data["signal_id"]] = SignalState(**data)
        return states

    def update_states(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Upsert some columns of signal_state; each row is (signal_id, *values of columns)."""
        if not rows:
            return
        names = ["signal_id", *columns, "updated_at"]
        stamp = now()
        stamped = [(*row, stamp) for row in rows]
        if self.db.dialect == "duckdb":
            self._update_then_insert(names, stamped)
            return
        updates = ", ".join(f"{c} = excluded.{c}" for c in names[1:])
        self.db.insert_rows(
            f"insert into {SCHEMA}.signal_state ({', '.join(names)})",
            stamped,
            f"on conflict (signal_id) do update set {updates}",
        )

    def _update_then_insert(self, names: list[str], rows: Sequence[Sequence[Any]]) -> None:
        # On DuckDB, INSERT ... ON CONFLICT DO UPDATE costs several times an UPDATE ...
        # FROM (VALUES ...) plus an insert of the rows not there yet.
        table = f"{SCHEMA}.signal_state"
        sets = ", ".join(f"{c} = v.{c}" for c in names[1:])
        as_values = f"as v({', '.join(names)})"
        with self.db.transaction():
            self.db.insert_rows(f"update {table} set {sets} from (", rows,
                                f") {as_values} where {table}.signal_id = v.signal_id")
            self.db.insert_rows(
                f"insert into {table} ({', '.join(names)}) select * from (", rows,
                f") {as_values} where not exists (select 1 from {table} as s "
                "where s.signal_id = v.signal_id)",
            )

    def observe(
        self, rows: Sequence[SignalRow], known: dict[str, SignalState],
        backlog: dict[str, str | None] | None = None,
        held: dict[str, date | None] | None = None,
    ) -> None:
        """The mart showed these signals today: when, who they belong to, their key and start,
        and what the planner decided on first delivery (rows carry the resolved SLA date),
        including a hold for a renewal."""
        backlog = backlog or {}
        held = held or {}
        seen = [
            (r.signal_id, known[r.signal_id].status if r.signal_id in known else OPEN,
             r.as_of, r.owner_email, r.account_name, r.account_id, r.play_id, r.product,
             r.episode_start, r.sla_due_on, backlog.get(r.signal_id), r.motion,
             held.get(r.signal_id))
            for r in rows
        ]
        # Only what moved: a rerun on the same day writes nothing.
        self.update_states(OBSERVED_COLUMNS, [
            row for row in seen
            if row[0] not in known
            or row[1:] != tuple(getattr(known[row[0]], c) for c in OBSERVED_COLUMNS)
        ])

    def signal_keys(self, signal_ids: Iterable[str]) -> dict[str, tuple[str | None, ...]]:
        """(account_id, play_id, motion) of each of these signals the ledger knows."""
        wanted = sorted(set(signal_ids))
        found: dict[str, tuple[str | None, ...]] = {}
        if self.db.dialect == "duckdb" and wanted:  # one list parameter binds fastest there
            rows = self.db.execute(
                f"select signal_id, account_id, play_id, motion from {SCHEMA}.signal_state "
                "where signal_id in (select unnest(?))", [wanted])
            return {str(r[0]): tuple(r[1:]) for r in rows}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = self.db.execute(
                f"select signal_id, account_id, play_id, motion from {SCHEMA}.signal_state "
                f"where signal_id in ({', '.join(['?'] * len(part))})",
                part,
            )
            found.update((str(r[0]), tuple(r[1:])) for r in rows)
        return found

    # --- Salesforce results --------------------------------------------------------------

    def acknowledge(
        self, kind: str, results: Sequence[RecordResult], owner_of: Callable[[str], str | None]
    ) -> list[Operation]:
        """Keep what Salesforce answered for one batch; `flush_acknowledged` writes it.

        Batching these writes keeps the ledger from costing more than the API calls. A
        success records the Salesforce id and the hash of what was sent (a resolution also
        the status); a failure records its error, retried on the next run.
        """
        id_column, hash_column = STATE_COLUMNS_BY_KIND[kind]
        ops: list[Operation] = []
        for r in results:
            signal_id = r.write.signal_id
            if r.ok and kind == SIGNAL:
                status = RESOLVED if r.write.reason == "resolve" else OPEN
                self._waiting_states[(id_column, hash_column, "status", "sf_error")].append(
                    (signal_id, r.remote_id, r.write.hash if r.complete else None, status, None))
            elif r.ok:
                self._waiting_states[(id_column, hash_column, "sf_error")].append(
                    (signal_id, r.remote_id, r.write.hash, None))
            else:
                self._waiting_states[("sf_error",)].append(
                    (signal_id, f"{kind}: {r.error_code}: {r.error_message}"[:500]))
            ops.append(Operation(
                "salesforce", f"upsert.{kind}", signal_id, "ok" if r.ok else "failed",
                owner_of(signal_id), r.remote_id, r.error_code,
                (r.error_message or "")[:500] or None, r.write.reason))
        self._waiting_ops += ops
        return ops

    @property
    def acknowledged_waiting(self) -> int:
        return len(self._waiting_ops)

    def flush_acknowledged(self, run_id: str) -> bool:
        """Write the acknowledged results and their log rows in one transaction."""
        if not self._waiting_ops:
            return False
        with self.db.transaction():
            # Errors first, so a later success for the same signal clears its error.
            for columns in sorted(self._waiting_states, key=len):
                latest = {row[0]: row for row in self._waiting_states[columns]}
                self.update_states(columns, list(latest.values()))
            self.log(run_id, self._waiting_ops)
        self._waiting_states.clear()
        self._waiting_ops.clear()
        return True

    def mark_resolved_locally(self, signal_ids: Sequence[str]) -> None:
        self.update_states(("status",), [(s, RESOLVED) for s in signal_ids])

    # --- Slack intents -------------------------------------------------------------------

    def record_intent(self, intent: Intent) -> None:
        self.db.execute(
            f"delete from {SCHEMA}.slack_intents where notice_id = ?", [intent.notice_id]
        )
        self.db.execute(
            f"insert into {SCHEMA}.slack_intents (notice_id, run_id, kind, channel, thread_ts, "
            "signal_ids, urgency, posted_after, recorded_at, recipient) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [intent.notice_id, intent.run_id, intent.kind, intent.channel, intent.thread_ts,
             json.dumps(list(intent.signal_ids)), intent.urgency, intent.posted_after, now(),
             intent.recipient],
        )

    def pending_intents(self) -> list[Intent]:
        rows = self.db.execute(
            f"select notice_id, run_id, kind, channel, thread_ts, signal_ids, urgency, "
            f"posted_after, recipient from {SCHEMA}.slack_intents order by recorded_at"
        )
        return [
            Intent(n, r, k, c, t, tuple(json.loads(ids)), u, p, who)
            for n, r, k, c, t, ids, u, p, who in rows
        ]

    # --- the org and the workspace ------------------------------------------------------

    def bindings(self) -> dict[str, tuple[str, str]]:
        rows = self.db.execute(f"select destination, remote_id, name from {SCHEMA}.binding")
        return {str(d): (str(r), str(n or "")) for d, r, n in rows}

    def bind(self, identities: Sequence[Identity], rebind: Iterable[str] = ()) -> list[str]:
        """Check the credentials' org and workspace against the state's, then record them.

        Raises BindingMismatch, before any change, when one differs and is not in `rebind`.
        Returns a sentence per binding made or moved. Moving forgets what the state held in
        the old org or workspace for every open signal, so each is new in the new one."""
        moving = set(rebind)
        known = self.bindings()
        for identity in identities:
            bound = known.get(identity.destination)
            if bound and bound[0] != identity.remote_id and identity.destination not in moving:
                raise BindingMismatch(mismatch_message(identity, bound))
        said: list[str] = []
        with self.db.transaction():
            for identity in identities:
                bound = known.get(identity.destination)
                if bound and bound[0] == identity.remote_id:
                    continue
                self.db.execute(f"delete from {SCHEMA}.binding where destination = ?",
                                [identity.destination])
                self.db.execute(
                    f"insert into {SCHEMA}.binding (destination, remote_id, name, bound_at) "
                    "values (?, ?, ?, ?)",
                    [identity.destination, identity.remote_id, identity.name, now()])
                if bound is None:
                    said.append(f"bound to {WHAT[identity.destination]} {identity.remote_id}")
                    continue
                self._forget(identity.destination)
                said.append(f"moved from {WHAT[identity.destination]} {bound[0]} to "
                            f"{identity.remote_id}: every open signal is new there")
        return said

    def _forget(self, destination: str) -> None:
        """What the open signals had in the org or workspace the sync moves away from."""
        if destination == SALESFORCE:
            columns = ("sf_signal_id", "sf_opportunity_id", "sf_task_id", "signal_hash",
                       "opportunity_hash", "task_hash", "sf_error")
        else:
            columns = ("slack_channel", "slack_ts", "slack_urgency", "slack_error")
            for table in ("slack_intents", "slack_recipients", "informed"):
                self.db.execute(f"delete from {SCHEMA}.{table}")
        sets = ", ".join(f"{c} = null" for c in columns)
        self.db.execute(f"update {SCHEMA}.signal_state set {sets} where status = ?", [OPEN])

    def mark_informed(
        self, signal_ids: Sequence[str], recipient: str, notice_id: str,
        channel: str | None, ts: str | None,
    ) -> None:
        """The informed person was told of these signals (or cannot be: no Slack user)."""
        person = recipient.strip().lower()
        with self.db.transaction():
            for start in range(0, len(signal_ids), 500):
                part = list(signal_ids[start : start + 500])
                self.db.execute(
                    f"delete from {SCHEMA}.informed where recipient = ? and signal_id in "
                    f"({', '.join(['?'] * len(part))})", [person, *part])
            self.db.insert_rows(
                f"insert into {SCHEMA}.informed (signal_id, recipient, notice_id, channel, ts, "
                "informed_at)",
                [(s, person, notice_id, channel, ts, now()) for s in signal_ids])

    def informed_pairs(self) -> set[tuple[str, str]]:
        """(signal_id, lower-case email) of every informed person told (or not reachable)."""
        rows = self.db.execute(f"select signal_id, recipient from {SCHEMA}.informed")
        return {(str(s), str(r)) for s, r in rows}

    def clear_intent(self, notice_id: str) -> None:
        self.db.execute(f"delete from {SCHEMA}.slack_intents where notice_id = ?", [notice_id])

    def commit_notice(
        self, intent: Intent, ts: str, urgencies: dict[str, str | None]
    ) -> None:
        """The message is in Slack: remember where for each signal it covers; drop the intent."""
        with self.db.transaction():
            if intent.kind == "informed":
                self.mark_informed(intent.signal_ids, intent.recipient or "", intent.notice_id,
                                   intent.channel, ts)
            elif intent.kind == "escalation":
                self.update_states(
                    ("slack_urgency", "slack_error"),
                    [(s, intent.urgency, None) for s in intent.signal_ids],
                )
            else:
                self.update_states(
                    ("slack_channel", "slack_ts", "slack_urgency", "slack_error"),
                    [(s, intent.channel, ts, urgencies.get(s), None) for s in intent.signal_ids],
                )
            self.clear_intent(intent.notice_id)


# --- Slack recipients --------------------------------------------------------------------


@dataclass(frozen=True)
class SlackRecipient:
    user_id: str | None  # None: no Slack user has this email; the fallback channel is used
    channel_id: str | None  # the direct-message channel with user_id


class SlackRecipients:
    """Owner email -> Slack user and direct-message channel, remembered between runs.

    Entries looked up more than `max_age_days` ago are not used, so a changed
    or new Slack account is found within that time; 0 remembers only within
    one run. Read once per run, on first use (after Ledger.ensure_schema). The
    sync lock makes the run the only writer, so no transaction is needed.
    """

    def __init__(self, db: Database, max_age_days: int) -> None:
        self.db = db
        self.max_age = timedelta(days=max_age_days)
        self._known: dict[str, SlackRecipient] | None = None

    @staticmethod
    def _key(email: str) -> str:
        return email.strip().lower()

    def _entries(self) -> dict[str, SlackRecipient]:
        if self._known is None:
            rows = self.db.execute(
                f"select owner_email, user_id, channel_id from {SCHEMA}.slack_recipients "
                "where looked_up_at > ?",
                [now() - self.max_age],
            )
            self._known = {str(e): SlackRecipient(u, c) for e, u, c in rows}
        return self._known

    def get(self, email: str) -> SlackRecipient | None:
        """The remembered recipient, or None when never looked up or expired."""
        return self._entries().get(self._key(email))

    def remember(self, email: str, recipient: SlackRecipient) -> None:
        key = self._key(email)
        self.db.execute(f"delete from {SCHEMA}.slack_recipients where owner_email = ?", [key])
        self.db.execute(
            f"insert into {SCHEMA}.slack_recipients values (?, ?, ?, ?)",
            [key, recipient.user_id, recipient.channel_id, now()],
        )
        self._entries()[key] = recipient

    def forget(self, email: str) -> None:
        key = self._key(email)
        self.db.execute(f"delete from {SCHEMA}.slack_recipients where owner_email = ?", [key])
        self._entries().pop(key, None)
