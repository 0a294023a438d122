"""The sync's plain data, in one place: mart rows, plays, what the destinations
acknowledged, the planner's actions, and what the ledger logs.

No behaviour beyond small derived properties; every other module passes these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Literal

from expansion_signals.evidence import evidence_in_words, parse_evidence

URGENCY_RANK = {"low": 0, "medium": 1, "high": 2}
SIGNAL, OPPORTUNITY, TASK = "signal", "opportunity", "task"
OPEN, RESOLVED = "Open", "Resolved"


RecordKind = Literal["signal", "opportunity", "task"]
NoticeKind = Literal["signal", "digest", "backlog", "escalation", "informed"]


@dataclass(frozen=True)
class SignalRow:
    """One row of marts.expansion_signals."""

    signal_id: str
    account_id: str
    crm_account_id: str | None
    account_name: str
    play_id: str
    motion: str
    product: str
    episode_start: date
    as_of: date
    urgency: str
    close_path: str
    owner_role: str | None
    owner_email: str | None
    sla_due_on: date
    signal_count: int
    compound: bool
    days_to_renewal: int | None
    evidence: str
    signal_categories: int
    priority_score: float
    priority_rank: int  # in the owner's queue, 1 = work first
    # RACI: who makes the first move (the Task and the alert); the owner above is accountable
    # (the Opportunity). None: the accountable owner is also responsible.
    responsible_role: str | None = None
    responsible_email: str | None = None
    informed_emails: tuple[str, ...] = ()  # told in their digest, never a message each
    held_until: date | None = None  # the renewal-planning hold: alert and Task wait till then

    @cached_property
    def evidence_words(self) -> str:
        """The evidence as a sentence; a row's records and messages all show it, so it is
        worded once per row."""
        return evidence_in_words(self.play_id, parse_evidence(self.evidence))

    @property
    def responsible(self) -> str | None:
        """Who is told and given the Task: the responsible owner, else the accountable one."""
        return self.responsible_email or self.owner_email

    @property
    def handoff(self) -> str | None:
        """The accountable owner to mention, when someone else makes the first move."""
        owner, responsible = self.owner_email, self.responsible
        if owner and responsible and owner.strip().lower() != responsible.strip().lower():
            return owner
        return None


@dataclass(frozen=True)
class Play:
    """One row of the plays seed: what to do about a signal."""

    play_id: str
    motion: str
    description: str
    sla_days: int
    collateral: str
    opens_opportunity: bool
    talk_track: str | None = None  # what to say, a template over the signal's evidence

    @property
    def title(self) -> str:
        return self.play_id.replace("_", " ").capitalize()

    @property
    def first_step(self) -> str:
        """The action after the situation: "Seats are ...: quote more" -> "Quote more"."""
        _, sep, step = self.description.partition(": ")
        step = step if sep else self.description
        return step[:1].upper() + step[1:]


@dataclass(frozen=True)
class ModelSettings:
    """One row of marts.sync_settings: the models' settings the sync shares."""

    as_of: date
    cooldown_days: int
    default_sla_days: int
    history_days: int


@dataclass(frozen=True)
class SignalState:
    """What the destinations acknowledged for one signal, as the ledger keeps it."""

    signal_id: str
    status: str = OPEN
    last_seen: date | None = None
    owner_email: str | None = None
    account_name: str | None = None
    signal_hash: str | None = None
    opportunity_hash: str | None = None
    task_hash: str | None = None
    sf_signal_id: str | None = None
    sf_opportunity_id: str | None = None
    sf_task_id: str | None = None
    sf_error: str | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    slack_urgency: str | None = None
    slack_error: str | None = None
    # The signal's key and episode start, so a mart row can be recognised as this signal.
    account_id: str | None = None
    play_id: str | None = None
    product: str | None = None
    episode_start: date | None = None
    # Decided when the signal is first delivered, then kept (plan.resolve_delivery): the SLA
    # due date the owner is given, and whether it came in as backlog ("top": worked, with a
    # Task and a mention in the backlog digest; "record": its record only).
    sla_due: date | None = None
    backlog: str | None = None
    motion: str | None = None  # the play's, for the Opportunities read back
    # Set once the signal was held for a renewal (recorded, not yet worked): its SLA runs
    # from the day the hold ends and it is delivered.
    held_until: date | None = None

    @property
    def key(self) -> tuple[str, str, str] | None:
        if self.account_id is None or self.play_id is None:
            return None
        return (self.account_id, self.play_id, self.product or "")


@dataclass(frozen=True)
class Owner:
    """The Salesforce user for an email; the integration user when there is none."""

    email: str | None


@dataclass(frozen=True)
class Ref:
    """The Salesforce id of another record of this run or an earlier one."""

    kind: RecordKind
    signal_id: str


@dataclass(frozen=True)
class RecordWrite:
    """One upsert by external id. `full` is False when only tracked fields are sent."""

    kind: RecordKind
    signal_id: str
    fields: dict[str, Any]
    hash: str
    full: bool
    reason: str  # create | update | retry | resolve


@dataclass(frozen=True)
class RecordResult:
    """What Salesforce answered for one RecordWrite."""

    write: RecordWrite
    remote_id: str | None
    error_code: str | None = None
    error_message: str | None = None
    complete: bool = True

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True)
class Notice:
    """One Slack message: a new signal, a digest of several, or a reply on an urgency rise."""

    notice_id: str
    kind: NoticeKind
    owner_email: str | None
    signal_ids: tuple[str, ...]
    urgency: str | None = None
    previous_urgency: str | None = None
    thread_channel: str | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class Operation:
    destination: str  # salesforce | slack | ledger
    action: str  # upsert.signal, message.digest, reply.escalation, resolve.local ...
    signal_id: str | None
    outcome: str  # ok | failed | planned | deferred | recovered
    owner: str | None = None
    remote_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Intent:
    notice_id: str
    run_id: str
    kind: str
    channel: str
    thread_ts: str | None
    signal_ids: tuple[str, ...]
    urgency: str | None
    posted_after: str  # a Slack ts: the message, if sent, is newer than this
    recipient: str | None = None  # an informed digest's person (email)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    mode: str
    status: str
    error: str | None
