"""The sync never lets the window create a second signal for one episode.

A full refresh, a changed `expansion_history_days` or a rebuilt warehouse can
compute a later episode start, so a new signal_id, for a key the destinations
already know. Such a row is the known signal: same record, Opportunity, Task
and thread, no new message.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date, timedelta

from expansion_signals.ledger import Ledger
from expansion_signals.plan import adopt_open_signals
from expansion_signals.types import OPEN, RESOLVED, SignalRow, SignalState
from expansion_signals.warehouse import connect_duckdb
from tests.sync.conftest import AS_OF, OWNER, ledger_states, signal_row
from tests.sync.test_plan import rows

START = AS_OF - timedelta(days=500)


def mart_id(account: str, start: date, product: str = "") -> str:
    text = f"{account}|seat_expansion|{product}|{start.isoformat()}"
    return hashlib.md5(text.encode()).hexdigest()


def rows_on(day: date, start: date, accounts: range) -> list[dict]:
    """Seat signals of several accounts, firing since `start`, as the mart shows them on day."""
    rows = []
    for n in accounts:
        account = f"acc-{n:05d}"
        rows.append(signal_row(n, signal_id=mart_id(account, start), account_id=account,
                               episode_start=start, sla_due_on=start + timedelta(days=14),
                               as_of=day))
    return rows


def everything(salesforce_emulator, slack_emulator) -> dict[str, int]:
    return {
        "signals": len(salesforce_emulator.records("Expansion_Signal__c")),
        "opportunities": len(salesforce_emulator.records("Opportunity")),
        "tasks": len(salesforce_emulator.records("Task")),
        "messages": len(slack_emulator.messages()),
    }


def test_a_full_refresh_that_moves_episode_starts_creates_nothing(
    mart, run_sync, salesforce_emulator, slack_emulator
):
    account = salesforce_emulator.seed_account("Acme")
    salesforce_emulator.seed_user(OWNER)
    slack_emulator.seed_user(OWNER)
    first = rows_on(AS_OF, START, range(3))
    for row in first:
        row["crm_account_id"] = account
    mart.write(first)
    assert run_sync(as_of=AS_OF).status == "ok"
    before = everything(salesforce_emulator, slack_emulator)
    # Begun 500 days ago: backlog when first seen, so one backlog digest for the owner.
    assert before == {"signals": 3, "opportunities": 3, "tasks": 3, "messages": 1}
    tasks_due = {t["Expansion_Signal_Id__c"]: t["ActivityDate"]
                 for t in salesforce_emulator.records("Task")}

    # A full refresh the next day: the window's first day is now the start, so new ids.
    next_day = AS_OF + timedelta(days=1)
    recomputed_start = next_day - timedelta(days=399)
    second = rows_on(next_day, recomputed_start, range(3))
    for row in second:
        row["crm_account_id"] = account
    second[0]["urgency"] = "high"  # an urgency rise still reaches the same thread
    mart.write(second)
    result = run_sync(as_of=next_day)

    assert result.status == "ok"
    assert result.counts["signal.adopted"] == 3
    after = everything(salesforce_emulator, slack_emulator)
    assert {k: after[k] for k in ("signals", "opportunities", "tasks")} == {
        "signals": 3, "opportunities": 3, "tasks": 3}
    replies = [m for m in slack_emulator.messages()
               if m.get("thread_ts") and m["thread_ts"] != m["ts"]]
    assert after["messages"] == 2 and len(replies) == 1  # one follow-up in the thread
    records = {r["Signal_Id__c"]: r for r in salesforce_emulator.records("Expansion_Signal__c")}
    assert set(records) == {r["signal_id"] for r in first}
    assert all(r["Last_Seen__c"] == next_day.isoformat() for r in records.values())
    assert all(r["Episode_Start__c"] == START.isoformat() for r in records.values())
    assert all(r["Status__c"] == OPEN for r in records.values())
    assert {t["Expansion_Signal_Id__c"]: t["ActivityDate"]
            for t in salesforce_emulator.records("Task")} == tasks_due
    # Nothing about the new ids was kept: the next day plans nothing again.
    assert set(ledger_states(mart)) == {r["signal_id"] for r in first}
    third_day = next_day + timedelta(days=1)
    third_rows = rows_on(third_day, recomputed_start, range(3))
    for row in third_rows:
        row["crm_account_id"] = account
    third_rows[0]["urgency"] = "high"
    mart.write(third_rows)
    third = run_sync(as_of=third_day)
    assert third.status == "ok" and third.counts["signal.adopted"] == 3
    assert everything(salesforce_emulator, slack_emulator) == after


def test_a_shorter_history_window_creates_nothing(mart, run_sync, salesforce_emulator,
                                                  slack_emulator):
    """expansion_history_days 400 -> 200 and a rebuild: every start moves by 200 days."""
    slack_emulator.seed_user(OWNER)
    mart.write(rows_on(AS_OF, START, range(8)))  # more than the digest threshold: one digest
    assert run_sync(as_of=AS_OF).status == "ok"
    before = everything(salesforce_emulator, slack_emulator)
    mart.write(rows_on(AS_OF, AS_OF - timedelta(days=199), range(8)))
    result = run_sync(as_of=AS_OF)
    assert result.status == "ok" and result.counts["signal.adopted"] == 8
    assert everything(salesforce_emulator, slack_emulator) == before
    kinds = Counter(op.action for op in result_operations(mart) if op.outcome == "ok")
    assert kinds["adopt.signal"] == 8


def result_operations(mart):
    db = connect_duckdb(mart.path)
    try:
        return Ledger(db).operations()
    finally:
        db.close()


def _state(signal_id: str, *, status: str = OPEN, last_seen: date = AS_OF,
           account: str = "acc-00001", start: date = START) -> SignalState:
    return SignalState(signal_id, status=status, last_seen=last_seen, account_id=account,
                       play_id="seat_expansion", product="", episode_start=start)


def _row(signal_id: str, start: date, account: str = "acc-00001") -> SignalRow:
    return rows(signal_row(1, signal_id=signal_id, account_id=account, episode_start=start,
                           sla_due_on=start + timedelta(days=14)))[0]


def test_adoption_only_within_the_cooldown_and_only_of_open_signals():
    moved = START + timedelta(days=100)
    cases = {
        "open, seen 30 days ago": (_state("old", last_seen=AS_OF - timedelta(days=30)), "old"),
        "open, seen 31 days ago": (_state("old", last_seen=AS_OF - timedelta(days=31)), "new"),
        "resolved": (_state("old", status=RESOLVED), "new"),
        "another account": (_state("old", account="acc-00002"), "new"),
    }
    for name, (state, expected) in cases.items():
        rows, adopted = adopt_open_signals([_row("new", moved)], {"old": state}, AS_OF, 30)
        assert rows[0].signal_id == expected, name
        assert (adopted == {"new": "old"}) == (expected == "old"), name
    rows, _ = adopt_open_signals([_row("new", moved)], {"old": _state("old")}, AS_OF, 30)
    assert rows[0].episode_start == START
    assert rows[0].sla_due_on == START + timedelta(days=14)


def test_a_row_whose_id_is_known_or_whose_key_is_still_in_the_mart_keeps_its_id():
    known = {"new": _state("new", start=START + timedelta(days=1)), "old": _state("old")}
    rows, adopted = adopt_open_signals([_row("new", START + timedelta(days=1))], known, AS_OF, 30)
    assert rows[0].signal_id == "new" and not adopted
    # Two rows of one key cannot come from the mart; an old id still in the mart is not free.
    rows, adopted = adopt_open_signals(
        [_row("old", START), _row("new", START + timedelta(days=1), account="acc-00001")],
        {"old": _state("old")}, AS_OF, 30)
    assert [r.signal_id for r in rows] == ["old", "new"] and not adopted
