"""Closing the loop: each run reads back the Opportunities the sync opened, into the warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from expansion_dev.emulators import faults

from expansion_signals.mapping import load_mapping
from expansion_signals.readback import ReadBack, readback_soql, to_rows
from expansion_signals.sync_report import result_lines
from expansion_signals.types import Play
from tests.sync.conftest import AS_OF, OWNER, signal_row

OPP = "Opportunity"
READBACK = "expansion_sync.opportunity_readback"
COLUMNS = ("opportunity_id, expansion_signal_id, account_id, motion, stage_name, is_closed, "
           "is_won, amount, created_at, close_date, last_modified_at")


def readback_rows(mart) -> dict[str, tuple]:
    return {r[1]: r for r in mart.query(f"select {COLUMNS} from {READBACK}")}


def opened(salesforce_emulator) -> dict[str, dict]:
    return {r["Expansion_Signal_Id__c"]: r for r in salesforce_emulator.records(OPP)}


def salesforce_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def two_opportunities(mart, salesforce_emulator) -> None:
    salesforce_emulator.seed_user(OWNER)
    account = salesforce_emulator.seed_account("Acme")
    mart.write([
        signal_row(1, crm_account_id=account),
        signal_row(2, crm_account_id=account, play_id="outcome_cross_sell",
                   motion="cross_sell", product="analytics"),
        signal_row(3, crm_account_id=account),
    ])


def test_a_won_opportunity_is_read_back_once_then_the_watermark_holds(
    mart, run_sync, salesforce_emulator, sf_client
):
    two_opportunities(mart, salesforce_emulator)
    first = run_sync(slack_client=None)
    assert first.status == "ok", first.failures
    assert first.readback == ReadBack(read=2, won=0)
    assert result_lines(first)[0].endswith(": ok; read back 2 Opportunities (0 won)")
    records = opened(salesforce_emulator)
    assert sorted(records) == ["sig-00001", "sig-00003"]  # the seat plays open one
    stored = readback_rows(mart)
    assert {s: r[2:7] for s, r in stored.items()} == {
        "sig-00001": ("acc-00001", "seat", "Prospecting", False, False),
        "sig-00003": ("acc-00003", "seat", "Prospecting", False, False)}

    won = records["sig-00003"]["Id"]
    assert sf_client.Opportunity.update(won, {"StageName": "Closed Won", "Amount": 48000,
                                              "CloseDate": "2026-12-15"}) == 204
    second = run_sync(slack_client=None)
    assert second.status == "ok", second.failures
    assert second.readback == ReadBack(read=1, won=1)
    assert result_lines(second)[0].endswith("; read back 1 Opportunity (1 won)")
    record = opened(salesforce_emulator)["sig-00003"]
    assert readback_rows(mart)["sig-00003"] == (
        won, "sig-00003", "acc-00003", "seat", "Closed Won", True, True, 48000.0,
        salesforce_time(record["CreatedDate"]), date(2026, 12, 15),
        salesforce_time(record["LastModifiedDate"]))
    assert readback_rows(mart)["sig-00001"] == stored["sig-00001"]  # untouched

    salesforce_emulator.reset_counters()
    third = run_sync(slack_client=None)
    assert third.readback == ReadBack(read=0, won=0)
    assert result_lines(third)[0].endswith("; read back 0 Opportunities (0 won)")
    [query] = salesforce_emulator.calls()
    # Only the changes since the latest LastModifiedDate read, to the second.
    watermark = salesforce_time(record["LastModifiedDate"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert query.query.endswith("LastModifiedDate+%3E%3D+" + watermark.replace(":", "%3A"))
    logged = mart.query("select count(*) from expansion_sync.operations "
                        "where action = 'readback.opportunity' and outcome = 'ok'")
    assert logged == [(3,)]


def test_a_change_in_the_same_second_as_the_last_read_is_not_lost(
    mart, run_sync, salesforce_emulator, sf_client
):
    """LastModifiedDate has whole seconds in a real org: `>` the watermark would miss it."""
    moment = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)
    salesforce_emulator.org.clock = lambda: moment  # every write in the same instant
    two_opportunities(mart, salesforce_emulator)
    assert run_sync(slack_client=None).readback == ReadBack(read=2, won=0)
    won = opened(salesforce_emulator)["sig-00001"]["Id"]
    sf_client.Opportunity.update(won, {"StageName": "Closed Won", "Amount": 9000})
    assert run_sync(slack_client=None).readback == ReadBack(read=1, won=1)
    assert readback_rows(mart)["sig-00001"][4:8] == ("Closed Won", True, True, 9000.0)
    assert run_sync(slack_client=None).readback == ReadBack(read=0, won=0)


def test_dry_run_reads_nothing_back_and_writes_nothing(mart, run_sync, salesforce_emulator,
                                                      sf_client):
    two_opportunities(mart, salesforce_emulator)
    preview = run_sync(dry_run=True)
    assert preview.status == "preview" and preview.readback is None
    assert salesforce_emulator.calls() == []
    assert mart.query("select count(*) from information_schema.tables "
                      "where table_name = 'opportunity_readback'") == [(0,)]
    assert "read back" not in "\n".join(result_lines(preview))
    run_sync(slack_client=None)
    before = readback_rows(mart)
    sf_client.Opportunity.update(opened(salesforce_emulator)["sig-00001"]["Id"],
                                 {"StageName": "Closed Lost"})
    salesforce_emulator.reset_counters()
    assert run_sync(dry_run=True).readback is None
    assert salesforce_emulator.calls() == [] and readback_rows(mart) == before
    watermarks = mart.query("select mode, readback_through is not null "
                            "from expansion_sync.runs order by started_at")
    assert watermarks == [("preview", False), ("apply", True), ("preview", False)]
    # The live run after it reads the change the preview left alone.
    assert run_sync(slack_client=None).readback == ReadBack(read=1, won=0)


def test_a_failed_read_back_is_partial_and_loses_nothing(mart, run_sync, salesforce_emulator,
                                                         sf_client):
    two_opportunities(mart, salesforce_emulator)
    run_sync(slack_client=None)
    sf_client.Opportunity.update(opened(salesforce_emulator)["sig-00001"]["Id"],
                                 {"StageName": "Closed Won", "Amount": 100})
    salesforce_emulator.inject(faults.unavailable(), kind="query", times=10)
    failed = run_sync(slack_client=None)
    assert failed.status == "partial" and failed.exit_code == 3
    assert failed.readback is None
    [failure] = failed.failures
    assert (failure.action, failure.error_code) == ("readback.opportunity", "SERVER_UNAVAILABLE")
    assert "    readback.opportunity: SERVER_UNAVAILABLE maintenance" in result_lines(failed)
    assert readback_rows(mart)["sig-00001"][4] == "Prospecting"
    salesforce_emulator.clear_faults()
    again = run_sync(slack_client=None)
    assert again.status == "ok" and again.readback == ReadBack(read=1, won=1)
    assert readback_rows(mart)["sig-00001"][4] == "Closed Won"


def test_a_fatal_error_on_the_read_back_fails_the_run(mart, run_sync, salesforce_emulator):
    two_opportunities(mart, salesforce_emulator)
    run_sync(slack_client=None)
    salesforce_emulator.reset_counters()
    salesforce_emulator.inject(faults.daily_limit(), kind="query", times=10)
    failed = run_sync(slack_client=None)
    assert failed.status == "failed" and failed.exit_code == 1
    assert "REQUEST_LIMIT_EXCEEDED" in (failed.error or "")
    assert len(salesforce_emulator.calls("query")) == 1  # no hot retry


def test_an_opportunity_of_a_signal_the_ledger_does_not_know_is_skipped_and_counted(
    mart, run_sync, salesforce_emulator
):
    two_opportunities(mart, salesforce_emulator)
    salesforce_emulator.seed_record(OPP, {"Name": "Another sync's", "StageName": "Closed Won",
                                          "CloseDate": "2026-12-01",
                                          "Expansion_Signal_Id__c": "sig-elsewhere"})
    salesforce_emulator.seed_record(OPP, {"Name": "A seller's own", "StageName": "Prospecting",
                                          "CloseDate": "2026-12-01"})
    first = run_sync(slack_client=None)
    assert first.status == "ok"
    assert first.readback == ReadBack(read=2, won=0, skipped=1)
    assert first.counts["readback.skipped"] == 1
    assert "; 1 skipped: signal not in the ledger" in result_lines(first)[0]
    assert sorted(readback_rows(mart)) == ["sig-00001", "sig-00003"]
    assert run_sync(slack_client=None).readback == ReadBack(read=0, won=0, skipped=0)


def test_a_run_with_slack_only_reads_nothing_back(mart, run_sync, salesforce_emulator):
    mart.write([signal_row(1)])
    result = run_sync(salesforce=None)
    assert result.status == "ok" and result.readback is None
    assert salesforce_emulator.calls() == []


def test_rows_take_account_and_motion_from_the_ledger_then_the_catalog():
    mapping = load_mapping()
    plays = {"tier_upgrade": Play("tier_upgrade", "tier", "", 14, "", True)}
    known = {"sig-a": ("acc-a", "seat_expansion", "seat"),
             "sig-b": ("acc-b", "tier_upgrade", None),  # a ledger row from before motion
             "sig-c": ("acc-c", "gone_play", None),
             "sig-d": (None, None, None)}

    def record(n: str, modified: str) -> dict:
        # Field names in another case than the mapping's: the org's answer is matched anyway.
        return {"attributes": {"type": OPP}, "Id": f"006{n}", "expansion_signal_id__c": f"sig-{n}",
                "STAGENAME": "Closed Lost", "IsClosed": True, "IsWon": False, "Amount": None,
                "CloseDate": "2026-12-01", "CreatedDate": "2026-11-01T10:00:00.000+0000",
                "LastModifiedDate": modified}

    read_at = datetime(2026, 11, 25)
    rows, skipped, through = to_rows(
        [record("a", "2026-11-20T10:00:00.000+0000"), record("b", "2026-11-21T00:30:00.000+0100"),
         record("c", "2026-11-22T10:00:00.000+0000"), record("e", "2026-11-19T10:00:00.000+0000")],
        mapping, known, plays, read_at)
    assert [(r.expansion_signal_id, r.account_id, r.motion) for r in rows] == [
        ("sig-a", "acc-a", "seat"), ("sig-b", "acc-b", "tier")]
    assert rows[1].last_modified_at == datetime(2026, 11, 20, 23, 30)
    assert rows[0].amount is None and rows[0].close_date == date(2026, 12, 1)
    assert skipped == [("006c", "sig-c"), ("006e", "sig-e")]
    assert through == datetime(2026, 11, 22, 10, 0)
    # Skipped again at or before the watermark: reported when first read, not again.
    _, again, _ = to_rows([record("c", "2026-11-22T10:00:00.000+0000")], mapping, known, plays,
                          read_at, since=datetime(2026, 11, 22, 10, 0))
    assert again == []


def test_the_read_back_query():
    mapping = load_mapping()
    assert readback_soql(mapping, None) == (
        "SELECT Id, Expansion_Signal_Id__c, StageName, IsClosed, IsWon, Amount, CloseDate, "
        "CreatedDate, LastModifiedDate FROM Opportunity WHERE Expansion_Signal_Id__c != null")
    since = datetime(2026, 11, 24, 9, 30, 15, 999000)
    assert readback_soql(mapping, since).endswith(
        "WHERE Expansion_Signal_Id__c != null AND LastModifiedDate >= 2026-11-24T09:30:15Z")


def test_ledger_from_before_the_read_back_gains_its_columns(mart, run_sync, salesforce_emulator):
    two_opportunities(mart, salesforce_emulator)
    assert run_sync(slack_client=None).status == "ok"
    mart.query("alter table expansion_sync.runs drop column readback_through")
    mart.query("alter table expansion_sync.signal_state drop column motion")
    mart.query(f"drop table {READBACK}")
    later = AS_OF + timedelta(days=1)
    mart.write([signal_row(1, crm_account_id=opened(salesforce_emulator)["sig-00001"]
                           ["AccountId"], as_of=later)])
    result = run_sync(slack_client=None)
    # No table: no watermark, everything is read again (sig-00003 has motion from the catalog).
    assert result.status == "ok" and result.readback == ReadBack(read=2, won=0)
    assert {r[3] for r in readback_rows(mart).values()} == {"seat"}
