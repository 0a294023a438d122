"""Going live on a year of standing signals, the SLA clock, and the volume guard, against
the emulators through simple-salesforce and slack_sdk."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from expansion_signals import exit_codes
from tests.sync.conftest import AS_OF, ledger_states, signal_row

SIGNAL, OPP, TASK = "Expansion_Signal__c", "Opportunity", "Task"
OWNERS = ["ana@example.com", "bo@example.com", "cy@example.com"]
SEAT_SLA_DAYS = 14  # seeds/plays.csv, seat_expansion


def year_of_history(account: str) -> list[dict]:
    """Per owner: 12 standing signals begun 31 to 365 days ago (ranked 1 = work first on
    every fourth), 2 recent ones (8 and 20 days), and one that began yesterday."""
    rows, n = [], 0
    for owner in OWNERS:
        for k in range(12):
            start = AS_OF - timedelta(days=31 + (k * 37) % 335)
            rows.append(signal_row(n, owner_email=owner, crm_account_id=account,
                                   episode_start=start, sla_due_on=start + timedelta(14),
                                   priority_rank=(k * 7) % 12 + 1))
            n += 1
        for days in (8, 20, 1):
            start = AS_OF - timedelta(days=days)
            rows.append(signal_row(n, owner_email=owner, crm_account_id=account,
                                   episode_start=start, sla_due_on=start + timedelta(14),
                                   priority_rank=100 + n))
            n += 1
    return rows


def seed(salesforce_emulator, slack_emulator) -> tuple[str, dict[str, str]]:
    for email in OWNERS:
        salesforce_emulator.seed_user(email)
    users = {email: slack_emulator.seed_user(email) for email in OWNERS}
    return salesforce_emulator.seed_account("Acme"), users


def test_going_live_on_a_year_of_history(mart, run_sync, salesforce_emulator, slack_emulator):
    account, users = seed(salesforce_emulator, slack_emulator)
    rows = year_of_history(account)
    mart.write(rows)
    result = run_sync()
    assert result.status == "ok", result.error
    signals = {r["Signal_Id__c"]: r for r in salesforce_emulator.records(SIGNAL)}
    tasks = {r["Expansion_Signal_Id__c"]: r for r in salesforce_emulator.records(TASK)}
    opportunities = {r["Expansion_Signal_Id__c"] for r in salesforce_emulator.records(OPP)}
    # Every signal has its record, Open; no owner is given an overdue task.
    assert sorted(signals) == sorted(r["signal_id"] for r in rows)
    assert {r["Status__c"] for r in signals.values()} == {"Open"}
    assert tasks and all(date.fromisoformat(t["ActivityDate"]) >= AS_OF for t in tasks.values())
    states = ledger_states(mart)
    for owner in OWNERS:
        mine = [r for r in rows if r["owner_email"] == owner]
        backlog = [r for r in mine if (AS_OF - r["episode_start"]).days > 30]
        top = sorted(backlog, key=lambda r: r["priority_rank"])[:5]
        top_ids = {r["signal_id"] for r in top}
        backlog_ids = {r["signal_id"] for r in backlog}
        assert len(backlog) == 12
        # Only the owner's top five of the backlog by priority_rank are worked.
        assert backlog_ids & opportunities == top_ids
        assert backlog_ids & set(tasks) == top_ids
        assert {states[s].backlog for s in backlog_ids - top_ids} == {"record"}
        # One backlog digest, in priority order, plus one message per recent signal.
        messages = slack_emulator.messages_to(users[owner])
        kinds = Counter(m["metadata"]["event_payload"]["notice_id"].split(":")[0]
                        for m in messages)
        assert kinds == {"backlog": 1, "signal": 3}, kinds
        [digest] = [m for m in messages if m["text"].startswith("5 standing")]
        listed = [b["text"]["text"].split(" · ")[0] for b in digest["blocks"]
                  if b["type"] == "section" and "SLA due" in b["text"]["text"]]
        assert listed == [r["account_name"] for r in sorted(top, key=lambda r: r["priority_rank"])]
        # Backlog: due sla_days after first delivery; the one begun yesterday: the mart's date.
        late = AS_OF + timedelta(days=SEAT_SLA_DAYS)
        assert {tasks[s]["ActivityDate"] for s in top_ids} == {late.isoformat()}
        assert f"SLA due {late.isoformat()}" in str(digest["blocks"])
        [yesterday] = [r for r in mine if r["episode_start"] == AS_OF - timedelta(days=1)]
        assert tasks[yesterday["signal_id"]]["ActivityDate"] == yesterday["sla_due_on"].isoformat()
        assert signals[yesterday["signal_id"]]["SLA_Due__c"] == yesterday["sla_due_on"].isoformat()
        [eight] = [r for r in mine if r["episode_start"] == AS_OF - timedelta(days=8)]
        assert tasks[eight["signal_id"]]["ActivityDate"] == late.isoformat()
    assert result.counts["salesforce.opportunity.upserted"] == len(opportunities) == 3 * 8

    # The SLA date never moves: three days on, the same signals, the same dates, no new work.
    later = AS_OF + timedelta(days=3)
    mart.write([{**r, "as_of": later} for r in rows])
    salesforce_emulator.reset_counters()
    again = run_sync()
    assert again.status == "ok", again.error
    tasks_after = {r["Expansion_Signal_Id__c"]: r for r in salesforce_emulator.records(TASK)}
    assert {s: t["ActivityDate"] for s, t in tasks_after.items()} == {
        s: t["ActivityDate"] for s, t in tasks.items()}
    signals_after = {r["Signal_Id__c"]: r for r in salesforce_emulator.records(SIGNAL)}
    assert {s: r["SLA_Due__c"] for s, r in signals_after.items()} == {
        s: r["SLA_Due__c"] for s, r in signals.items()}
    assert {r["Expansion_Signal_Id__c"] for r in salesforce_emulator.records(OPP)} == opportunities
    assert sum(len(slack_emulator.messages_to(u)) for u in users.values()) == 3 * 4
    # Only Last_Seen__c moved; then a rerun of the same day writes nothing at all.
    salesforce_emulator.reset_counters()
    assert run_sync().status == "ok"
    assert salesforce_emulator.write_count() == 0


def test_the_volume_guard_holds_a_doubled_mart(
    mart, run_sync, salesforce_emulator, slack_emulator, ops_channel
):
    account, users = seed(salesforce_emulator, slack_emulator)
    first = [signal_row(n, crm_account_id=account, owner_email=OWNERS[n % 3]) for n in range(9)]
    mart.write(first)
    assert run_sync(max_new_opportunities=10).status == "ok"
    doubled = first + [{**r, "signal_id": r["signal_id"] + "-dup"} for r in first]
    mart.write(doubled)
    salesforce_emulator.reset_counters()
    sent_before = len(slack_emulator.calls("chat.postMessage"))
    held = run_sync(max_new_opportunities=8)
    assert held.status == "held" and held.exit_code == exit_codes.HELD == 5
    assert "9 new Opportunities" in (held.error or "")
    assert salesforce_emulator.write_count() == 0
    posts = slack_emulator.calls("chat.postMessage")[sent_before:]
    assert len(posts) == 1
    [notice] = [m for m in slack_emulator.messages(ops_channel)]
    assert "volume guard" in notice["text"] and "--accept-volume" in notice["text"]
    assert not any(s.endswith("-dup") for s in ledger_states(mart))  # no state either
    # Once accepted, the run goes through; the next one is held no more and writes nothing.
    accepted = run_sync(max_new_opportunities=8, accept_volume=True)
    assert accepted.status == "ok", accepted.error
    assert len(salesforce_emulator.records(OPP)) == 18
    salesforce_emulator.reset_counters()
    messages = sum(len(slack_emulator.messages_to(u)) for u in users.values())
    assert run_sync(max_new_opportunities=8).status == "ok"
    assert salesforce_emulator.write_count() == 0
    assert sum(len(slack_emulator.messages_to(u)) for u in users.values()) == messages
    # The run log holds each run's new Opportunities: 9, held 0, accepted 9, then 0.
    found = mart.query("select status, new_opportunities from expansion_sync.runs "
                       "order by started_at")
    assert found == [("ok", 9), ("held", 0), ("ok", 9), ("ok", 0)]
