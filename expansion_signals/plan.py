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
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

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

# Fields kept in step with the mart after an opportunity or task exists; the rest
# belong to the rep once created (a later run never resets a stage or reopens a task).
TRACKED: dict[str, tuple[str, ...]] = {
    OPPORTUNITY: ("owner",),
    TASK: ("owner", "due", "priority", "what"),
}
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


def payload_hash(fields: dict[str, Any]) -> str:
    def encode(value: Any) -> Any:
        if isinstance(value, Owner):
            return {"owner": (value.email or "").lower()}
        if isinstance(value, Ref):
            return {"ref": [value.kind, value.signal_id]}
        if isinstance(value, date):
            return value.isoformat()
        return value

    text = json.dumps({k: encode(v) for k, v in sorted(fields.items())}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def opens_opportunity(row: SignalRow, play: Play | None) -> bool:
    return bool(play and play.opens_opportunity and row.crm_account_id)


def signal_fields(row: SignalRow, play: Play | None) -> dict[str, Any]:
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
        "opportunity": Ref(OPPORTUNITY, row.signal_id) if opens_opportunity(row, play) else None,
    }


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
        "owner": Owner(row.owner_email),
        "description": description,
    }


def task_fields(row: SignalRow, play: Play | None, settings: PlanSettings) -> dict[str, Any]:
    step = play.first_step if play else f"Follow up on {row.play_id}"
    what = Ref(OPPORTUNITY if opens_opportunity(row, play) else SIGNAL, row.signal_id)
    collateral = f" Collateral: {play.collateral}." if play else ""
    return {
        "subject": step[:SUBJECT_LIMIT],
        "what": what,
        "owner": Owner(row.owner_email),
        "due": row.sla_due_on,
        "priority": "High" if row.urgency == "high" else "Normal",
        "status": settings.task_status,
        "description": f"{row.account_name}: {row.evidence_words}.{collateral}",
    }


def _reason(remote_id: str | None, error: str | None) -> str:
    if error:
        return "retry"
    return "update" if remote_id else "create"


def _dependent_write(
    kind: RecordKind,
    row: SignalRow,
    fields: dict[str, Any],
    remote_id: str | None,
    committed_hash: str | None,
    error: str | None,
) -> RecordWrite | None:
    """Opportunity or task: the whole record once, then only its tracked fields when they move."""
    tracked = {k: fields[k] for k in TRACKED[kind]}
    digest = payload_hash(tracked)
    if remote_id is None:
        return RecordWrite(kind, row.signal_id, fields, digest, True, _reason(None, error))
    if digest != committed_hash:
        return RecordWrite(kind, row.signal_id, tracked, digest, False, _reason(remote_id, error))
    return None


def _record_writes(
    row: SignalRow, play: Play | None, state: SignalState | None, settings: PlanSettings
) -> list[RecordWrite]:
    state = state or SignalState(row.signal_id)
    writes: list[RecordWrite] = []
    fields = signal_fields(row, play)
    digest = payload_hash(fields)
    if digest != state.signal_hash or state.sf_signal_id is None:
        reason = _reason(state.sf_signal_id, state.sf_error)
        writes.append(RecordWrite(SIGNAL, row.signal_id, fields, digest, True, reason))
    if play is not None and opens_opportunity(row, play):
        opportunity = _dependent_write(
            OPPORTUNITY, row, opportunity_fields(row, play, settings),
            state.sf_opportunity_id, state.opportunity_hash, state.sf_error,
        )
        writes += [opportunity] if opportunity else []
    task = _dependent_write(
        TASK, row, task_fields(row, play, settings),
        state.sf_task_id, state.task_hash, state.sf_error,
    )
    writes += [task] if task else []
    return writes


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


def _new_notices(rows: list[SignalRow], threshold: int) -> list[Notice]:
    by_owner: dict[str, list[SignalRow]] = defaultdict(list)
    for row in rows:
        by_owner[_owner_key(row.owner_email)].append(row)
    notices: list[Notice] = []
    for owner in sorted(by_owner):
        group = sorted(by_owner[owner], key=lambda r: r.signal_id)
        email = group[0].owner_email or None
        if len(group) > threshold:
            ids = tuple(r.signal_id for r in group)
            digest_id = "digest:" + hashlib.sha256("|".join(ids).encode()).hexdigest()[:20]
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
        f"escalation:{row.signal_id}:{row.urgency}", "escalation", row.owner_email,
        (row.signal_id,), row.urgency, state.slack_urgency, state.slack_channel, state.slack_ts,
    )


def plan_sync(
    rows: list[SignalRow],
    plays: dict[str, Play],
    states: dict[str, SignalState],
    as_of: date,
    settings: PlanSettings,
) -> Plan:
    """Everything the destinations lack, ordered opportunities, signals, tasks."""
    by_id = {row.signal_id: row for row in rows}
    plan = Plan(as_of=as_of, rows=by_id, plays=plays)
    writes: list[RecordWrite] = []
    unannounced: list[SignalRow] = []
    for signal_id in sorted(by_id):
        row, state = by_id[signal_id], states.get(signal_id)
        row_writes = _record_writes(row, plays.get(row.play_id), state, settings)
        writes += row_writes
        if state is None or not state.slack_ts:
            unannounced.append(row)
        else:
            escalation = _escalation(row, state)
            plan.notices += [escalation] if escalation else []
        if not row_writes and state is not None and state.slack_ts:
            plan.unchanged += 1
    for signal_id in sorted(set(states) - set(by_id)):
        state = states[signal_id]
        if not _gone(state, as_of, settings.cooldown_days):
            continue
        if state.sf_signal_id:
            writes.append(_resolution(state))
        else:
            plan.resolved_locally.append(signal_id)
    plan.notices = _new_notices(unannounced, settings.digest_threshold) + plan.notices
    order = {OPPORTUNITY: 0, SIGNAL: 1, TASK: 2}
    plan.writes = sorted(writes, key=lambda w: (order[w.kind], w.signal_id))
    return plan


def without_notices(plan: Plan) -> Plan:
    """The same plan with the Slack part left out (Slack not configured)."""
    return replace(plan, notices=[])
