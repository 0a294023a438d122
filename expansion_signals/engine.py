"""One sync run: lock, read the mart, reconcile, plan, apply, commit, log.

The order matters for exactly-once delivery:
1. the lock, so an overlapping run cannot send too;
2. Slack intents left by a run that died are settled against the channels
   (found: committed; not found: forgotten, so the planner sends again);
3. the plan, from the mart and the committed state only; a plan that would
   create too many Opportunities is held here (the volume guard), with no write;
4. Salesforce: opportunities, then signals (which point at them), then tasks
   (which point at either); each acknowledged batch is committed before the
   next is sent;
5. Slack: intent recorded, message posted, ts committed, intent removed;
6. the read-back: the Opportunities the sync opened that changed since the
   last read, into the warehouse (readback.py), the watermark moved with them.
`checkpoint(name)` is called between these steps; tests use it to stop a run
at every step and check that the next run neither duplicates nor loses.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from slack_sdk import WebClient

from expansion_signals import exit_codes
from expansion_signals.binding import BindingMismatch, Identity
from expansion_signals.config import SyncSettings
from expansion_signals.connections import SalesforceConnection
from expansion_signals.errors import SyncAborted, describe
from expansion_signals.ledger import (
    DELIVERY_COLUMNS,
    SCHEMA,
    Ledger,
    LockHeld,
    SlackRecipients,
    now,
)
from expansion_signals.mapping import Mapping
from expansion_signals.plan import (
    Plan,
    PlanSettings,
    adopt_open_signals,
    plan_sync,
    volume_check,
)
from expansion_signals.readback import (
    TABLE_NAME,
    ReadBack,
    ReadbackTable,
    fetch,
    signal_ids,
    to_rows,
)
from expansion_signals.salesforce_writer import (
    RecordResult,
    SalesforceWriter,
    known_ids_from_states,
)
from expansion_signals.slack_messages import Message, notice_message, ops_message
from expansion_signals.slack_writer import SlackWriter, may_have_posted, posted_after_now
from expansion_signals.types import (
    OPPORTUNITY,
    SIGNAL,
    TASK,
    Intent,
    Notice,
    Operation,
    Owner,
    Play,
    RecordKind,
    RecordWrite,
    SignalRow,
    SignalState,
)
from expansion_signals.warehouse import Database, SparkDatabase, read_snapshot

Checkpoint = Callable[[str], None]
FLUSH_ROWS = 2000  # acknowledged Salesforce results kept in memory before a ledger write
OK, PARTIAL, FAILED, PREVIEW, LOCKED, HELD, UNBOUND = (
    "ok", "partial", "failed", "preview", "locked", "held", "unbound")


@dataclass
class RunResult:
    run_id: str
    mode: str  # apply | preview
    # ok | partial | failed | preview | locked | held (the volume guard) | unbound (another
    # org or workspace than the state's; nothing was done)
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    plan: Plan | None = None
    error: str | None = None
    failures: list[Operation] = field(default_factory=list)
    readback: ReadBack | None = None  # None: the run read nothing back (preview, held, failed)
    bound: list[str] = field(default_factory=list)  # bindings this run made or moved

    @property
    def exit_code(self) -> int:
        return exit_codes.BY_STATUS[self.status]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def plan_settings(
    settings: SyncSettings, mapping: Mapping, cooldown_days: int, default_sla_days: int = 14
) -> PlanSettings:
    """The planner's settings: the run's, the mapping file's, and the models' cooldown and
    default SLA."""
    opportunity = mapping.opportunity_defaults  # typed and checked when the file was loaded
    return PlanSettings(
        cooldown_days=cooldown_days,
        digest_threshold=settings.digest_threshold,
        opportunity_type=opportunity.type,
        opportunity_stage=opportunity.stage,
        close_after_days=opportunity.close_after_days,
        task_status=mapping.task_defaults.status,
        default_sla_days=default_sla_days,
        backlog_days=settings.backlog_days,
        backlog_per_owner=settings.backlog_per_owner,
    )


class SyncRun:
    def __init__(
        self,
        db: Database,
        settings: SyncSettings,
        mapping: Mapping,
        salesforce: SalesforceConnection | None = None,
        slack: WebClient | None = None,
        *,
        dry_run: bool = False,
        as_of: date | None = None,
        checkpoint: Checkpoint | None = None,
        accept_volume: bool = False,
        identities: Sequence[Identity] = (),
        rebind: Iterable[str] = (),
    ) -> None:
        self.db = db
        # The org and workspace the credentials point at (binding.py), and the ones the
        # user said to move the state to.
        self.identities = list(identities)
        self.rebind = set(rebind)
        self.bound: list[str] = []
        self.ledger = Ledger(db.ledger_db)
        self.settings = settings
        self.mapping = mapping
        self.preview = dry_run or (salesforce is None and slack is None)
        self.sf = None if self.preview or salesforce is None else SalesforceWriter(
            salesforce, mapping, settings.retry, settings.bulk_threshold,
            settings.bulk_poll_seconds, settings.parallel_calls,
        )
        self.salesforce = salesforce
        self.slack = None if self.preview or slack is None else SlackWriter(
            slack, mapping.slack_event_type, settings.retry,
            settings.slack.fallback_channel, settings.slack.ops_channel,
            recipients=SlackRecipients(db.ledger_db, settings.slack_lookup_days),
        )
        self.as_of = as_of
        self.checkpoint = checkpoint or (lambda name: None)
        self.run_id = new_run_id()
        self.counts: dict[str, int] = {}
        self.failures: list[Operation] = []
        self.accept_volume = accept_volume  # --accept-volume: the guard lets this run through
        self.held: str | None = None  # why the volume guard held the run
        self.new_opportunities = 0  # Opportunities Salesforce acknowledged as created
        self.readback: ReadBack | None = None

    @property
    def mode(self) -> str:
        return "preview" if self.preview else "apply"

    # --- the run -------------------------------------------------------------------------

    def run(self) -> RunResult:
        self.ledger.ensure_schema()
        try:
            self.ledger.acquire_lock(self.run_id, self.settings.lock_timeout_minutes)
        except LockHeld as held:
            return RunResult(self.run_id, self.mode, LOCKED, error=str(held))
        if not self.preview and self.identities:
            try:
                self.bound = self.ledger.bind(self.identities, self.rebind)
            except BindingMismatch as mismatch:
                self.ledger.release_lock(self.run_id)
                return RunResult(self.run_id, self.mode, UNBOUND, error=str(mismatch))
        plan: Plan | None = None
        try:
            self.ledger.start_run(self.run_id, self.mode, self.as_of)
            plan = self._run()
            self._publish()
            status = PREVIEW if self.preview else (
                HELD if self.held else PARTIAL if self.failures else OK)
            self.checkpoint("run.finishing")
            self.ledger.finish_run(self.run_id, status, self.counts, self.held,
                                   self.new_opportunities)
            result = RunResult(self.run_id, self.mode, status, self.counts, plan, self.held,
                               self.failures, self.readback, self.bound)
        except Exception as error:
            self._flush()  # what was acknowledged before the failure stays committed
            code, message = describe(error)
            text = str(error) if isinstance(error, SyncAborted) else f"{code}: {message}"
            self.ledger.finish_run(self.run_id, FAILED, self.counts, text,
                                   self.new_opportunities)
            result = RunResult(self.run_id, self.mode, FAILED, self.counts, plan, text,
                               self.failures, self.readback, self.bound)
        except BaseException:
            self.ledger.finish_run(self.run_id, "interrupted", self.counts, "interrupted")
            raise
        finally:
            self.ledger.release_lock(self.run_id)
        self._ops_notice(result)
        return result

    def _run(self) -> Plan:
        snapshot = read_snapshot(self.db)
        as_of = self.as_of or snapshot.settings.as_of
        cooldown_days = snapshot.settings.cooldown_days
        self.ledger.set_run_as_of(self.run_id, as_of)
        states = self.ledger.load_states()
        rows = self._adopt(snapshot.rows, states, as_of, cooldown_days)
        blocked: set[str] = set()
        if self.slack and self._settle_intents(rows, blocked):
            states = self.ledger.load_states()  # settled intents changed what Slack holds
        plan = plan_sync(rows, snapshot.plays, states, as_of,
                         plan_settings(self.settings, self.mapping, cooldown_days,
                                       snapshot.settings.default_sla_days),
                         self.ledger.informed_pairs())
        self.checkpoint("planned")
        if self.preview:
            self._log_planned(plan, plan.writes, plan.notices)
            self.counts = {f"planned.{k}": v for k, v in plan.counts().items()}
            return plan
        if self._volume_held(plan):
            return plan
        # Rows of the plan carry the SLA date resolved on first delivery; the ledger keeps it.
        self.ledger.observe(list(plan.rows.values()), states, plan.backlog, plan.held)
        known = known_ids_from_states(states.values())
        if self.sf:
            self._apply_salesforce(plan, known)
        else:
            self._log_planned(plan, plan.writes, [])
        if plan.resolved_locally:
            self.ledger.mark_resolved_locally(plan.resolved_locally)
            self._count("signal.resolved_locally", len(plan.resolved_locally))
        if self.slack:
            self._apply_slack(plan, known, blocked)
        else:
            self._log_planned(plan, [], plan.notices)
        if self.sf:
            self._read_back(snapshot.plays)
        return plan

    def _volume_held(self, plan: Plan) -> bool:
        """The volume guard: a plan creating too many Opportunities writes nothing (not even
        the signals' state), logs what it would have done, and is held for a person to look
        at the mart; --accept-volume lets one run through."""
        if self.sf is None or self.accept_volume:
            return False
        reason = volume_check(plan.new_opportunities,
                              self.ledger.recent_new_opportunities(self.run_id),
                              self.settings.max_new_opportunities)
        if reason is None:
            return False
        self.held = f"held by the volume guard: {reason}; nothing was written"
        self._log_planned(plan, plan.writes, plan.notices if self.slack else [])
        self.counts = {f"held.{k}": v for k, v in plan.counts().items()}
        return True

    def _adopt(
        self, rows: list[SignalRow], states: dict[str, SignalState], as_of: date,
        cooldown_days: int,
    ) -> list[SignalRow]:
        """Mart rows that are signals the destinations know under another id (plan.py)."""
        rows, adopted = adopt_open_signals(rows, states, as_of, cooldown_days)
        if adopted:
            self.ledger.log(self.run_id, [
                Operation("ledger", "adopt.signal", known, "ok", detail=f"mart signal_id {new}")
                for new, known in sorted(adopted.items())
            ])
            self._count("signal.adopted", len(adopted))
        return rows

    def _count(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def _owner(self, plan: Plan, signal_id: str) -> str | None:
        row = plan.rows.get(signal_id)
        return row.owner_email if row else None

    def _log_planned(self, plan: Plan, writes: list[RecordWrite], notices: list[Notice]) -> None:
        ops = [
            Operation("salesforce", f"upsert.{w.kind}", w.signal_id, "planned",
                      self._owner(plan, w.signal_id), detail=w.reason)
            for w in writes
        ]
        ops += [
            Operation("slack", f"message.{n.kind}", s, "planned", n.owner_email,
                      detail=n.notice_id)
            for n in notices for s in n.signal_ids
        ]
        self.ledger.log(self.run_id, ops)
        for op in ops:
            self._count(f"planned.{op.action}")

    # --- Salesforce ----------------------------------------------------------------------

    def _apply_salesforce(self, plan: Plan, known: dict[tuple[str, str], str]) -> None:
        assert self.sf is not None
        # Every owner of the run in as few queries as possible; prepare() then hits the cache.
        self.sf.owner_ids(
            v.email for w in plan.writes for v in w.fields.values() if isinstance(v, Owner)
        )
        for kind in (OPPORTUNITY, SIGNAL, TASK):
            writes = plan.writes_of(kind)
            if not writes:
                continue
            outgoing, deferred = self.sf.prepare(writes, known)
            if deferred:
                self.ledger.log(self.run_id, [
                    Operation("salesforce", f"upsert.{kind}", w.signal_id, "deferred",
                              self._owner(plan, w.signal_id),
                              detail="the record it points at is not in Salesforce yet")
                    for w in deferred
                ])
                self._count(f"salesforce.{kind}.deferred", len(deferred))
            self.sf.upsert(kind, outgoing,
                           lambda results, k=kind: self._commit_records(plan, k, results, known))
        self._flush()

    def _commit_records(
        self,
        plan: Plan,
        kind: RecordKind,
        results: list[RecordResult],
        known: dict[tuple[str, str], str],
    ) -> None:
        """Keep what Salesforce acknowledged (the ledger writes it in batches, see _flush)."""
        self.checkpoint(f"salesforce.{kind}.acked")
        ops = self.ledger.acknowledge(kind, results, lambda s: self._owner(plan, s))
        for r in results:
            if r.ok and r.remote_id:
                known[(kind, r.write.signal_id)] = r.remote_id
        self.failures += [op for op in ops if op.outcome == "failed"]
        done = [r for r in results if r.ok]
        resolved = sum(1 for r in done if r.write.reason == "resolve")
        if kind == OPPORTUNITY:
            self.new_opportunities += sum(1 for r in done if r.write.full)
        self._count(f"salesforce.{kind}.upserted", len(done) - resolved)
        self._count(f"salesforce.{kind}.resolved", resolved)
        self._count(f"salesforce.{kind}.failed", len(results) - len(done))
        if self.ledger.acknowledged_waiting >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        """What was acknowledged goes into the ledger (a crash loses only what is then
        upserted again, by external id, with no duplicate)."""
        if self.ledger.flush_acknowledged(self.run_id):
            self.checkpoint("salesforce.committed")

    # --- the read-back -------------------------------------------------------------------

    def _publish(self) -> None:
        """Where the ledger is not in the warehouse (Spark), copy what the models read of it
        into the warehouse, whole: which signals were delivered with their SLA dates, and the
        Opportunities read back. A copy a crash cut short is redone by the next run."""
        if self.preview or not isinstance(self.db, SparkDatabase):
            return
        self.db.replace_table(f"{SCHEMA}.signal_state", DELIVERY_COLUMNS,
                              self.ledger.deliveries())
        if self.ledger.db.table_exists(SCHEMA, TABLE_NAME):
            ReadbackTable(self.ledger.db).publish(self.db)

    def _read_back(self, plays: dict[str, Play]) -> None:
        """The Opportunities the sync opened, as they stand in Salesforce, into the warehouse.

        A query that fails for good is one failed operation (the run is partial) and
        moves nothing: the next run reads from the same watermark. A fatal error
        (auth, the daily allocation) fails the run, as it does for the writes.
        """
        assert self.sf is not None and self.salesforce is not None
        table = ReadbackTable(self.db.ledger_db)
        since = table.watermark()
        table.ensure()
        try:
            records = fetch(self.salesforce, self.mapping, self.settings.retry, since)
        except Exception as error:
            self.sf.abort_if_fatal(error)
            code, message = describe(error)
            op = Operation("salesforce", "readback.opportunity", None, "failed",
                           error_code=code, error_message=message[:500],
                           detail="read again from the same watermark on the next run")
            self.ledger.log(self.run_id, [op])
            self.failures.append(op)
            self._count("readback.failed")
            return
        self.checkpoint("readback.fetched")
        rows, skipped, through = to_rows(
            records, self.mapping, self.ledger.signal_keys(signal_ids(records, self.mapping)),
            plays, now(), since)
        stored = table.store(self.run_id, rows, since, through)
        self.ledger.log(self.run_id, [
            Operation("salesforce", "readback.opportunity", row.expansion_signal_id, "ok",
                      remote_id=row.opportunity_id, detail=row.stage_name) for row in stored
        ] + [
            Operation("salesforce", "readback.opportunity", signal_id, "skipped",
                      remote_id=opportunity_id, detail="the ledger does not know this signal")
            for opportunity_id, signal_id in skipped
        ])
        self.readback = ReadBack(len(stored), sum(1 for r in stored if r.is_won), len(skipped))
        self._count("readback.opportunities", self.readback.read)
        self._count("readback.won", self.readback.won)
        self._count("readback.skipped", self.readback.skipped)
        self.checkpoint("readback.stored")

    # --- Slack ---------------------------------------------------------------------------

    def _settle_intents(self, rows: list[Any], blocked: set[str]) -> bool:
        """Settle intents of a run that died; signals whose intent cannot be checked wait
        (added to `blocked`). True when there was any intent to settle."""
        assert self.slack is not None
        urgencies = {r.signal_id: r.urgency for r in rows}
        intents = self.ledger.pending_intents()
        for intent in intents:
            try:
                ts = self.slack.find_posted(intent.channel, intent.notice_id,
                                            intent.posted_after, intent.thread_ts)
            except SyncAborted:
                raise
            except Exception as error:
                code, message = describe(error)
                blocked.update(intent.signal_ids)
                self.ledger.log(self.run_id, [
                    Operation("slack", f"recover.{intent.kind}", s, "deferred",
                              error_code=code, error_message=message, detail=intent.notice_id)
                    for s in intent.signal_ids
                ])
                continue
            if ts:
                self.ledger.commit_notice(intent, ts, urgencies)
                outcome = "recovered"
                self._count(f"slack.{intent.kind}.recovered")
            else:
                self.ledger.clear_intent(intent.notice_id)
                outcome = "not_sent"
            self.ledger.log(self.run_id, [
                Operation("slack", f"recover.{intent.kind}", s, outcome, remote_id=ts,
                          detail=intent.notice_id)
                for s in intent.signal_ids
            ])
        return bool(intents)

    def _message(self, plan: Plan, notice: Notice, known: dict[tuple[str, str], str]) -> Message:
        def link(signal_id: str) -> str | None:
            remote = known.get((SIGNAL, signal_id))
            if remote is None or self.salesforce is None:
                return None
            return self.salesforce.record_url(self.mapping.signal.object, remote)

        return notice_message(notice, plan.rows, plan.plays, self.mapping.slack_event_type, link,
                              self._slack_user)

    def _slack_user(self, email: str) -> str | None:
        """The Slack user to mention for an email (the accountable owner on a handoff); None
        when there is none or the lookup fails: the message then names the email."""
        assert self.slack is not None
        try:
            return self.slack.recipient(email).user_id
        except SyncAborted:
            raise
        except Exception:
            return None

    def _apply_slack(
        self, plan: Plan, known: dict[tuple[str, str], str], blocked: set[str]
    ) -> None:
        assert self.slack is not None
        for notice in plan.notices:
            if blocked.intersection(notice.signal_ids):
                self._count(f"slack.{notice.kind}.deferred")
                continue
            self._send(plan, notice, known)

    def _send(
        self, plan: Plan, notice: Notice, known: dict[tuple[str, str], str], again: bool = False
    ) -> None:
        assert self.slack is not None
        action = ("reply." if notice.kind == "escalation" else "message.") + notice.kind
        try:
            if notice.kind == "informed":
                # Told in a direct message or not at all: never in the fallback channel.
                channel = self.slack.recipient(notice.owner_email or "").channel_id
                if channel is None:
                    self._not_informed(notice, action)
                    return
            else:
                channel = notice.thread_channel or self.slack.channel_for(notice.owner_email)
        except SyncAborted:
            raise
        except Exception as error:  # NoRecipient, or a lookup that failed for good
            self._slack_failed(notice, action, error)
            return
        intent = Intent(notice.notice_id, self.run_id, notice.kind, channel, notice.thread_ts,
                        notice.signal_ids, notice.urgency, posted_after_now(),
                        notice.owner_email if notice.kind == "informed" else None)
        self.ledger.record_intent(intent)
        self.checkpoint("slack.intent_recorded")
        try:
            posted = self.slack.post(channel, self._message(plan, notice, known),
                                     notice.notice_id, intent.posted_after, notice.thread_ts)
        except SyncAborted:
            raise
        except Exception as error:
            if not may_have_posted(error):
                self.ledger.clear_intent(notice.notice_id)  # answered: certainly not posted
                if not (again or notice.thread_channel) and self.slack.forget_gone_channel(
                        notice.owner_email, channel, error):
                    self._send(plan, notice, known, again=True)  # a remembered DM was gone
                    return
            self._slack_failed(notice, action, error)
            return
        self.checkpoint("slack.posted")
        urgencies = {s: plan.rows[s].urgency for s in notice.signal_ids}
        self.ledger.commit_notice(intent, posted.ts, urgencies)
        self.ledger.log(self.run_id, [
            Operation("slack", action, s, "recovered" if posted.recovered else "ok",
                      notice.owner_email, posted.ts, detail=notice.notice_id)
            for s in notice.signal_ids
        ])
        self._count(f"slack.{notice.kind}.sent")
        self.checkpoint("slack.committed")

    def _not_informed(self, notice: Notice, action: str) -> None:
        """An informed person with no Slack user: nothing is sent, now or on later runs."""
        self.ledger.mark_informed(notice.signal_ids, notice.owner_email or "", notice.notice_id,
                                  None, None)
        self.ledger.log(self.run_id, [
            Operation("slack", action, s, "skipped", notice.owner_email,
                      detail="no Slack user has this email")
            for s in notice.signal_ids
        ])
        self._count(f"slack.{notice.kind}.skipped")

    def _slack_failed(self, notice: Notice, action: str, error: BaseException) -> None:
        code, message = describe(error)
        if notice.kind != "informed":  # the signal's own message is not what failed
            self.ledger.update_states(
                ("slack_error",), [(s, f"{code}: {message}"[:500]) for s in notice.signal_ids]
            )
        ops = [
            Operation("slack", action, s, "failed", notice.owner_email, error_code=code,
                      error_message=message[:500], detail=notice.notice_id)
            for s in notice.signal_ids
        ]
        self.ledger.log(self.run_id, ops)
        self.failures += ops
        self._count(f"slack.{notice.kind}.failed")

    # --- operations channel --------------------------------------------------------------

    def _ops_notice(self, result: RunResult) -> None:
        """One notice when runs start failing, one when they work again; none in between."""
        if self.slack is None:
            return
        if result.status == HELD:
            self._held_notice(result)
            return
        if not self.slack.ops_channel:
            return
        previous = self.ledger.previous_run(self.run_id)
        previous_failed = previous is not None and previous.status == FAILED
        if result.status == FAILED and not previous_failed:
            sentence = f"Expansion sync run {result.run_id} failed: {result.error}"
        elif result.status in (OK, PARTIAL) and previous_failed:
            sentence = (f"Expansion sync works again: run {result.run_id} finished "
                        f"({result.status}) after failed runs.")
        else:
            return
        self.slack.post_ops(ops_message(sentence))

    def _held_notice(self, result: RunResult) -> None:
        """One notice per held run, to the ops channel, else the fallback channel."""
        assert self.slack is not None
        sentence = (f"Expansion sync run {result.run_id} was {result.error}. Check the "
                    "expansion_signals mart (a bad join upstream?), then run `expansion sync "
                    "--accept-volume` to let it through once.")
        if self.slack.ops_channel:
            self.slack.post_ops(ops_message(sentence))
        elif self.slack.fallback_channel:
            self.slack.post_ops(ops_message(sentence), self.slack.fallback_channel)
