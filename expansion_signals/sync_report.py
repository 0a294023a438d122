"""What a sync run tells people: the plan per owner (preview) or what happened (apply).

Only plan and result data are printed: no setting values, so no secret can
reach a terminal or a scheduler's log.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from expansion_signals.engine import RunResult
from expansion_signals.plan import Plan
from expansion_signals.types import Notice, RecordWrite

SIGNALS_SHOWN_PER_OWNER = 5
FAILURES_SHOWN = 10


def _owner_label(email: str | None) -> str:
    return email or "(no owner: fallback channel)"


def _by_owner(plan: Plan) -> dict[str, tuple[list[RecordWrite], list[Notice]]]:
    groups: dict[str, tuple[list[RecordWrite], list[Notice]]] = defaultdict(lambda: ([], []))
    for write in plan.writes:
        row = plan.rows.get(write.signal_id)
        groups[_owner_label(row.owner_email if row else None)][0].append(write)
    for notice in plan.notices:
        groups[_owner_label(notice.owner_email)][1].append(notice)
    return groups


def plan_lines(plan: Plan, *, include_slack: bool = True) -> list[str]:
    writes = Counter(f"{w.kind} {w.reason}" for w in plan.writes)
    notices = Counter(n.kind for n in plan.notices) if include_slack else Counter()
    lines = [
        f"{len(plan.rows)} signals in the mart on {plan.as_of.isoformat()}; "
        f"{plan.unchanged} already in step.",
        "Salesforce upserts: "
        + (", ".join(f"{n} {k}" for k, n in sorted(writes.items())) or "none"),
    ]
    if include_slack:
        lines.append(
            "Slack messages: " + (", ".join(f"{n} {k}" for k, n in sorted(notices.items()))
                                  or "none")
        )
    if plan.resolved_locally:
        lines.append(f"Resolved without a Salesforce record: {len(plan.resolved_locally)}")
    groups = _by_owner(plan)
    if groups:
        lines.append("By owner:")
    for owner in sorted(groups):
        owner_writes, owner_notices = groups[owner]
        kinds = Counter(w.kind for w in owner_writes)
        records = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no records"
        messages = ""
        if include_slack and owner_notices:
            digests = sum(1 for n in owner_notices if n.kind == "digest")
            messages = f"; {len(owner_notices)} message(s)" + (
                " (one digest)" if digests else ""
            )
        lines.append(f"  {owner}: {records}{messages}")
        shown = sorted({w.signal_id for w in owner_writes} | {
            s for n in owner_notices for s in n.signal_ids
        })
        for signal_id in shown[:SIGNALS_SHOWN_PER_OWNER]:
            row = plan.rows.get(signal_id)
            if row is None:
                lines.append(f"    {signal_id}: left the mart, to be marked Resolved")
                continue
            product = f" ({row.product})" if row.product else ""
            lines.append(
                f"    {row.urgency:<6} {row.account_name[:40]} - {row.play_id}{product}, "
                f"SLA {row.sla_due_on.isoformat()}: {row.evidence_words}"
            )
        if len(shown) > SIGNALS_SHOWN_PER_OWNER:
            lines.append(f"    ... and {len(shown) - SIGNALS_SHOWN_PER_OWNER} more")
    return lines


def result_lines(result: RunResult) -> list[str]:
    if result.status == "locked":
        return [f"Sync skipped: {result.error}"]
    if result.mode == "preview":
        head = [f"Sync preview (run {result.run_id}): no calls were made; the plan is recorded "
                "in expansion_sync.operations."]
        return head + (plan_lines(result.plan) if result.plan else [])
    lines = [f"Sync run {result.run_id}: {result.status}"]
    if result.error:
        lines.append(f"  error: {result.error}")
    for key, value in sorted(result.counts.items()):
        lines.append(f"  {key:<40} {value:>7}")
    if result.failures:
        lines.append(f"  {len(result.failures)} record(s) or message(s) failed and will be "
                     "retried on the next run:")
        for op in result.failures[:FAILURES_SHOWN]:
            detail = f"{op.error_code} {op.error_message or ''}".strip()
            lines.append(f"    {op.action} {op.signal_id}: {detail}")
    return lines
