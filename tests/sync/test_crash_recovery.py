"""A run stopped at every step, then run again: no duplicate record or message, nothing lost,
on each engine the sync reads (DuckDB, PostgreSQL, Spark with its ledger beside it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from expansion_signals.ledger import DELIVERY_NAMES, Ledger
from expansion_signals.readback import COLUMNS, TABLE
from tests.sync.conftest import AS_OF, ENGINES, OWNER, Mart, engine_mart, signal_row


@pytest.fixture(params=ENGINES)
def mart(request, tmp_path) -> Mart:
    return engine_mart(request.param, tmp_path, request)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so no handler treats it as an error."""


class CrashAt:
    def __init__(self, at: int | None) -> None:
        self.at = at
        self.seen: list[str] = []

    def __call__(self, name: str) -> None:
        self.seen.append(name)
        if self.at is not None and len(self.seen) - 1 == self.at:
            raise Crash(name)


def first_mart(account: str) -> list[dict]:
    rows = [signal_row(n, crm_account_id=account) for n in range(7)]  # a digest for OWNER
    rows += [signal_row(10 + n, owner_email="bo@example.com") for n in range(2)]
    rows.append(signal_row(20, owner_email=None))  # the fallback channel
    return rows


def second_mart(account: str) -> list[dict]:
    later = AS_OF + timedelta(days=31)
    rows = [signal_row(n, crm_account_id=account, as_of=later) for n in range(7)]
    rows[0]["urgency"] = "high"  # a reply in the digest's thread
    rows.append(signal_row(10, owner_email="bo@example.com", as_of=later, signal_count=4))
    return rows  # sig-00011 and sig-00020 left the mart past the cooldown: Resolved


def assert_exactly_once(mart, salesforce_emulator, slack_emulator, rows: list[dict]) -> None:
    for sobject, key in (("Expansion_Signal__c", "Signal_Id__c"),
                         ("Opportunity", "Expansion_Signal_Id__c"),
                         ("Task", "Expansion_Signal_Id__c")):
        counts = Counter(r[key] for r in salesforce_emulator.records(sobject))
        assert all(n == 1 for n in counts.values()), (sobject, counts)
    ids = {r["signal_id"] for r in rows}
    signals = {r["Signal_Id__c"] for r in salesforce_emulator.records("Expansion_Signal__c")}
    assert ids <= signals
    notices = Counter(m["metadata"]["event_payload"]["notice_id"]
                      for m in slack_emulator.messages() if m.get("metadata"))
    assert all(n == 1 for n in notices.values()), notices
    db = mart.connect()
    try:
        ledger = Ledger(db.ledger_db)
        states = ledger.load_states()
        assert ledger.pending_intents() == []
        if db.ledger_db is not db:  # what the models read of the ledger is in the warehouse
            published = db.execute(f"select {', '.join(COLUMNS)} from {TABLE}")
            kept = db.ledger_db.execute(f"select {', '.join(COLUMNS)} from {TABLE}")
            assert published and sorted(published) == sorted(kept)
            delivered = db.execute(f"select {DELIVERY_NAMES} from expansion_sync.signal_state")
            assert sorted(delivered) == sorted(ledger.deliveries()) and len(delivered) >= len(ids)
    finally:
        db.close()
    posted = {m["ts"] for m in slack_emulator.messages()}
    for signal_id in ids:
        assert states[signal_id].slack_ts in posted, signal_id
        assert states[signal_id].sf_signal_id and states[signal_id].sf_task_id
    # Every Opportunity is read back as it stands now.
    opportunities = {r["Id"]: r["LastModifiedDate"]
                     for r in salesforce_emulator.records("Opportunity")}
    read_back = mart.query("select opportunity_id, last_modified_at "
                           "from expansion_sync.opportunity_readback")
    assert opportunities and {o: f"{m:%Y-%m-%dT%H:%M:%S.%f}"[:23] + "+0000"
                              for o, m in read_back} == opportunities


def setup(salesforce_emulator, slack_emulator, settings):
    salesforce_emulator.reset()
    slack_emulator.reset()
    salesforce_emulator.seed_user(OWNER)
    salesforce_emulator.seed_user("bo@example.com")
    slack_emulator.seed_user(OWNER)
    slack_emulator.seed_user("bo@example.com")
    fallback = slack_emulator.seed_channel("expansion-signals")
    return salesforce_emulator.seed_account("Acme"), replace(
        settings.slack, fallback_channel=fallback, ops_channel="")


@pytest.mark.parametrize("phase", ["first run", "second run"])
def test_a_crash_at_every_step_then_a_rerun_neither_duplicates_nor_loses(
    phase, mart, run_sync, salesforce_emulator, slack_emulator, settings
):
    def prepare() -> tuple[str, object]:
        account, slack_settings = setup(salesforce_emulator, slack_emulator, settings)
        mart.query("drop schema if exists expansion_sync cascade")
        mart.write(first_mart(account))
        if phase == "second run":
            assert run_sync(slack=slack_settings).status == "ok"
            mart.write(second_mart(account))
        return account, slack_settings

    account, slack_settings = prepare()
    clean = CrashAt(None)
    assert run_sync(slack=slack_settings, checkpoint=clean,
                    as_of=None).status == "ok"
    steps = clean.seen
    assert len(steps) > 5
    for at, step in enumerate(steps):
        account, slack_settings = prepare()
        with pytest.raises(Crash):
            run_sync(slack=slack_settings, checkpoint=CrashAt(at))
        rerun = run_sync(slack=slack_settings)
        assert rerun.status == "ok", (step, rerun.error, rerun.failures)
        rows = first_mart(account) if phase == "first run" else second_mart(account)
        assert_exactly_once(mart, salesforce_emulator, slack_emulator, rows)
        if phase == "second run":
            resolved = {r["Signal_Id__c"]: r["Status__c"]
                        for r in salesforce_emulator.records("Expansion_Signal__c")}
            assert resolved["sig-00011"] == resolved["sig-00020"] == "Resolved", step
            replies = [m for m in slack_emulator.messages()
                       if m.get("thread_ts") not in (None, m["ts"])]
            assert len(replies) == 1, step
        salesforce_emulator.reset_counters()
        sent = len(slack_emulator.messages())
        quiet = run_sync(slack=slack_settings)
        assert quiet.plan is not None and quiet.plan.empty, step
        assert salesforce_emulator.write_count() == 0 and len(slack_emulator.messages()) == sent
