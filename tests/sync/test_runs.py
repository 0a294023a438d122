"""Runs as a whole: the lock, the preview, the run log, the command line, secrets."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest

from sync import cli
from sync.config import load_settings
from sync.emulators.serve import environment
from sync.ledger import Ledger, LockHeld
from sync.mapping import REQUIRED_FIELDS, load_mapping
from sync.project import PROJECT_ROOT
from sync.warehouse import connect_duckdb
from tests.sync.conftest import OWNER, signal_row


def test_lock_prevents_an_overlapping_run(mart, run_sync, salesforce_emulator, slack_emulator):
    slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    db = connect_duckdb(mart.path)
    try:
        ledger = Ledger(db)
        ledger.ensure_schema()
        ledger.acquire_lock("other-run", timeout_minutes=60)
        result = run_sync()
        assert result.status == "locked" and result.exit_code == 4
        assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []
        ledger.release_lock("other-run")
    finally:
        db.close()
    assert run_sync().status == "ok"


def test_two_runs_at_once_send_each_message_once(mart, run_sync, slack_emulator):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(n) for n in range(3)])
    slack_emulator.latency = 0.05
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_sync())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in results) in (["locked", "ok"], ["ok", "ok"])
    assert len(slack_emulator.messages_to(user)) == 3


def test_lock_of_a_dead_run_is_taken_over(mart):
    mart.write([])
    db = connect_duckdb(mart.path)
    try:
        ledger = Ledger(db)
        ledger.ensure_schema()
        ledger.acquire_lock("old", timeout_minutes=60)
        with pytest.raises(LockHeld):
            ledger.acquire_lock("new", timeout_minutes=60)
        db.execute("update expansion_sync.run_lock set acquired_at = acquired_at - interval 2 hour")
        ledger.acquire_lock("new", timeout_minutes=60)
        assert db.execute("select run_id from expansion_sync.run_lock") == [("new",)]
    finally:
        db.close()


def test_preview_makes_no_calls_and_records_the_plan_per_owner(
    mart, run_sync, salesforce_emulator, slack_emulator
):
    mart.write([signal_row(1), signal_row(2, owner_email="bo@example.com")])
    result = run_sync(salesforce=None, slack_client=None)
    assert result.mode == "preview" and result.status == "preview" and result.exit_code == 0
    assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []
    db = connect_duckdb(mart.path)
    try:
        ledger = Ledger(db)
        planned = ledger.operations(result.run_id)
        assert ledger.load_states() == {}  # nothing was acknowledged, so nothing committed
    finally:
        db.close()
    assert {(op.owner, op.action) for op in planned} >= {
        (OWNER, "upsert.signal"), (OWNER, "upsert.task"), (OWNER, "message.signal"),
        ("bo@example.com", "message.signal")}
    assert {op.outcome for op in planned} == {"planned"}


def test_dry_run_with_credentials_makes_no_calls(mart, run_sync, salesforce_emulator,
                                                 slack_emulator):
    mart.write([signal_row(1)])
    assert run_sync(dry_run=True).status == "preview"
    assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []


def test_run_log_counts_every_run(mart, run_sync):
    mart.write([signal_row(1)])
    run_sync(slack_client=None)
    run_sync(slack_client=None)
    db = connect_duckdb(mart.path)
    try:
        rows = db.execute("select status, counts from expansion_sync.runs order by started_at")
    finally:
        db.close()
    assert [r[0] for r in rows] == ["ok", "ok"]
    assert json.loads(rows[0][1])["salesforce.signal.upserted"] == 1


def emulator_env(salesforce_emulator, slack_emulator, mart, channel: str) -> dict[str, str]:
    env = environment(salesforce_emulator, slack_emulator)
    env.update(EXPANSION_DUCKDB_PATH=str(mart.path), EXPANSION_TARGET="duckdb",
               SLACK_FALLBACK_CHANNEL=channel, EXPANSION_SYNC_RETRY_WAIT_SECONDS="0.01")
    return env


def test_sync_command_prints_no_secret(mart, salesforce_emulator, slack_emulator,
                                       fallback_channel, monkeypatch, capsys):
    mart.write([signal_row(1), signal_row(2, owner_email=None)])
    env = emulator_env(salesforce_emulator, slack_emulator, mart, fallback_channel)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["sync"]) == 0
    assert cli.main(["sync", "--dry-run"]) == 0
    printed = capsys.readouterr()
    output = printed.out + printed.err
    assert "Sync run" in output and "Sync preview" in output
    for secret in ("SALESFORCE_ACCESS_TOKEN", "SALESFORCE_CLIENT_SECRET", "SLACK_BOT_TOKEN"):
        assert env[secret] not in output
    settings = load_settings(env)
    assert env["SALESFORCE_CLIENT_SECRET"] not in repr(settings)
    assert env["SLACK_BOT_TOKEN"] not in repr(settings)
    assert len(salesforce_emulator.records("Expansion_Signal__c")) == 2


def test_sync_command_exit_codes_for_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(tmp_path / "missing.duckdb"))
    monkeypatch.setenv("EXPANSION_TARGET", "duckdb")
    assert cli.main(["sync"]) == 2
    monkeypatch.setenv("EXPANSION_SYNC_DIGEST_THRESHOLD", "many")
    assert cli.main(["sync"]) == 2
    assert "EXPANSION_SYNC_DIGEST_THRESHOLD" in capsys.readouterr().err


def test_mapping_renames_flow_through(tmp_path: Path):
    text = (PROJECT_ROOT / "sync" / "mapping.yml").read_text()
    renamed = tmp_path / "mapping.yml"
    renamed.write_text(text.replace("Urgency__c", "Priority_Level__c"))
    assert load_mapping(renamed).signal.fields["urgency"] == "Priority_Level__c"
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("      urgency: Urgency__c\n", ""))
    with pytest.raises(ValueError, match="urgency"):
        load_mapping(broken)


def test_shipped_metadata_defines_every_mapped_field():
    mapping = load_mapping()
    objects = PROJECT_ROOT / "salesforce" / "force-app" / "main" / "default" / "objects"
    signal_dir = objects / mapping.signal.object / "fields"
    names = {p.name.removesuffix(".field-meta.xml") for p in signal_dir.iterdir()}
    wanted = {mapping.signal.fields[k] for k in REQUIRED_FIELDS["signal"]}
    assert wanted | {mapping.signal.external_id} == names
    for path in [*signal_dir.iterdir(),
                 objects / "Opportunity" / "fields" / "Expansion_Signal_Id__c.field-meta.xml",
                 objects / "Activity" / "fields" / "Expansion_Signal_Id__c.field-meta.xml"]:
        root = ElementTree.parse(path).getroot()
        assert root.tag.endswith("CustomField")
    ext = ElementTree.parse(signal_dir / "Signal_Id__c.field-meta.xml").getroot()
    ns = "{http://soap.sforce.com/2006/04/metadata}"
    assert ext.find(f"{ns}externalId").text == "true" and ext.find(f"{ns}unique").text == "true"
