"""The planner: a pure diff of the mart against the last committed state.

No I/O here. Given today's `expansion_signals` rows, the plays, and what the
ledger says each destination has acknowledged, it decides which records to
upsert (new, changed, failed before, resolved) and which Slack notices to
send (new signals, digests, urgency rises). Values that only the destination
can supply (the owner's Salesforce user, the id of an opportunity upserted a
moment earlier) stay symbolic (`Owner`, `Ref`) and are resolved when applied;
hashes are taken over these symbolic payloads, so the same mart against the
same state always plans nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from expansion_signals.talk_tracks import talk_track
from expansion_signals.types import (
    OPEN,
    OPPORTUNITY,
    RESOLVED,
    SIGNAL,
    TASK,
    URGENCY_RANK,
    Notice,
    Owner,
    Play,
    RecordKind,
    RecordWrite,
    Ref,
    SignalRow,
    SignalState,
)

NAME_LIMIT, SUBJECT_LIMIT = 120, 255


@dataclass(frozen=True)
class PlanSettings:
    """What the planner is told; the values come from the settings and the mapping file
    (engine.plan_settings), which are their one home."""

    cooldown_days: int
    digest_threshold: int
    opportunity_type: str
    opportunity_stage: str
    close_after_days: int
    task_status: str
    default_sla_days: int = 14  # a play missing from the catalog (marts.sync_settings)
    backlog_days: int = 30  # an episode older than this when first seen is backlog
    backlog_per_owner: int = 5  # backlog signals worked per owner (Opportunity, Task, mention)


@dataclass
class Plan:
    as_of: date
    rows: dict[str, SignalRow]
    plays: dict[str, Play]
    writes: list[RecordWrite] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # Left the mart past the cooldown but never reached Salesforce: nothing to write.
    resolved_locally: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Per signal in the mart: None, or its backlog mark ("top" worked, "record" record only).
    backlog: dict[str, str | None] = field(default_factory=dict)
    # Per signal in the mart: the renewal it is (or was) held for, None when never held
    # (the ledger keeps it), and the signals this run holds (recorded, nobody told yet).
    held: dict[str, date | None] = field(default_factory=dict)
    waiting: set[str] = field(default_factory=set)

    @property
    def new_opportunities(self) -> int:
        """Opportunities this plan would create (not there yet: the whole record is sent)."""
        return sum(1 for w in self.writes if w.kind == OPPORTUNITY and w.full)

    def writes_of(self, kind: RecordKind) -> list[RecordWrite]:
        return [w for w in self.writes if w.kind == kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for write in self.writes:
            out[f"{write.kind}.{write.reason}"] += 1
        for notice in self.notices:
            out[f"slack.{notice.kind}"] += 1
        if self.resolved_locally:
            out["signal.resolved_locally"] = len(self.resolved_locally)
        out["unchanged"] = self.unchanged
        return dict(sorted(out.items()))

    @property
    def empty(self) -> bool:
        return not (self.writes or self.notices or self.resolved_locally)


def _hash_value(value: Any) -> Any:
    """How payload_hash spells what JSON has no type for."""
    if isinstance(value, Owner):
        return {"owner": (value.email or "").lower()}
    if isinstance(value, Ref):
        return {"ref": [value.kind, value.signal_id]}
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"payload_hash cannot encode {type(value).__name__}")


def payload_hash(fields: dict[str, Any]) -> str:
    """What was sent, in 20 hex digits; the ledger keeps it to tell a change from a rerun."""
    text = json.dumps(fields, sort_keys=True, default=_hash_value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def opens_opportunity(row: SignalRow, play: Play | None) -> bool:
    return bool(play and play.opens_opportunity and row.crm_account_id)


def signal_fields(
    row: SignalRow, play: Play | None, *, record_only: bool = False, held: bool = False
) -> dict[str, Any]:
    """The Expansion_Signal__c record. A record-only backlog signal links no Opportunity and
    is marked Backlog; a held one shows the renewal its alert and Task wait for."""
    return {
        "account": row.crm_account_id or None,
        "play": row.play_id,
        "motion": row.motion,
        "product": row.product or None,
        "urgency": row.urgency,
        "close_path": row.close_path,
        "status": OPEN,
        "episode_start": row.episode_start,
        "sla_due": row.sla_due_on,
        "last_seen": row.as_of,
        "signal_count": row.signal_count,
        "compound": row.compound,
        "owner_email": row.owner_email or None,
        "evidence": row.evidence_words,
        "opportunity": (Ref(OPPORTUNITY, row.signal_id)
                        if opens_opportunity(row, play) and not (record_only or held) else None),
        "signal_categories": row.signal_categories,
        "priority_score": round(row.priority_score, 2),
        "priority_rank": row.priority_rank,
        "responsible_email": row.responsible,
        "backlog": record_only,
        "held_until": row.held_until if held else None,
    }


def opportunity_tracked(row: SignalRow) -> dict[str, Any]:
    """The Opportunity's tracked fields, kept in step with the mart once it exists; the rest
    belong to the rep (a later run never resets a stage)."""
    return {"owner": Owner(row.owner_email)}


def opportunity_fields(row: SignalRow, play: Play, settings: PlanSettings) -> dict[str, Any]:
    name = f"{row.account_name} - {play.title}" + (f" - {row.product}" if row.product else "")
    description = "\n".join(
        [
            f"Play: {play.title}. {play.description}",
            f"Evidence: {row.evidence_words}.",
            f"Collateral: {play.collateral}.",
            f"Close path: {row.close_path.replace('_', ' ')}.",
        ]
    )
    return {
        "name": name[:NAME_LIMIT],
        "account": row.crm_account_id,
        "type": settings.opportunity_type,
        "stage": settings.opportunity_stage,
        "close_date": row.episode_start + timedelta(days=settings.close_after_days),
        **opportunity_tracked(row),
        "description": description,
    }


def task_description(row: SignalRow, play: Play | None) -> str:
    """What the responsible owner reads on the Task: the evidence, what to say, the handoff."""
    collateral = f" Collateral: {play.collateral}." if play else ""
    lines = [f"{row.account_name}: {row.evidence_words}.{collateral}"]
    track = talk_track(row, play)
    if track:
        lines.append(f"What to say: {track}")
    if row.handoff:
        lines.append(f"Accountable owner (the Opportunity): {row.handoff}.")
    return "\n".join(lines)


def task_tracked(row: SignalRow, play: Play | None) -> dict[str, Any]:
    """The Task's tracked fields, kept in step with the mart once it exists; the rest belong
    to the rep (a later run never reopens a task)."""
    return {
        "what": Ref(OPPORTUNITY if opens_opportunity(row, play) else SIGNAL, row.signal_id),
        "owner": Owner(row.responsible),
        "due": row.sla_due_on,
        "priority": "High" if row.urgency == "high" else "Normal",
    }


def task_fields(row: SignalRow, play: Play | None, settings: PlanSettings) -> dict[str, Any]:
    """The Task goes to the responsible owner, who makes the first move (RACI)."""
    step = play.first_step if play else f"Follow up on {row.play_id}"
    return {
        "subject": step[:SUBJECT_LIMIT],
        **task_tracked(row, play),
        "status": settings.task_status,
        "description": task_description(row, play),
    }


def _reason(remote_id: str | None, error: str | None) -> str:
    if error:
        return "retry"
    return "update" if remote_id else "create"


def _dependent_write(
    kind: RecordKind,
    row: SignalRow,
    tracked: dict[str, Any],
    fields: Callable[[], dict[str, Any]],
    remote_id: str | None,
    committed_hash: str | None,
    error: str | None,
) -> RecordWrite | None:
    """Opportunity or task: the whole record once, then only its tracked fields when they move.

    The whole record (its description, the talk track) is built only when it is sent."""
    digest = payload_hash(tracked)
    if remote_id is None:
        return RecordWrite(kind, row.signal_id, fields(), digest, True, _reason(None, error))
    if digest != committed_hash:
        return RecordWrite(kind, row.signal_id, tracked, digest, False, _reason(remote_id, error))
    return None


def _record_writes(
    row: SignalRow, play: Play | None, state: SignalState | None, settings: PlanSettings,
    record_only: bool = False, held: bool = False,
) -> list[RecordWrite]:
    """The signal's record; its Opportunity and Task unless it is record-only backlog or
    held for a renewal."""
    state = state or SignalState(row.signal_id)
    writes: list[RecordWrite] = []
    fields = signal_fields(row, play, record_only=record_only, held=held)
    digest = payload_hash(fields)
    if digest != state.signal_hash or state.sf_signal_id is None:
        reason = _reason(state.sf_signal_id, state.sf_error)
        writes.append(RecordWrite(SIGNAL, row.signal_id, fields, digest, True, reason))
    if record_only or held:
        return writes
    if play is not None and opens_opportunity(row, play):
        opportunity = _dependent_write(
            OPPORTUNITY, row, opportunity_tracked(row),
            lambda: opportunity_fields(row, play, settings),
            state.sf_opportunity_id, state.opportunity_hash, state.sf_error,
        )
        writes += [opportunity] if opportunity else []
    task = _dependent_write(
        TASK, row, task_tracked(row, play), lambda: task_fields(row, play, settings),
        state.sf_task_id, state.task_hash, state.sf_error,
    )
    writes += [task] if task else []
    return writes


# --- the SLA clock and the backlog -----------------------------------------------------------

TOP, RECORD = "top", "record"  # signal_state.backlog: worked backlog, record-only backlog


def resolve_sla_due(row: SignalRow, sla_days: int, delivered_on: date) -> date:
    """The SLA due date of a signal first delivered on `delivered_on`.

    The mart's sla_due_on when delivered by episode_start + 1 day (the daily run that sees
    the episode begin), else the delivery date + the play's sla_days: an owner is never
    given a task already overdue. Never before the delivery date either way.
    """
    if delivered_on <= row.episode_start + timedelta(days=1):
        return max(row.sla_due_on, delivered_on)
    return delivered_on + timedelta(days=sla_days)


def is_backlog(row: SignalRow, first_seen: date, backlog_days: int) -> bool:
    """An episode that began more than `backlog_days` before the sync first saw it."""
    return (first_seen - row.episode_start).days > backlog_days


def _delivered(state: SignalState) -> bool:
    return bool(state.sf_signal_id or state.sf_task_id or state.slack_ts)


@dataclass(frozen=True)
class Delivery:
    sla_due: date
    backlog: str | None  # None, TOP or RECORD
    fresh: bool  # decided by this run (not yet kept from an earlier delivery)
    held: bool = False  # recorded now; alert, Task and Opportunity wait for the renewal


def is_held(row: SignalRow, as_of: date) -> bool:
    """The mart holds it for the renewal (renewal planning, not high) and the renewal is ahead."""
    return row.held_until is not None and row.held_until > as_of


def _worked(state: SignalState) -> bool:
    """The owner was told or given something: a Task, an Opportunity or a message."""
    return bool(state.sf_task_id or state.sf_opportunity_id or state.slack_ts)


def resolve_delivery(
    row: SignalRow, play: Play | None, state: SignalState | None, as_of: date,
    settings: PlanSettings,
) -> Delivery:
    """What first delivery decided for this signal, or what this run decides now.

    Kept once the signal reached a destination (or was made record-only backlog): the SLA
    date never moves. A ledger from before the SLA clock kept no date: a signal it had
    delivered keeps the mart's date it was given then. A decision no destination has
    acknowledged yet is taken again, so a Task created late is not overdue.
    """
    sla_days = play.sla_days if play else settings.default_sla_days
    if state is not None and state.held_until is not None and state.backlog != RECORD and (
            not _worked(state)):
        # Held for a renewal and nobody told yet: the SLA runs from the day the hold ends.
        if is_held(row, as_of):
            return Delivery(state.sla_due or row.sla_due_on, state.backlog, False, held=True)
        return Delivery(resolve_sla_due(row, sla_days, as_of), state.backlog, False)
    if state is not None and state.sla_due is not None and (
            _delivered(state) or state.backlog == RECORD):
        due = state.sla_due
        if (state.backlog != RECORD and not state.sf_task_id and not state.slack_ts
                and due < as_of):
            due = as_of + timedelta(days=sla_days)  # the owner has been told nothing yet
        return Delivery(due, state.backlog, False)
    if state is not None and state.sla_due is None and _delivered(state):
        return Delivery(row.sla_due_on, None, False)
    due = resolve_sla_due(row, sla_days, as_of)
    backlog = TOP if is_backlog(row, as_of, settings.backlog_days) else None
    return Delivery(due, backlog, True, held=is_held(row, as_of))


def _rank_key(row: SignalRow) -> tuple[int, str]:
    return (row.priority_rank, row.signal_id)


def _pick_backlog(
    rows: dict[str, SignalRow], decided: dict[str, Delivery], per_owner: int
) -> dict[str, Delivery]:
    """Of the backlog this run first sees, each owner's top `per_owner` by priority_rank are
    worked; the rest are records only. Owner: the accountable one, whose queue ranks them."""
    by_owner: dict[str, list[SignalRow]] = defaultdict(list)
    for signal_id, delivery in decided.items():
        if delivery.fresh and delivery.backlog is not None:
            by_owner[_owner_key(rows[signal_id].owner_email)].append(rows[signal_id])
    out = dict(decided)
    for group in by_owner.values():
        for n, row in enumerate(sorted(group, key=_rank_key)):
            out[row.signal_id] = replace(decided[row.signal_id],
                                         backlog=TOP if n < per_owner else RECORD)
    return out


# --- the volume guard ---------------------------------------------------------------------

VOLUME_RUNS, VOLUME_FACTOR, VOLUME_FLOOR = 10, 3, 10


def volume_check(new: int, history: list[int], max_new: int) -> str | None:
    """Why a run creating `new` Opportunities is held, or None to let it through.

    Held above `max_new`, or above VOLUME_FACTOR x the median of the last VOLUME_RUNS
    successful runs (only when there are that many; never at or below VOLUME_FLOOR, so a
    run of quiet days with a median of 0 does not hold the next few new ones).
    """
    if new > max_new:
        return (f"it would create {new} new Opportunities, more than the limit of {max_new} "
                "(EXPANSION_SYNC_MAX_NEW_OPPORTUNITIES)")
    if len(history) < VOLUME_RUNS:
        return None
    recent = sorted(history[:VOLUME_RUNS])
    middle = len(recent) // 2
    median = (recent[middle - 1] + recent[middle]) / 2
    if new > max(VOLUME_FACTOR * median, VOLUME_FLOOR):
        return (f"it would create {new} new Opportunities, more than {VOLUME_FACTOR}x the "
                f"median of the last {VOLUME_RUNS} successful runs ({median:g})")
    return None


def adopt_open_signals(
    rows: list[SignalRow], states: dict[str, SignalState], as_of: date, cooldown_days: int
) -> tuple[list[SignalRow], dict[str, str]]:
    """A mart row whose key has an Open signal last seen within the cooldown is that signal.

    The models keep an episode's id while it lasts, but a full refresh, a changed history
    window or a rebuilt warehouse computes the start from the window again, and with it a new
    id for an episode the destinations already know. Such a row takes the known signal's id and
    episode start (its SLA date moves with the start), so it updates the same record,
    Opportunity, Task and thread, and nobody is told twice. Returns the rows and, for each row
    adopted, the mart's id -> the known id.
    """
    mart_ids = {row.signal_id for row in rows}
    open_by_key: dict[tuple[str, str, str], list[SignalState]] = defaultdict(list)
    for state in states.values():
        if state.key is None or state.signal_id in mart_ids or state.status != OPEN:
            continue
        if state.last_seen is None or (as_of - state.last_seen).days > cooldown_days:
            continue
        open_by_key[state.key].append(state)
    adopted: dict[str, str] = {}
    out: list[SignalRow] = []
    for row in rows:
        candidates = open_by_key.get((row.account_id, row.play_id, row.product))
        if row.signal_id in states or not candidates:
            out.append(row)
            continue
        # The one seen last; several can only come from an earlier window's own splits.
        known = max(candidates, key=lambda s: (s.last_seen or date.min, s.signal_id))
        candidates.remove(known)
        shift = (known.episode_start - row.episode_start) if known.episode_start else timedelta()
        out.append(replace(row, signal_id=known.signal_id, episode_start=row.episode_start + shift,
                           sla_due_on=row.sla_due_on + shift))
        adopted[row.signal_id] = known.signal_id
    return out, adopted


def _gone(state: SignalState, as_of: date, cooldown_days: int) -> bool:
    """Past the cooldown a signal cannot come back under the same id (a new episode starts)."""
    if state.status != OPEN or state.last_seen is None:
        return False
    return (as_of - state.last_seen).days > cooldown_days


def _resolution(state: SignalState) -> RecordWrite:
    fields = {"status": RESOLVED}
    return RecordWrite(SIGNAL, state.signal_id, fields, payload_hash(fields), False, "resolve")


def _owner_key(email: str | None) -> str:
    return (email or "").strip().lower()


def _notice_id(kind: str, parts: Iterable[str]) -> str:
    """A notice's id: its kind and a hash of what it covers, the same on every rerun."""
    return f"{kind}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _by_responsible(rows: list[SignalRow]) -> dict[str, list[SignalRow]]:
    by_owner: dict[str, list[SignalRow]] = defaultdict(list)
    for row in rows:
        by_owner[_owner_key(row.responsible)].append(row)
    return by_owner


def _backlog_notices(rows: list[SignalRow]) -> list[Notice]:
    """One backlog digest per responsible owner, its signals in priority order."""
    by_owner = _by_responsible(rows)
    notices: list[Notice] = []
    for owner in sorted(by_owner):
        group = sorted(by_owner[owner], key=_rank_key)
        ids = tuple(r.signal_id for r in group)
        notice_id = _notice_id("backlog", sorted(ids))
        notices.append(Notice(notice_id, "backlog", group[0].responsible, ids))
    return notices


def _new_notices(rows: list[SignalRow], threshold: int) -> list[Notice]:
    """To each responsible owner: a message per new signal, or one digest above `threshold`."""
    by_owner = _by_responsible(rows)
    notices: list[Notice] = []
    for owner in sorted(by_owner):
        group = sorted(by_owner[owner], key=lambda r: r.signal_id)
        email = group[0].responsible
        if len(group) > threshold:
            ids = tuple(r.signal_id for r in group)
            digest_id = _notice_id("digest", ids)
            notices.append(Notice(digest_id, "digest", email, ids))
        else:
            notices += [
                Notice(f"signal:{r.signal_id}", "signal", email, (r.signal_id,), r.urgency)
                for r in group
            ]
    return notices


def _escalation(row: SignalRow, state: SignalState) -> Notice | None:
    if not state.slack_ts or not state.slack_channel:
        return None
    before = URGENCY_RANK.get(state.slack_urgency or "", -1)
    if URGENCY_RANK.get(row.urgency, -1) <= before:
        return None
    return Notice(
        f"escalation:{row.signal_id}:{row.urgency}", "escalation", row.responsible,
        (row.signal_id,), row.urgency, state.slack_urgency, state.slack_channel, state.slack_ts,
    )


def _informed_notices(
    rows: list[SignalRow], informed: set[tuple[str, str]]
) -> list[Notice]:
    """One digest per informed person of the signals they have not been told of yet."""
    by_person: dict[str, list[SignalRow]] = defaultdict(list)
    emails: dict[str, str] = {}
    for row in rows:
        for email in row.informed_emails:
            key = _owner_key(email)
            if key and (row.signal_id, key) not in informed:
                by_person[key].append(row)
                emails.setdefault(key, email)
    notices: list[Notice] = []
    for person in sorted(by_person):
        ids = tuple(sorted(r.signal_id for r in by_person[person]))
        notices.append(Notice(_notice_id("informed", (person, *ids)), "informed",
                              emails[person], ids))
    return notices


def plan_sync(
    rows: list[SignalRow],
    plays: dict[str, Play],
    states: dict[str, SignalState],
    as_of: date,
    settings: PlanSettings,
    informed: set[tuple[str, str]] | None = None,
) -> Plan:
    """Everything the destinations lack, ordered opportunities, signals, tasks.

    The rows of the plan carry the SLA date resolved for each signal (resolve_delivery), so
    records, tasks and messages all show the one date the owner was given. `informed`: the
    (signal_id, lower-case email) pairs the informed roles were already told of.
    """
    mart = {row.signal_id: row for row in rows}
    decided = {
        s: resolve_delivery(row, plays.get(row.play_id), states.get(s), as_of, settings)
        for s, row in mart.items()
    }
    decided = _pick_backlog(mart, decided, settings.backlog_per_owner)
    by_id = {s: row if row.sla_due_on == decided[s].sla_due
             else replace(row, sla_due_on=decided[s].sla_due) for s, row in mart.items()}
    plan = Plan(as_of=as_of, rows=by_id, plays=plays,
                backlog={s: d.backlog for s, d in decided.items()})
    writes: list[RecordWrite] = []
    unannounced: list[SignalRow] = []
    backlog: list[SignalRow] = []
    told: list[SignalRow] = []  # announced now or before: their informed roles may be told
    for signal_id in sorted(by_id):
        row, state = by_id[signal_id], states.get(signal_id)
        record_only = decided[signal_id].backlog == RECORD
        held = decided[signal_id].held and not record_only
        plan.held[signal_id] = row.held_until if held else (state.held_until if state else None)
        if held:
            plan.waiting.add(signal_id)
        row_writes = _record_writes(row, plays.get(row.play_id), state, settings, record_only,
                                    held)
        writes += row_writes
        if record_only or held:
            pass  # no mention: never for record-only backlog, after the renewal when held
        elif state is None or not state.slack_ts:
            (backlog if decided[signal_id].backlog == TOP else unannounced).append(row)
            told.append(row)
        else:
            escalation = _escalation(row, state)
            plan.notices += [escalation] if escalation else []
            told.append(row)
        if not row_writes and state is not None and (state.slack_ts or record_only or held):
            plan.unchanged += 1
    for signal_id in sorted(set(states) - set(by_id)):
        state = states[signal_id]
        if not _gone(state, as_of, settings.cooldown_days):
            continue
        if state.sf_signal_id:
            writes.append(_resolution(state))
        else:
            plan.resolved_locally.append(signal_id)
    plan.notices = (_backlog_notices(backlog) + _new_notices(unannounced, settings.digest_threshold)
                    + plan.notices + _informed_notices(told, informed or set()))
    order = {OPPORTUNITY: 0, SIGNAL: 1, TASK: 2}
    plan.writes = sorted(writes, key=lambda w: (order[w.kind], w.signal_id))
    return plan


def without_notices(plan: Plan) -> Plan:
    """The same plan with the Slack part left out (Slack not configured)."""
    return replace(plan, notices=[])
