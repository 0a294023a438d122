"""The whole loop on a real demo warehouse: dbt build, then the sync into the emulators."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from expansion_dev.demo_data import GeneratorOptions, generate
from expansion_dev.demo_emulators import seed_from_mart

from expansion_signals.config import SalesforceSettings, SlackSettings, SyncSettings
from expansion_signals.connections import connect_salesforce, connect_slack
from expansion_signals.dbt import BuildOptions, run_dbt
from expansion_signals.engine import SyncRun
from expansion_signals.errors import RetryPolicy
from expansion_signals.ledger import Ledger
from expansion_signals.mapping import load_mapping
from expansion_signals.project import seeds_dir
from expansion_signals.warehouse import connect_duckdb

AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    generate(path, GeneratorOptions(accounts=200, days=400, as_of=AS_OF, seed=11,
                                    events=200_000), seeds_dir())
    patch = pytest.MonkeyPatch()
    patch.setenv("EXPANSION_DUCKDB_PATH", str(path))
    try:
        # Seeds and models only: the models' own tests belong to tests/models.
        run_dbt("seed", BuildOptions(as_of=AS_OF, full_refresh=True))
        run_dbt("run", BuildOptions(as_of=AS_OF, full_refresh=True))
    finally:
        patch.undo()
    return path


def test_built_mart_lands_once_in_salesforce_and_slack(built, salesforce_emulator,
                                                        slack_emulator, sf_client, monkeypatch):
    # the org's clock stands on the warehouse's as_of, as on the day of a scheduled run
    salesforce_emulator.org.clock = lambda: datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    fallback = slack_emulator.seed_channel("expansion-signals")
    settings = SyncSettings(
        salesforce=SalesforceSettings(
            instance_url=salesforce_emulator.instance_url,
            access_token=salesforce_emulator.session_id, ca_bundle=salesforce_emulator.ca_path),
        slack=SlackSettings(bot_token=slack_emulator.bot_token, api_url=slack_emulator.base_url,
                            fallback_channel=fallback),
        bulk_poll_seconds=0, retry=RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05),
    )

    def sync():
        db = connect_duckdb(built)
        try:
            return SyncRun(db, settings, load_mapping(), connect_salesforce(settings.salesforce),
                           connect_slack(settings.slack)).run()
        finally:
            db.close()

    db = connect_duckdb(built)
    try:
        seed_from_mart(db, salesforce_emulator, slack_emulator)
        signals = db.execute("select signal_id from marts.expansion_signals")
    finally:
        db.close()
    assert len(signals) > 20
    first = sync()
    assert first.status == "ok", first.failures[:3]
    landed = Counter(r["Signal_Id__c"] for r in salesforce_emulator.records("Expansion_Signal__c"))
    assert set(landed) == {s for (s,) in signals} and set(landed.values()) == {1}
    db = connect_duckdb(built)
    try:
        states = Ledger(db).load_states()
    finally:
        db.close()
    # Backlog past each owner's top five stays records only, and a signal held for its
    # account's renewal waits (no Task, no mention yet).
    worked = {s for (s,) in signals
              if states[s].backlog != "record" and states[s].held_until is None}
    assert len(worked) < len(signals)
    assert {t["Expansion_Signal_Id__c"] for t in salesforce_emulator.records("Task")} == worked
    messages = slack_emulator.messages()

    def is_informed(message: dict) -> bool:
        return message["metadata"]["event_payload"]["notice_id"].startswith("informed:")

    covered = sum(m["metadata"]["event_payload"]["signals"] for m in messages
                  if not is_informed(m))
    assert covered == len(worked)
    assert any(is_informed(m) for m in messages)
    salesforce_emulator.reset_counters()
    sent = len(slack_emulator.messages())
    again = sync()
    assert again.status == "ok" and again.plan is not None and again.plan.empty
    assert salesforce_emulator.write_count() == 0 and len(slack_emulator.messages()) == sent

    # Closing the loop: an Opportunity the sync opened is won in the CRM; the next run
    # reads it back and the next build counts it as its own signal's conversion.
    opportunity = salesforce_emulator.records("Opportunity")[0]
    signal_id = opportunity["Expansion_Signal_Id__c"]
    assert sf_client.Opportunity.update(opportunity["Id"], {
        "StageName": "Closed Won", "Amount": 31000, "CloseDate": "2026-11-24"}) == 204
    third = sync()
    assert third.status == "ok" and third.readback.won == 1, third.failures[:3]
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(built))
    run_dbt("run", BuildOptions(as_of=AS_OF, select=("stg_opportunities+",)))
    db = connect_duckdb(built)
    try:
        outcome = db.execute(
            "select converted, expansion_amount from intermediate.int_episode_outcomes "
            "where signal_id = ?", [signal_id])
        exact = db.execute(
            "select is_exact from intermediate.int_opportunity_matches "
            "where opportunity_id = ?", [opportunity["Id"]])
    finally:
        db.close()
    assert outcome == [(True, 31000.0)]
    assert exact == [(True,)]

