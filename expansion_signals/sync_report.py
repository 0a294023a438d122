"""What a sync run tells people: the plan in totals and per owner (preview), or what
happened (apply).

Only plan and result data are printed: no setting values, so no secret can
reach a terminal or a scheduler's log.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from expansion_signals.engine import RunResult
from expansion_signals.plan import Plan
from expansion_signals.types import Notice, RecordWrite

OWNERS_SHOWN = 8  # the owners with the most signals; the rest in one line
FAILURES_SHOWN = 10
RECORD_ORDER = ["signal", "opportunity", "task"]


def _owner_label(email: str | None) -> str:
    return email or "(no owner: fallback channel)"


def _by_owner(plan: Plan) -> dict[str, tuple[list[RecordWrite], list[Notice]]]:
    groups: dict[str, tuple[list[RecordWrite], list[Notice]]] = defaultdict(lambda: ([], []))
    for write in plan.writes:
        row = plan.rows.get(write.signal_id)
        # a Task is the responsible owner's; the record and the Opportunity the accountable's
        who = (row.responsible if write.kind == "task" else row.owner_email) if row else None
        groups[_owner_label(who)][0].append(write)
    for notice in plan.notices:
        groups[_owner_label(notice.owner_email)][1].append(notice)
    return groups


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


def _owner_line(plan: Plan, owner: str, writes: list[RecordWrite], notices: list[Notice],
                include_slack: bool) -> str:
    signal_ids = {w.signal_id for w in writes} | {s for n in notices for s in n.signal_ids}
    in_mart = [plan.rows[s] for s in signal_ids if s in plan.rows]
    high = sum(1 for row in in_mart if row.urgency == "high")
    gone = len(signal_ids) - len(in_mart)
    what = f"{len(in_mart)} signal(s)" + (f" ({high} high)" if high else "")
    if gone:
        what += f", {gone} gone from the mart"
    kinds = Counter(w.kind for w in writes)
    records = ", ".join(f"{kinds[k]} {k}" for k in sorted(kinds, key=RECORD_ORDER.index)
                        ) or "no records"
    line = f"  {owner}: {what}; {records}"
    if include_slack and notices:
        kinds = Counter(n.kind for n in notices)
        digests, backlogs, informed = kinds["digest"], kinds["backlog"], kinds["informed"]
        others = len(notices) - digests - backlogs - informed
        line += "; " + ", ".join(
            part for part in (f"{backlogs} backlog digest" if backlogs else "",
                              f"{digests} digest" if digests else "",
                              f"{others} message(s)" if others else "",
                              f"{informed} informed digest" if informed else "") if part)
    return line


def plan_lines(plan: Plan, *, include_slack: bool = True) -> list[str]:
    """The plan in a few lines: totals, then one line per owner, most signals first."""
    writes = Counter(f"{w.kind} {w.reason}" for w in plan.writes)
    notices = Counter(n.kind for n in plan.notices) if include_slack else Counter()
    lines = [
        f"{len(plan.rows)} signals in the mart on {plan.as_of.isoformat()}; "
        f"{plan.unchanged} already in step.",
        "Salesforce upserts: " + (_counted(writes) or "none"),
    ]
    if include_slack:
        waiting = (f"; {len(plan.waiting)} held for a renewal (recorded; alert and Task "
                   "after it)" if plan.waiting else "")
        lines.append("Slack messages: " + (_counted(notices) or "none") + waiting)
    if plan.resolved_locally:
        lines.append(f"Resolved without a Salesforce record: {len(plan.resolved_locally)}")
    groups = _by_owner(plan)
    if not groups:
        return lines

    def size(owner: str) -> tuple[int, str]:
        owner_writes, owner_notices = groups[owner]
        ids = {w.signal_id for w in owner_writes} | {
            s for n in owner_notices for s in n.signal_ids}
        return (-len(ids), owner)

    owners = sorted(groups, key=size)
    lines.append(f"By owner ({len(owners)}, most signals first):")
    for owner in owners[:OWNERS_SHOWN]:
        lines.append(_owner_line(plan, owner, *groups[owner], include_slack))
    rest = owners[OWNERS_SHOWN:]
    if rest:
        rest_writes = sum(len(groups[o][0]) for o in rest)
        rest_notices = sum(len(groups[o][1]) for o in rest)
        lines.append(f"  ... and {len(rest)} more owners: {rest_writes} upserts"
                     + (f", {rest_notices} message(s)" if include_slack else ""))
    return lines


def result_lines(result: RunResult) -> list[str]:
    if result.status == "locked":
        return [f"Sync skipped: {result.error}"]
    if result.mode == "preview":
        head = [f"Sync preview (run {result.run_id}): no calls were made; the plan is recorded "
                "in expansion_sync.operations."]
        return head + (plan_lines(result.plan) if result.plan else [])
    if result.status == "held":
        head = [f"Sync run {result.run_id}: held ({result.error}).",
                "Nothing was written; check the mart, then rerun with --accept-volume to let "
                "it through once. What it would have done:"]
        return head + (plan_lines(result.plan) if result.plan else [])
    lines = [f"Sync run {result.run_id}: {result.status}"
             + (f"; {result.readback.sentence()}" if result.readback else "")]
    lines += [f"  {sentence[:1].upper()}{sentence[1:]}." for sentence in result.bound]
    if result.error:
        lines.append(f"  error: {result.error}")
    for key, value in sorted(result.counts.items()):
        lines.append(f"  {key:<40} {value:>7}")
    if result.failures:
        lines.append(f"  {len(result.failures)} record(s) or message(s) failed and will be "
                     "retried on the next run:")
        for op in result.failures[:FAILURES_SHOWN]:
            detail = f"{op.error_code} {op.error_message or ''}".strip()
            lines.append(f"    {op.action}{f' {op.signal_id}' if op.signal_id else ''}: {detail}")
    return lines
