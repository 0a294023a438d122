"""Who gets what (RACI), the renewal-planning hold and talk tracks, through the real clients
against the emulators, and in the planner alone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from expansion_signals.plan import plan_sync
from expansion_signals.sync_report import plan_lines
from expansion_signals.types import OPPORTUNITY, SIGNAL, TASK, Owner, SignalState
from expansion_signals.warehouse import WarehouseError, connect_duckdb, read_plays
from tests.sync.conftest import AS_OF, ledger_states, signal_row
from tests.sync.test_plan import SETTINGS, committed, plays, rows

AM, CSM, AE = "am@example.com", "csm@example.com", "ae@example.com"
ACCOUNT = "001000000000001AAA"
SEAT_GROWTH = {"seats_assigned": 46, "seats_purchased": 50, "seat_utilization": 0.92,
               "sustained_days": 14, "seats_assigned_90d_ago": 34}


def handoff_row(n: int, **overrides):
    """Enterprise: the account manager is accountable, the CSM makes the first move."""
    return signal_row(n, **{"crm_account_id": ACCOUNT, "owner_role": "account_manager",
                             "owner_email": AM, "responsible_role": "csm",
                             "responsible_email": CSM, **overrides})


# --- the planner ------------------------------------------------------------------------


def test_task_and_alert_go_to_the_responsible_the_opportunity_to_the_accountable():
    plan = plan_sync(rows(handoff_row(1)), plays(), {}, AS_OF, SETTINGS)
    assert plan.writes_of(OPPORTUNITY)[0].fields["owner"] == Owner(AM)
    task = plan.writes_of(TASK)[0]
    assert task.fields["owner"] == Owner(CSM)
    assert f"Accountable owner (the Opportunity): {AM}." in task.fields["description"]
    assert plan.writes_of(SIGNAL)[0].fields["responsible_email"] == CSM
    assert [(n.kind, n.owner_email) for n in plan.notices] == [("signal", CSM)]


def test_no_handoff_when_the_accountable_owner_also_makes_the_first_move():
    plan = plan_sync(rows(signal_row(1, crm_account_id=ACCOUNT)), plays(), {}, AS_OF, SETTINGS)
    task = plan.writes_of(TASK)[0]
    assert task.fields["owner"] == Owner("ana@example.com")
    assert "Accountable owner" not in task.fields["description"]


def test_messages_are_grouped_by_who_makes_the_first_move():
    """Six signals of three accountable owners, one CSM working them all: one digest."""
    mart = [signal_row(n, owner_email=f"am{n % 3}@example.com", responsible_email=CSM)
            for n in range(6)]
    plan = plan_sync(rows(*mart), plays(), {}, AS_OF, SETTINGS)
    assert [(n.kind, n.owner_email, len(n.signal_ids)) for n in plan.notices] == [
        ("digest", CSM, 6)]


def test_informed_roles_get_one_digest_each_and_never_twice():
    mart = rows(handoff_row(1, informed_emails=AE), handoff_row(2, informed_emails=f"{AE};x@y.z"),
                handoff_row(3))
    plan = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    informed = {n.owner_email: n.signal_ids for n in plan.notices if n.kind == "informed"}
    assert informed == {AE: ("sig-00001", "sig-00002"), "x@y.z": ("sig-00002",)}
    told = {(s, e.lower()) for e, ids in informed.items() for s in ids}
    again = plan_sync(mart, plays(), committed(plan), AS_OF, SETTINGS, told)
    assert again.empty
    # told of one signal only: the other comes in the next digest
    partly = plan_sync(mart, plays(), committed(plan), AS_OF, SETTINGS,
                       {("sig-00001", AE)})
    assert [(n.kind, n.owner_email, n.signal_ids) for n in partly.notices] == [
        ("informed", AE, ("sig-00002",)), ("informed", "x@y.z", ("sig-00002",))]


def test_a_held_signal_is_recorded_and_worked_after_the_renewal():
    renewal = AS_OF + timedelta(days=10)
    held = rows(handoff_row(1, held_until=renewal, informed_emails=AE))
    plan = plan_sync(held, plays(), {}, AS_OF, SETTINGS)
    [record] = plan.writes
    assert record.kind == SIGNAL
    assert record.fields["held_until"] == renewal and record.fields["opportunity"] is None
    assert record.fields["backlog"] is False
    assert plan.notices == [] and plan.held == {"sig-00001": renewal}
    states = {s: SignalState(**{**vars(st), "held_until": renewal,
                                "sla_due": plan.rows[s].sla_due_on})
              for s, st in committed(plan).items()}
    # still held a week later: the record is kept up to date, nobody is told
    week = AS_OF + timedelta(days=7)
    later = plan_sync(rows(handoff_row(1, held_until=renewal, as_of=week)), plays(), states,
                      week, SETTINGS)
    assert [w.kind for w in later.writes] == [SIGNAL] and later.notices == []
    assert later.writes[0].fields["held_until"] == renewal
    # the day after the renewal the mart holds it no more: Opportunity, Task, alert; the SLA
    # runs from today, not from the episode start or the day it was recorded
    after = renewal + timedelta(days=1)
    released = plan_sync(rows(handoff_row(1, as_of=after, informed_emails=AE)), plays(), states,
                         after, SETTINGS)
    assert {w.kind for w in released.writes} == {OPPORTUNITY, SIGNAL, TASK}
    assert released.writes_of(TASK)[0].fields["due"] == after + timedelta(days=14)
    assert released.writes_of(SIGNAL)[0].fields["held_until"] is None
    assert [(n.kind, n.owner_email) for n in released.notices] == [
        ("signal", CSM), ("informed", AE)]


def test_a_signal_already_worked_is_not_held_when_renewal_planning_begins():
    first = plan_sync(rows(handoff_row(1)), plays(), {}, AS_OF, SETTINGS)
    states = committed(first)
    day = AS_OF + timedelta(days=1)
    plan = plan_sync(rows(handoff_row(1, as_of=day, held_until=day + timedelta(days=20))),
                     plays(), states, day, SETTINGS)
    assert all(w.fields.get("held_until") is None for w in plan.writes_of(SIGNAL))
    assert not plan.writes_of(TASK) and not plan.notices


# --- against the emulators --------------------------------------------------------------


def test_across_a_renewal_with_the_real_clients(mart, run_sync, salesforce_emulator,
                                                slack_emulator):
    for email in (AM, CSM, AE):
        salesforce_emulator.seed_user(email)
    am, csm, ae = (slack_emulator.seed_user(e) for e in (AM, CSM, AE))
    account = salesforce_emulator.seed_account("Globex")
    renewal = AS_OF + timedelta(days=12)
    row = dict(crm_account_id=account, account_name="Globex", evidence=json.dumps(SEAT_GROWTH))
    mart.write([handoff_row(1, held_until=renewal, informed_emails=AE, **row)])
    assert run_sync(as_of=AS_OF).status == "ok"
    [record] = salesforce_emulator.records("Expansion_Signal__c")
    assert record["Held_Until__c"] == renewal.isoformat()
    assert record["Responsible_Email__c"] == CSM and record["Backlog__c"] is False
    assert not salesforce_emulator.records("Task")
    assert not salesforce_emulator.records("Opportunity")
    assert not slack_emulator.messages()

    after = renewal + timedelta(days=1)
    mart.write([handoff_row(1, as_of=after, informed_emails=AE, **row)])
    assert run_sync(as_of=after).status == "ok"
    users = {u["Email"]: u["Id"] for u in salesforce_emulator.records("User")}
    [task] = salesforce_emulator.records("Task")
    [opportunity] = salesforce_emulator.records("Opportunity")
    assert task["OwnerId"] == users[CSM] and opportunity["OwnerId"] == users[AM]
    assert task["ActivityDate"] == (after + timedelta(days=14)).isoformat()
    assert "What to say: Your team now uses 46 of its 50 seats (92%)." in task["Description"]
    [record] = salesforce_emulator.records("Expansion_Signal__c")
    assert record["Held_Until__c"] is None
    [alert] = slack_emulator.messages_to(csm)
    blocks = str(alert["blocks"])
    assert f"<@{am}> is accountable and owns the Opportunity" in blocks
    assert "35% more seats in use than three months ago" in blocks
    assert "the last seat is taken in 4–5 weeks" in blocks
    [fyi] = slack_emulator.messages_to(ae)
    assert fyi["text"].startswith("For your information: 1 expansion signal on your accounts")
    assert f"worked by {CSM}" in str(fyi["blocks"])
    assert not slack_emulator.messages_to(am)  # mentioned, not messaged

    assert run_sync(as_of=after).status == "ok"  # nothing twice
    assert len(slack_emulator.messages()) == 2
    assert ledger_states(mart)["sig-00001"].held_until == renewal


def test_an_informed_person_without_slack_is_skipped_not_sent_to_the_fallback(
    mart, run_sync, slack_emulator, fallback_channel
):
    csm = slack_emulator.seed_user(CSM)
    mart.write([handoff_row(1, informed_emails="nobody@example.com")])
    result = run_sync(salesforce=None)
    assert result.status == "ok" and result.counts["slack.informed.skipped"] == 1
    assert len(slack_emulator.messages_to(csm)) == 1
    assert not slack_emulator.messages(fallback_channel)
    assert run_sync(salesforce=None).counts.get("slack.informed.skipped", 0) == 0


def test_a_talk_track_naming_an_unknown_figure_is_a_clear_error(mart):
    db = connect_duckdb(mart.path)
    try:
        db.execute("update marts.sync_plays set talk_track = 'You grew {seat_grwth}.' "
                   "where play_id = 'seat_expansion'")
        with pytest.raises(WarehouseError, match=r"talk_track of play seat_expansion .* "
                                                 r"\{seat_grwth\}, which no signal has"):
            read_plays(db)
    finally:
        db.close()


def test_the_preview_says_who_gets_what_and_what_waits():
    renewal = AS_OF + timedelta(days=10)
    plan = plan_sync(rows(handoff_row(1, informed_emails=AE), handoff_row(2, held_until=renewal)),
                     plays(), {}, AS_OF, SETTINGS)
    lines = plan_lines(plan)
    assert any(line.startswith("Slack messages: ") and line.endswith(
        "; 1 held for a renewal (recorded; alert and Task after it)") for line in lines)
    by_person = {line.split(":")[0].strip(): line for line in lines if line.startswith("  ")}
    assert by_person[AM].endswith("2 signal, 1 opportunity")  # the records, the Opportunity
    assert "1 task" in by_person[CSM] and "1 message(s)" in by_person[CSM]
    assert by_person[AE].endswith("1 informed digest")


def test_an_open_task_moves_to_the_responsible_owner_once():
    """A Task given to the accountable owner before the segment named a responsible role
    (or before the upgrade) is reassigned, and only its tracked fields are sent."""
    before = rows(handoff_row(1, responsible_email=AM, responsible_role="account_manager"))
    states = committed(plan_sync(before, plays(), {}, AS_OF, SETTINGS))
    plan = plan_sync(rows(handoff_row(1)), plays(), states, AS_OF, SETTINGS)
    [task] = plan.writes_of(TASK)
    assert task.fields["owner"] == Owner(CSM) and not task.full and task.reason == "update"
    assert not plan.writes_of(OPPORTUNITY) and not plan.notices
    assert plan_sync(rows(handoff_row(1)), plays(), committed(plan, states), AS_OF,
                     SETTINGS).empty
