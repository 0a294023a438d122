"""Slack messages: Block Kit with a plain-text fallback, and every data value escaped.

Text that comes from data (account and product names, anything a customer can
type) goes through `escape`: `&`, `<`, `>` become entities, so `<!channel>`
or `<@U123>` in an account name stays text and can never mention anyone, and
bare `@here`-style words are broken with a word joiner in case a client or a
future `link_names` setting would expand them. Data is put in `plain_text`
objects, where `*bold*` or `_x_` in a name is not formatting; mrkdwn carries
only our own link to the Salesforce record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from expansion_signals.talk_tracks import talk_track
from expansion_signals.types import Notice, Play, SignalRow

HEADER_LIMIT, SECTION_LIMIT, FIELD_LIMIT, TEXT_LIMIT = 150, 3000, 2000, 3500
DIGEST_SHOWN = 10
WORD_JOINER = "\u2060"
BROADCAST_WORDS = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Message:
    text: str  # the fallback shown in notifications and by clients without blocks
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None = None


def escape(text: str) -> str:
    """Slack's control characters as entities (`&` first), broadcast words broken."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BROADCAST_WORDS.sub(lambda m: "@" + WORD_JOINER + m.group(1), escaped)


def fit(text: str, limit: int) -> str:
    """Escape, then shorten the raw text until the escaped form fits (never cut an entity)."""
    raw = text
    escaped = escape(raw)
    while len(escaped) > limit:
        raw = raw[: max(0, len(raw) - (len(escaped) - limit) - 1)]
        escaped = escape(raw + "…")
    return escaped


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit), "emoji": False}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": plain(text)}


def link_block(url: str | None, label: str) -> list[dict[str, Any]]:
    if not url:
        return []
    # The url is ours (instance URL + record id); the label is fixed text.
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|{label}>"}]}]


def metadata(event_type: str, notice_id: str, signal_ids: tuple[str, ...]) -> dict[str, Any]:
    payload: dict[str, Any] = {"notice_id": notice_id, "signals": len(signal_ids)}
    if len(signal_ids) == 1:
        payload["signal_id"] = signal_ids[0]
    return {"event_type": event_type, "event_payload": payload}


def _words(value: str) -> str:
    return value.replace("_", " ")


def _close_path(row: SignalRow) -> str:
    renewal = f" (renewal in {row.days_to_renewal} days)" if row.days_to_renewal is not None else ""
    return _words(row.close_path) + renewal


def handoff_block(row: SignalRow, user_id: str | None) -> list[dict[str, Any]]:
    """The handoff (RACI): the accountable owner mentioned when someone else makes the first
    move. The mention is built from a Slack user id, never from data; without one the email
    is named as escaped text."""
    if not row.handoff:
        return []
    who = f"<@{user_id}>" if user_id else escape(row.handoff)
    text = f"{who} is accountable and owns the Opportunity; you make the first move."
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def _title(row: SignalRow, play: Play | None) -> str:
    name = play.title if play else _words(row.play_id)
    return name + (f" · {row.product}" if row.product else "")


def signal_message(
    row: SignalRow, play: Play | None, link: str | None, meta: dict[str, Any] | None = None,
    accountable_user: str | None = None,
) -> Message:
    """One new signal to its responsible owner: what fired, what to do, what to say."""
    compound = " (compound)" if row.compound else ""
    fields = [
        plain(f"Play: {_title(row, play)}", FIELD_LIMIT),
        plain(f"Motion: {_words(row.motion)}", FIELD_LIMIT),
        plain(f"Urgency: {row.urgency}", FIELD_LIMIT),
        plain(f"Close path: {_close_path(row)}", FIELD_LIMIT),
        plain(f"SLA due: {row.sla_due_on.isoformat()}", FIELD_LIMIT),
        plain(f"Signals on this account: {row.signal_count}{compound}", FIELD_LIMIT),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"Expansion signal: {row.account_name}", HEADER_LIMIT)},
        {"type": "section", "fields": fields},
        section(f"Evidence: {row.evidence_words}."),
    ]
    if play:
        blocks.append(section(f"Next step: {play.first_step} Collateral: {play.collateral}."))
    track = talk_track(row, play)
    if track:
        blocks.append(section(f"What to say: {track}"))
    blocks += handoff_block(row, accountable_user)
    blocks += link_block(link, "Open the signal in Salesforce")
    text = fit(
        f"New {row.urgency}-urgency expansion signal for {row.account_name}: "
        f"{_title(row, play)}. {row.evidence_words}. SLA due {row.sla_due_on.isoformat()}.",
        TEXT_LIMIT,
    )
    return Message(text, blocks, meta)


def _list_message(
    title: str,
    intro: str | None,
    ordered: list[SignalRow],
    says: Callable[[SignalRow], str],
    links: dict[str, str],
    meta: dict[str, Any] | None,
) -> Message:
    """Several signals in one message: a header, an optional intro, one section each (the
    first DIGEST_SHOWN, with their links), and how many more are in Salesforce."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(title, HEADER_LIMIT)}]
    if intro:
        blocks.append(section(intro))
    for row in ordered[:DIGEST_SHOWN]:
        blocks.append(section(f"{says(row)}\n{row.evidence_words}."))
        blocks += link_block(links.get(row.signal_id), "Open in Salesforce")
    if len(ordered) > DIGEST_SHOWN:
        more = len(ordered) - DIGEST_SHOWN
        blocks.append(
            {"type": "context", "elements": [plain(f"and {more} more in Salesforce", 200)]}
        )
    names = ", ".join(r.account_name for r in ordered[:DIGEST_SHOWN])
    return Message(fit(f"{title}: {names}", TEXT_LIMIT), blocks, meta)


def digest_message(
    rows: list[SignalRow],
    plays: dict[str, Play],
    links: dict[str, str],
    meta: dict[str, Any] | None = None,
    *,
    backlog: bool = False,
) -> Message:
    """Several signals for one owner in priority order (priority_rank, 1 = work first).

    A backlog digest lists the standing signals the sync found on first seeing them (going
    live, or after a long outage) that the owner should work first."""
    title = (f"{len(rows)} standing expansion signals to work first" if backlog
             else f"{len(rows)} new expansion signals")
    intro = ("These signals began a while ago, before the sync first saw them. Each has a "
             "task due on the date shown; the rest of your backlog is in Salesforce and in "
             "the work queue.") if backlog else None
    return _list_message(
        title, intro, sorted(rows, key=lambda r: (r.priority_rank, r.signal_id)),
        lambda row: (f"{row.account_name} · {_title(row, plays.get(row.play_id))} · "
                     f"{row.urgency} urgency · SLA due {row.sla_due_on.isoformat()}"),
        links, meta)


def informed_message(
    rows: list[SignalRow],
    plays: dict[str, Play],
    links: dict[str, str],
    meta: dict[str, Any] | None = None,
) -> Message:
    """For someone the play keeps informed: the signals on their accounts, who works each.
    One message per run however many; nothing to do but know."""
    title = (f"For your information: {len(rows)} expansion "
             f"signal{'' if len(rows) == 1 else 's'} on your accounts")
    return _list_message(
        title, None, sorted(rows, key=lambda r: (r.account_name, r.signal_id)),
        lambda row: (f"{row.account_name} · {_title(row, plays.get(row.play_id))} · "
                     f"{row.urgency} urgency · worked by "
                     f"{row.responsible or 'the fallback channel'}"),
        links, meta)


def escalation_message(
    row: SignalRow,
    play: Play | None,
    previous: str | None,
    link: str | None,
    meta: dict[str, Any] | None = None,
) -> Message:
    change = f"from {previous} to {row.urgency}" if previous else f"to {row.urgency}"
    sentence = (
        f"Urgency rose {change} for {row.account_name} ({_title(row, play)}): "
        f"{row.evidence_words}. SLA due {row.sla_due_on.isoformat()}."
    )
    blocks = [section(sentence), *link_block(link, "Open the signal in Salesforce")]
    return Message(fit(sentence, TEXT_LIMIT), blocks, meta)


def ops_message(sentence: str) -> Message:
    return Message(fit(sentence, TEXT_LIMIT), [section(sentence)])


def notice_message(
    notice: Notice,
    rows: Mapping[str, SignalRow],
    plays: Mapping[str, Play],
    event_type: str,
    link: Callable[[str], str | None],
    slack_user: Callable[[str], str | None] = lambda email: None,
) -> Message:
    """The message for one planned notice; `link` gives a signal's Salesforce record URL,
    `slack_user` the Slack user of an email (to mention the accountable owner)."""
    meta = metadata(event_type, notice.notice_id, notice.signal_ids)
    covered = [rows[s] for s in notice.signal_ids]
    if notice.kind in ("digest", "backlog", "informed"):
        links = {s: url for s in notice.signal_ids if (url := link(s))}
        if notice.kind == "informed":
            return informed_message(covered, dict(plays), links, meta)
        return digest_message(covered, dict(plays), links, meta,
                              backlog=notice.kind == "backlog")
    row = covered[0]
    play = plays.get(row.play_id)
    if notice.kind == "escalation":
        return escalation_message(row, play, notice.previous_urgency, link(row.signal_id), meta)
    accountable = slack_user(row.handoff) if row.handoff else None
    return signal_message(row, play, link(row.signal_id), meta, accountable)
