"""The sync against the Salesforce emulator, through simple-salesforce."""

from __future__ import annotations

from datetime import timedelta

from expansion_dev.emulators import faults

from expansion_signals.salesforce_writer import OutgoingRecord, bulk_csv_parts
from expansion_signals.types import RecordWrite
from tests.sync.conftest import AS_OF, OWNER, ledger_states, signal_row

SIGNAL, OPP, TASK = "Expansion_Signal__c", "Opportunity", "Task"


def by_key(records: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in records}


def test_first_run_creates_exactly_the_expected_records(mart, run_sync, salesforce_emulator):
    owner = salesforce_emulator.seed_user(OWNER)
    account = salesforce_emulator.seed_account("Acme")
    mart.write([
        signal_row(1, crm_account_id=account, urgency="high"),
        signal_row(2, crm_account_id=account, play_id="outcome_cross_sell",
                   motion="cross_sell", product="analytics"),
        signal_row(3, owner_email="nobody@example.com"),
    ])
    result = run_sync(slack_client=None)
    assert result.status == "ok" and result.exit_code == 0
    signals = by_key(salesforce_emulator.records(SIGNAL), "Signal_Id__c")
    opportunities = by_key(salesforce_emulator.records(OPP), "Expansion_Signal_Id__c")
    tasks = by_key(salesforce_emulator.records(TASK), "Expansion_Signal_Id__c")
    assert sorted(signals) == sorted(tasks) == ["sig-00001", "sig-00002", "sig-00003"]
    assert sorted(opportunities) == ["sig-00001"]  # the play opens one and there is an account
    first = signals["sig-00001"]
    assert (first["Status__c"], first["Urgency__c"], first["Account__c"]) == (
        "Open", "high", account)
    assert first["Opportunity__c"] == opportunities["sig-00001"]["Id"]
    assert first["Evidence__c"] == "46 of 50 seats assigned (92%) for 14 days"
    assert signals["sig-00002"]["Product__c"] == "analytics"
    opportunity = opportunities["sig-00001"]
    assert (opportunity["OwnerId"], opportunity["AccountId"], opportunity["StageName"]) == (
        owner, account, "Prospecting")
    assert opportunity["CloseDate"] == (AS_OF - timedelta(days=14) + timedelta(90)).isoformat()
    due = (AS_OF + timedelta(days=14)).isoformat()
    assert {t["ActivityDate"] for t in tasks.values()} == {due}
    assert tasks["sig-00001"]["WhatId"] == opportunity["Id"]
    assert tasks["sig-00002"]["WhatId"] == signals["sig-00002"]["Id"]
    assert tasks["sig-00001"]["Priority"] == "High" and tasks["sig-00002"]["Priority"] == "Normal"
    assert tasks["sig-00001"]["OwnerId"] == owner
    # No Salesforce user for the email: the integration user owns the task.
    assert tasks["sig-00003"]["OwnerId"] == salesforce_emulator.integration_user_id
    # One owner query, one collection call per object, then the read-back query.
    kinds = [c.kind for c in salesforce_emulator.calls()]
    assert kinds == ["query", "composite.upsert", "composite.upsert", "composite.upsert",
                     "query"]


def test_second_run_without_change_makes_no_write_call(mart, run_sync, salesforce_emulator):
    salesforce_emulator.seed_user(OWNER)
    account = salesforce_emulator.seed_account("Acme")
    mart.write([signal_row(n, crm_account_id=account) for n in range(5)])
    assert run_sync(slack_client=None).status == "ok"
    salesforce_emulator.reset_counters()
    again = run_sync(slack_client=None)
    assert again.status == "ok" and again.plan is not None and again.plan.writes == []
    [readback] = salesforce_emulator.calls()  # only the read-back query
    assert readback.kind == "query" and "FROM+Opportunity" in readback.query


def test_changed_signal_updates_and_vanished_one_resolves_after_cooldown(
    mart, run_sync, salesforce_emulator
):
    mart.write([signal_row(1), signal_row(2)])
    run_sync(slack_client=None)
    salesforce_emulator.reset_counters()
    later = AS_OF + timedelta(days=31)
    mart.write([signal_row(1, urgency="high", as_of=later)])
    result = run_sync(slack_client=None)
    assert result.counts["salesforce.signal.upserted"] == 1
    assert result.counts["salesforce.signal.resolved"] == 1
    signals = by_key(salesforce_emulator.records(SIGNAL), "Signal_Id__c")
    assert signals["sig-00001"]["Urgency__c"] == "high"
    assert signals["sig-00001"]["Last_Seen__c"] == later.isoformat()
    assert signals["sig-00002"]["Status__c"] == "Resolved"
    assert len(salesforce_emulator.records(SIGNAL)) == 2
    assert ledger_states(mart)["sig-00002"].status == "Resolved"
    salesforce_emulator.reset_counters()
    assert run_sync(slack_client=None).plan.writes == []  # resolved once, not every day
    assert salesforce_emulator.write_count() == 0


def test_one_bad_record_does_not_block_its_batch_and_is_retried(mart, run_sync,
                                                                salesforce_emulator):
    mart.write([signal_row(n) for n in range(4)] + [signal_row(9, product="p" * 81)])
    result = run_sync(slack_client=None)
    assert result.status == "partial" and result.exit_code == 3
    [failure] = result.failures
    assert (failure.signal_id, failure.error_code) == ("sig-00009", "STRING_TOO_LONG")
    assert sorted(r["Signal_Id__c"] for r in salesforce_emulator.records(SIGNAL)) == [
        f"sig-{n:05d}" for n in range(4)]
    assert "STRING_TOO_LONG" in (ledger_states(mart)["sig-00009"].sf_error or "")
    mart.write([signal_row(n) for n in range(4)] + [signal_row(9, product="fixed")])
    salesforce_emulator.reset_counters()
    fixed = run_sync(slack_client=None)
    assert fixed.status == "ok"
    written = {k: v for k, v in fixed.counts.items() if k.startswith("salesforce.")}
    assert written == {"salesforce.signal.upserted": 1, "salesforce.task.upserted": 1}


def test_row_locks_503_and_timeouts_recover_within_the_run(mart, run_sync, salesforce_emulator):
    mart.write([signal_row(n) for n in range(6)])
    salesforce_emulator.inject(faults.record_lock([1, 3]), kind="composite.upsert")
    salesforce_emulator.inject(faults.unavailable(), kind="composite.upsert")
    salesforce_emulator.inject(faults.html_error(502), kind="composite.upsert")
    salesforce_emulator.inject(faults.delay(2, commit=True), kind="composite.upsert")
    result = run_sync(slack_client=None)
    assert result.status == "ok", result.failures
    assert len(salesforce_emulator.records(SIGNAL)) == 6
    assert len(salesforce_emulator.records(TASK)) == 6


def test_expired_session_is_renewed_with_client_credentials(mart, run_sync, salesforce_emulator):
    mart.write([signal_row(1)])
    salesforce_emulator.expire_session()
    result = run_sync(slack_client=None)
    assert result.status == "ok"
    assert salesforce_emulator.calls("oauth.token")
    assert len(salesforce_emulator.records(SIGNAL)) == 1


def test_daily_limit_fails_the_run_without_hot_retries(mart, run_sync, salesforce_emulator,
                                                       slack_emulator, ops_channel):
    mart.write([signal_row(1)])
    salesforce_emulator.inject(faults.daily_limit(), times=10)
    result = run_sync()
    assert result.status == "failed" and result.exit_code == 1
    assert "REQUEST_LIMIT_EXCEEDED" in (result.error or "")
    assert len(salesforce_emulator.calls()) == 1
    assert len(slack_emulator.messages(ops_channel)) == 1
    # A second failure in a row says nothing more; the first good run says it is back.
    salesforce_emulator.inject(faults.daily_limit(), times=10)
    assert run_sync().status == "failed"
    assert len(slack_emulator.messages(ops_channel)) == 1
    salesforce_emulator.clear_faults()
    assert run_sync().status == "ok"
    notices = [m["text"] for m in slack_emulator.messages(ops_channel)]
    assert len(notices) == 2 and "works again" in notices[1]


def test_owner_lookup_escapes_the_email_and_runs_once_per_owner(mart, run_sync,
                                                               salesforce_emulator):
    tricky = "o'brien\\x@example.com"
    owner = salesforce_emulator.seed_user(tricky)
    mart.write([signal_row(n, owner_email=tricky) for n in range(3)])
    assert run_sync(slack_client=None).status == "ok"
    assert {t["OwnerId"] for t in salesforce_emulator.records(TASK)} == {owner}
    query, _readback = salesforce_emulator.calls("query")
    assert "o\\'brien\\\\x@example.com" in query.query or "o%5C%27brien" in query.query


def test_above_the_threshold_records_go_through_bulk_api_2(mart, run_sync, salesforce_emulator):
    mart.write([signal_row(n) for n in range(30)])
    salesforce_emulator.inject(faults.record_lock([2]), kind="bulk2.upload")
    result = run_sync(slack_client=None, bulk_threshold=10)
    assert result.status == "ok", result.failures
    assert len(salesforce_emulator.records(SIGNAL)) == 30
    assert len(salesforce_emulator.records(TASK)) == 30
    kinds = {c.kind for c in salesforce_emulator.calls()}
    assert "bulk2.create" in kinds and "composite.upsert" in kinds  # the locked row, again
    salesforce_emulator.reset_counters()
    assert run_sync(slack_client=None, bulk_threshold=10).plan.writes == []
    assert salesforce_emulator.write_count() == 0


def test_collections_calls_go_in_parallel_and_land_each_record_once(mart, run_sync,
                                                                    salesforce_emulator):
    """Five batches of each object, four in flight at once; a transient failure of one call
    and a crash after the second committed batch lose and duplicate nothing."""
    mart.write([signal_row(n) for n in range(1000)])
    salesforce_emulator.latency = 0.05  # every call outlasts the sending of the next ones
    salesforce_emulator.inject(faults.unavailable(), kind="composite.upsert")

    acked = []

    def crash_after_two_batches(name: str) -> None:
        if name == "salesforce.signal.acked":
            acked.append(name)
            if len(acked) == 3:
                raise RuntimeError("killed")

    crashed = run_sync(slack_client=None, checkpoint=crash_after_two_batches, parallel_calls=4,
                       accept_volume=True)
    assert crashed.status == "failed"
    assert 2 <= salesforce_emulator.peak_in_flight <= 4
    committed = [s for s in ledger_states(mart).values() if s.sf_signal_id]
    assert 400 <= len(committed) < 1000  # acknowledged batches before the crash are kept

    result = run_sync(slack_client=None, parallel_calls=4, accept_volume=True)
    assert result.status == "ok", result.failures
    for sobject, key in ((SIGNAL, "Signal_Id__c"), (TASK, "Expansion_Signal_Id__c")):
        keys = [r[key] for r in salesforce_emulator.records(sobject)]
        assert sorted(keys) == [f"sig-{n:05d}" for n in range(1000)], sobject
    salesforce_emulator.reset_counters()
    assert run_sync(slack_client=None, parallel_calls=4).plan.writes == []
    assert salesforce_emulator.write_count() == 0


def test_a_bulk_job_takes_five_calls_and_reads_failures_only_when_there_are_some(
        mart, run_sync, salesforce_emulator):
    mart.write([signal_row(n) for n in range(30)])
    result = run_sync(slack_client=None, bulk_threshold=10, bulk_poll_seconds=0)
    assert result.status == "ok", result.failures
    bulk = [c.kind for c in salesforce_emulator.calls() if c.kind.startswith("bulk2")]
    jobs = bulk.count("bulk2.create")
    assert jobs == 2  # signals, tasks: one job each
    # each: create, upload, close, one look at the job, the successful rows
    assert len(bulk) == 5 * jobs, bulk
    assert not any("failed" in kind.lower() for kind in bulk)


def test_a_bulk_upload_is_cut_below_the_size_limit_with_a_header_each():
    records = [OutgoingRecord(RecordWrite("signal", f"s{n}", {}, "h", True, "create"),
                              {"Key__c": f"s{n}", "Note__c": "é" * 40, **({"Extra__c": n}
                                                                         if n % 2 else {})},
                              True)
               for n in range(50)]
    parts = list(bulk_csv_parts(records, limit=1000))
    assert len(parts) > 1
    assert [r for part, _ in parts for r in part] == records
    for part, text in parts:
        lines = text.splitlines()
        assert lines[0] == "Extra__c,Key__c,Note__c"
        assert len(lines) == len(part) + 1
        assert len(text.encode("utf-8")) <= 1000
    assert parts[0][1].splitlines()[1] == ",s0," + "é" * 40  # no Extra__c: left alone
