"""The sync reading the mart from, and keeping its ledger in, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from expansion_dev.marts import write_sync_marts

from expansion_signals.engine import SyncRun
from expansion_signals.ledger import Ledger, LockHeld
from expansion_signals.mapping import load_mapping
from expansion_signals.readback import ReadBack
from expansion_signals.warehouse import SIGNAL_COLUMNS, Database, connect_postgres
from tests.support.postgres import PostgresServer
from tests.sync.conftest import AS_OF, OWNER, signal_row


@pytest.fixture
def server(postgres_server: PostgresServer) -> PostgresServer:
    return postgres_server


@pytest.fixture
def warehouse(server: PostgresServer) -> Iterator[Database]:
    db = connect_postgres(server.env())
    db.execute("drop schema if exists expansion_sync cascade")
    db.execute("drop schema if exists marts cascade")
    write_sync_marts(db.execute, AS_OF)
    rows = [signal_row(n) for n in range(3)] + [signal_row(3, account_name="O'Hare & <Co>")]
    db.insert_rows("insert into marts.expansion_signals",
                   [[r[c] for c in SIGNAL_COLUMNS] for r in rows])
    yield db
    db.close()


def test_sync_on_postgres_writes_once_and_then_nothing(warehouse, settings, connection,
                                                       slack, salesforce_emulator,
                                                       slack_emulator, fallback_channel):
    def run():
        return SyncRun(warehouse, settings, load_mapping(), connection, slack).run()

    first = run()
    assert first.status == "ok", (first.error, first.failures)
    assert len(salesforce_emulator.records("Expansion_Signal__c")) == 4
    assert len(slack_emulator.messages(fallback_channel)) == 4
    states = Ledger(warehouse).load_states()
    assert all(s.sf_signal_id and s.slack_ts for s in states.values())
    salesforce_emulator.reset_counters()
    again = run()
    assert again.plan is not None and again.plan.empty
    assert [c.kind for c in salesforce_emulator.calls()] == ["query"]  # the read-back
    assert len(slack_emulator.messages()) == 4


def test_lock_on_postgres(warehouse):
    ledger = Ledger(warehouse)
    ledger.ensure_schema()
    ledger.acquire_lock("a", timeout_minutes=60)
    with pytest.raises(LockHeld):
        ledger.acquire_lock("b", timeout_minutes=60)
    ledger.release_lock("a")
    ledger.acquire_lock("b", timeout_minutes=60)


def test_slack_recipients_are_remembered_on_postgres(warehouse, settings, slack,
                                                     slack_emulator, fallback_channel):
    def run():
        return SyncRun(warehouse, settings, load_mapping(), None, slack).run()

    def lookups() -> int:
        return sum(1 for c in slack_emulator.calls()
                   if c.kind in ("users.lookupByEmail", "conversations.open"))

    user = slack_emulator.seed_user(OWNER)
    assert run().status == "ok"
    assert lookups() == 2
    warehouse.insert_rows("insert into marts.expansion_signals",
                          [[signal_row(10)[c] for c in SIGNAL_COLUMNS]])
    assert run().status == "ok"
    assert lookups() == 2 and len(slack_emulator.messages_to(user)) == 5
    warehouse.execute("update expansion_sync.slack_recipients "
                      "set looked_up_at = looked_up_at - interval '8 days'")
    warehouse.insert_rows("insert into marts.expansion_signals",
                          [[signal_row(11)[c] for c in SIGNAL_COLUMNS]])
    assert run().status == "ok"
    assert lookups() == 4
    assert warehouse.execute("select owner_email, user_id from expansion_sync.slack_recipients"
                             ) == [(OWNER, user)]



def test_read_back_on_postgres(warehouse, settings, connection, salesforce_emulator, sf_client):
    account = salesforce_emulator.seed_account("Acme")
    warehouse.execute("update marts.expansion_signals set crm_account_id = ?", [account])

    def run():
        return SyncRun(warehouse, settings, load_mapping(), connection, None).run()

    def stored() -> dict[str, tuple]:
        return {r[0]: r[1:] for r in warehouse.execute(
            "select expansion_signal_id, account_id, motion, stage_name, is_closed, is_won, "
            "amount, close_date from expansion_sync.opportunity_readback")}

    assert SyncRun(warehouse, settings, load_mapping(), connection, None,
                   dry_run=True).run().readback is None
    assert not warehouse.table_exists("expansion_sync", "opportunity_readback")
    first = run()
    assert first.status == "ok" and first.readback == ReadBack(read=4, won=0)
    assert stored()["sig-00002"] == ("acc-00002", "seat", "Prospecting", False, False, None,
                                     date(2027, 2, 8))
    opportunity = salesforce_emulator.find("Opportunity", "Expansion_Signal_Id__c", "sig-00002")
    sf_client.Opportunity.update(opportunity[0]["Id"], {"StageName": "Closed Won",
                                                        "Amount": 31000.5})
    second = run()
    assert second.status == "ok" and second.readback == ReadBack(read=1, won=1)
    assert stored()["sig-00002"][2:6] == ("Closed Won", True, True, 31000.5)
    assert run().readback == ReadBack(read=0, won=0)
    assert len(stored()) == 4
