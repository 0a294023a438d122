"""The planner on its own: two tables in, a plan out, no server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from expansion_dev.marts import seed_plays

from expansion_signals.config import load_settings
from expansion_signals.engine import plan_settings
from expansion_signals.mapping import load_mapping
from expansion_signals.plan import plan_sync
from expansion_signals.types import (
    OPPORTUNITY,
    SIGNAL,
    TASK,
    Owner,
    Play,
    Ref,
    SignalRow,
    SignalState,
)
from tests.sync.conftest import AS_OF, as_signal, signal_row

SETTINGS = plan_settings(load_settings({}), load_mapping(), cooldown_days=30)


def rows(*dicts: dict) -> list[SignalRow]:
    return [as_signal(d) for d in dicts]


def plays() -> dict[str, Play]:
    return {row[0]: Play(*row) for row in seed_plays()}


def committed(plan, states=None) -> dict[str, SignalState]:
    """The state a fully acknowledged apply of `plan` leaves behind."""
    states = dict(states or {})
    for write in plan.writes:
        state = states.get(write.signal_id) or SignalState(write.signal_id)
        if write.kind == SIGNAL:
            state = replace(state, signal_hash=write.hash, sf_signal_id="a0B" + write.signal_id,
                            status="Resolved" if write.reason == "resolve" else "Open")
        elif write.kind == OPPORTUNITY:
            state = replace(state, opportunity_hash=write.hash,
                            sf_opportunity_id="006" + write.signal_id)
        else:
            state = replace(state, task_hash=write.hash, sf_task_id="00T" + write.signal_id)
        states[write.signal_id] = state
    for notice in plan.notices:
        for signal_id in notice.signal_ids:
            row = plan.rows[signal_id]
            state = states.get(signal_id) or SignalState(signal_id)
            states[signal_id] = replace(state, slack_channel="D1", slack_ts="1.0",
                                        slack_urgency=row.urgency)
    for signal_id, row in plan.rows.items():
        states[signal_id] = replace(states[signal_id], last_seen=row.as_of)
    return states


def test_new_signal_plans_signal_opportunity_task_and_one_message():
    mart = rows(signal_row(1, crm_account_id="001000000000001AAA"))
    plan = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    assert [(w.kind, w.reason) for w in plan.writes] == [
        (OPPORTUNITY, "create"), (SIGNAL, "create"), (TASK, "create")]
    task = plan.writes_of(TASK)[0]
    assert task.fields["due"] == AS_OF + timedelta(days=14)
    assert task.fields["what"] == Ref(OPPORTUNITY, "sig-00001")
    assert task.fields["owner"] == Owner("ana@example.com")
    assert task.fields["priority"] == "Normal"
    opportunity = plan.writes_of(OPPORTUNITY)[0]
    assert opportunity.fields["close_date"] == AS_OF - timedelta(days=14) + timedelta(days=90)
    assert opportunity.fields["stage"] == "Prospecting"
    assert [(n.kind, n.signal_ids) for n in plan.notices] == [("signal", ("sig-00001",))]


def test_no_opportunity_without_crm_account_or_when_the_play_opens_none():
    mart = rows(signal_row(1), signal_row(2, crm_account_id="001000000000001AAA",
                                          play_id="outcome_cross_sell", motion="cross_sell"))
    plan = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    assert plan.writes_of(OPPORTUNITY) == []
    assert {w.fields["what"] for w in plan.writes_of(TASK)} == {
        Ref(SIGNAL, "sig-00001"), Ref(SIGNAL, "sig-00002")}


def test_same_mart_against_its_own_committed_state_plans_nothing():
    mart = rows(*(signal_row(n, crm_account_id=f"001{n:015d}") for n in range(8)))
    first = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    again = plan_sync(mart, plays(), committed(first), AS_OF, SETTINGS)
    assert again.empty and again.unchanged == 8


def test_changed_field_updates_only_the_signal():
    mart = rows(signal_row(1, crm_account_id="001000000000001AAA"))
    state = committed(plan_sync(mart, plays(), {}, AS_OF, SETTINGS))
    changed = rows(signal_row(1, crm_account_id="001000000000001AAA", signal_count=3))
    plan = plan_sync(changed, plays(), state, AS_OF, SETTINGS)
    assert [(w.kind, w.reason) for w in plan.writes] == [(SIGNAL, "update")]
    assert plan.writes[0].fields["signal_count"] == 3


def test_owner_change_moves_opportunity_and_task_but_never_resets_stage_or_status():
    mart = rows(signal_row(1, crm_account_id="001000000000001AAA"))
    state = committed(plan_sync(mart, plays(), {}, AS_OF, SETTINGS))
    moved = rows(signal_row(1, crm_account_id="001000000000001AAA", owner_email="bo@example.com"))
    plan = plan_sync(moved, plays(), state, AS_OF, SETTINGS)
    by_kind = {w.kind: w for w in plan.writes}
    assert by_kind[OPPORTUNITY].fields == {"owner": Owner("bo@example.com")}
    assert not by_kind[OPPORTUNITY].full
    assert set(by_kind[TASK].fields) == {"owner", "due", "priority", "what"}


def test_left_signal_resolves_only_after_the_cooldown():
    mart = rows(signal_row(1))
    state = committed(plan_sync(mart, plays(), {}, AS_OF, SETTINGS))
    settings = replace(SETTINGS, cooldown_days=30)
    within = plan_sync([], plays(), state, AS_OF + timedelta(days=30), settings)
    assert within.empty  # it may still come back under the same id
    past = plan_sync([], plays(), state, AS_OF + timedelta(days=31), settings)
    assert [(w.kind, w.reason, w.fields) for w in past.writes] == [
        (SIGNAL, "resolve", {"status": "Resolved"})]
    assert past.notices == []


def test_left_signal_never_written_is_resolved_locally():
    state = {"sig-9": SignalState("sig-9", last_seen=AS_OF - timedelta(days=40))}
    plan = plan_sync([], plays(), state, AS_OF, SETTINGS)
    assert plan.writes == [] and plan.resolved_locally == ["sig-9"]


def test_urgency_rise_is_one_reply_in_the_first_thread_and_a_fall_is_silent():
    mart = rows(signal_row(1, urgency="medium"))
    state = committed(plan_sync(mart, plays(), {}, AS_OF, SETTINGS))
    risen = plan_sync(rows(signal_row(1, urgency="high")), plays(), state, AS_OF, SETTINGS)
    [notice] = risen.notices
    assert (notice.kind, notice.previous_urgency, notice.urgency) == (
        "escalation", "medium", "high")
    assert (notice.thread_channel, notice.thread_ts) == ("D1", "1.0")
    fallen = plan_sync(rows(signal_row(1, urgency="low")), plays(), state, AS_OF, SETTINGS)
    assert fallen.notices == []


def test_more_than_the_threshold_of_new_signals_is_one_digest_per_owner():
    five = rows(*(signal_row(n) for n in range(5)))
    assert {n.kind for n in plan_sync(five, plays(), {}, AS_OF, SETTINGS).notices} == {"signal"}
    six = rows(*(signal_row(n) for n in range(6)), signal_row(9, owner_email="bo@example.com"))
    notices = plan_sync(six, plays(), {}, AS_OF, SETTINGS).notices
    assert sorted((n.kind, n.owner_email, len(n.signal_ids)) for n in notices) == [
        ("digest", "ana@example.com", 6), ("signal", "bo@example.com", 1)]


def test_record_that_failed_before_is_planned_again_as_a_retry():
    mart = rows(signal_row(1))
    state = {"sig-00001": SignalState("sig-00001", sf_error="signal: STRING_TOO_LONG: x")}
    plan = plan_sync(mart, plays(), state, AS_OF, SETTINGS)
    assert {w.reason for w in plan.writes} == {"retry"}


def test_long_account_name_fits_the_opportunity_name():
    mart = rows(signal_row(1, crm_account_id="001000000000001AAA", account_name="N" * 300))
    [opportunity] = plan_sync(mart, plays(), {}, AS_OF, SETTINGS).writes_of(OPPORTUNITY)
    assert len(opportunity.fields["name"]) == 120


# --- the SLA clock, the backlog and the volume guard ---------------------------------------


def test_sla_of_a_signal_delivered_by_the_day_after_its_start_is_the_marts():
    from expansion_signals.plan import resolve_sla_due

    start = AS_OF - timedelta(days=1)
    row = as_signal(signal_row(1, episode_start=start, sla_due_on=start + timedelta(14)))
    assert resolve_sla_due(row, 14, AS_OF) == start + timedelta(14)  # delivered start + 1
    assert resolve_sla_due(row, 14, start) == start + timedelta(14)  # on the start itself


def test_sla_of_a_signal_delivered_two_days_after_its_start_runs_from_delivery():
    from expansion_signals.plan import resolve_sla_due

    start = AS_OF - timedelta(days=2)
    row = as_signal(signal_row(1, episode_start=start, sla_due_on=start + timedelta(14)))
    assert resolve_sla_due(row, 7, AS_OF) == AS_OF + timedelta(7)


def test_sla_date_resolved_once_is_kept_on_later_runs():
    start = AS_OF - timedelta(days=40)
    mart = rows(signal_row(1, crm_account_id="001000000000001AAA", episode_start=start,
                           sla_due_on=start + timedelta(14)))
    first = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    due = AS_OF + timedelta(14)
    assert first.rows["sig-00001"].sla_due_on == due
    [task] = first.writes_of(TASK)
    assert task.fields["due"] == due
    state = committed(first)
    state = {s: replace(v, sla_due=first.rows[s].sla_due_on, backlog=first.backlog[s])
             for s, v in state.items()}
    later = AS_OF + timedelta(days=5)
    moved = [replace(r, as_of=later) for r in mart]
    second = plan_sync(moved, plays(), state, later, SETTINGS)
    assert second.rows["sig-00001"].sla_due_on == due
    assert [w.kind for w in second.writes] == [SIGNAL]  # only Last_Seen__c


def test_backlog_top_five_per_owner_by_rank_rest_records_only():
    start = AS_OF - timedelta(days=31)
    mart = rows(*(signal_row(n, crm_account_id=f"001{n:015d}", episode_start=start,
                             priority_rank=8 - n) for n in range(8)))
    plan = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    top = {f"sig-{n:05d}" for n in (3, 4, 5, 6, 7)}  # ranks 5, 4, 3, 2, 1
    assert {w.signal_id for w in plan.writes_of(OPPORTUNITY)} == top
    assert {w.signal_id for w in plan.writes_of(TASK)} == top
    assert len(plan.writes_of(SIGNAL)) == 8
    assert all(w.fields["opportunity"] is None for w in plan.writes_of(SIGNAL)
               if w.signal_id not in top)
    [digest] = plan.notices
    assert digest.kind == "backlog"
    assert digest.signal_ids == tuple(f"sig-{n:05d}" for n in (7, 6, 5, 4, 3))
    # Thirty days old is not yet backlog.
    fresh = plan_sync(rows(signal_row(1, episode_start=AS_OF - timedelta(30))), plays(), {},
                      AS_OF, SETTINGS)
    assert fresh.backlog == {"sig-00001": None}


def test_record_only_backlog_stays_records_only_later():
    start = AS_OF - timedelta(days=60)
    mart = rows(*(signal_row(n, crm_account_id=f"001{n:015d}", episode_start=start)
                  for n in range(7)))
    first = plan_sync(mart, plays(), {}, AS_OF, SETTINGS)
    state = {s: replace(v, sla_due=first.rows[s].sla_due_on, backlog=first.backlog[s])
             for s, v in committed(first).items()}
    second = plan_sync(mart, plays(), state, AS_OF, SETTINGS)
    assert second.empty and second.unchanged == 7


def test_volume_check_limit_and_median():
    from expansion_signals.plan import volume_check

    assert volume_check(200, [], 200) is None
    assert "limit of 200" in (volume_check(201, [], 200) or "")
    assert volume_check(40, [10] * 9, 200) is None  # fewer than ten runs: the limit only
    assert volume_check(30, [10] * 10, 200) is None
    assert "median" in (volume_check(31, [10] * 10, 200) or "")
    assert volume_check(10, [0] * 10, 200) is None  # quiet days: the floor
    assert volume_check(11, [0] * 10, 200) is not None
