"""Runs as a whole: the lock, the preview, the run log, the command line, secrets."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest
from expansion_dev.emulators import faults
from expansion_dev.emulators.serve import environment

from expansion_signals import cli, exit_codes
from expansion_signals.config import load_settings
from expansion_signals.ledger import Ledger, LockHeld, now
from expansion_signals.mapping import REQUIRED_FIELDS, load_mapping
from expansion_signals.project import CHECKOUT
from expansion_signals.warehouse import connect_duckdb
from tests.sync.conftest import OWNER, Mart, signal_row


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
    text = (CHECKOUT / "expansion_signals" / "mapping.yml").read_text()
    renamed = tmp_path / "mapping.yml"
    renamed.write_text(text.replace("Urgency__c", "Priority_Level__c"))
    assert load_mapping(renamed).signal.fields["urgency"] == "Priority_Level__c"
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("      urgency: Urgency__c\n", ""))
    with pytest.raises(ValueError, match="urgency"):
        load_mapping(broken)


def test_shipped_metadata_defines_every_mapped_field():
    mapping = load_mapping()
    objects = CHECKOUT / "salesforce" / "force-app" / "main" / "default" / "objects"
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


# --- two runs on one DuckDB file -----------------------------------------------------------

HOLD_THE_FILE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()  # until the test closes our stdin
con.close()
"""


class FileHolder:
    """Another process with the warehouse open, as a build or a sync of another run has it."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLD_THE_FILE, str(path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "holding"

    def __enter__(self) -> FileHolder:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def test_sync_while_another_process_holds_the_warehouse_exits_locked(
    mart, salesforce_emulator, slack_emulator, fallback_channel, monkeypatch, capsys
):
    mart.write([signal_row(1)])
    for name, value in emulator_env(salesforce_emulator, slack_emulator, mart,
                                    fallback_channel).items():
        monkeypatch.setenv(name, value)
    with FileHolder(mart.path):
        assert cli.main(["sync"]) == exit_codes.LOCKED
    printed = capsys.readouterr()
    assert "another run is using the warehouse" in printed.out + printed.err
    assert "Could not set lock" not in printed.out + printed.err
    assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []
    assert cli.main(["sync"]) == exit_codes.OK  # once the other run is done


def test_run_while_another_process_holds_the_warehouse_exits_locked(
    mart, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(mart.path))
    monkeypatch.setenv("EXPANSION_TARGET", "duckdb")
    # dbt's own files go to the test's directory, not the checkout's target/ and logs/.
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    with FileHolder(mart.path):
        assert cli.main(["run", "--as-of", "2026-11-24"]) == exit_codes.LOCKED
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"Skipped: another run is using the warehouse {mart.path}; nothing was done")


# --- runs that died ---------------------------------------------------------------------

KILLED_MID_RUN = """
import os, signal, sys
from pathlib import Path
from expansion_signals.config import SyncSettings
from expansion_signals.engine import SyncRun
from expansion_signals.mapping import load_mapping
from expansion_signals.warehouse import connect_duckdb

def die(step):
    if step == "planned":
        os.kill(os.getpid(), signal.SIGKILL)

SyncRun(connect_duckdb(Path(sys.argv[1])), SyncSettings(), load_mapping(), checkpoint=die).run()
"""


def runs_table(mart: Mart) -> dict[str, tuple]:
    rows = mart.query("select run_id, status, finished_at, error from expansion_sync.runs")
    return {r[0]: r[1:] for r in rows}


def test_a_killed_run_is_abandoned_by_the_next_run(mart, run_sync, slack_emulator):
    slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    killed = subprocess.Popen([sys.executable, "-c", KILLED_MID_RUN, str(mart.path)])
    assert killed.wait(timeout=120) == -9
    [(dead_run, (status, finished_at, _))] = runs_table(mart).items()
    assert status == "running" and finished_at is None
    result = run_sync()
    assert result.status == "ok"
    runs = runs_table(mart)
    status, finished_at, error = runs[dead_run]
    assert status == "abandoned" and finished_at is not None
    assert error == (f"its lock was taken over by run {result.run_id}: "
                     f"its process {socket.gethostname()}:{killed.pid} was gone")
    assert runs[result.run_id][0] == "ok"
    assert mart.query("select count(*) from expansion_sync.run_lock") == [(0,)]


def dead_holder() -> str:
    """host:pid of a process that has exited."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return f"{socket.gethostname()}:{gone.pid}"


def leave_a_dead_run(mart: Mart, run_id: str, *, with_lock: bool) -> None:
    db = connect_duckdb(mart.path)
    try:
        ledger = Ledger(db)
        ledger.ensure_schema()
        ledger.start_run(run_id, "apply", None)
        if with_lock:
            db.execute("insert into expansion_sync.run_lock values ('sync', ?, ?, ?)",
                       [run_id, dead_holder(), now()])
    finally:
        db.close()


def test_every_run_left_running_is_closed_once_the_lock_is_held(mart, run_sync):
    mart.write([signal_row(1)])
    leave_a_dead_run(mart, "older-dead-run", with_lock=False)  # its lock was taken long ago
    leave_a_dead_run(mart, "dead-run", with_lock=True)
    result = run_sync(slack_client=None)
    runs = runs_table(mart)
    assert runs["dead-run"][0] == "abandoned"
    assert runs["dead-run"][2].startswith(f"its lock was taken over by run {result.run_id}")
    assert runs["older-dead-run"][0] == "abandoned" and runs["older-dead-run"][1] is not None
    assert "its process died" in runs["older-dead-run"][2]
    assert runs[result.run_id][0] == "ok"


def test_an_abandoned_run_neither_starts_nor_breaks_a_failing_streak(
    mart, run_sync, salesforce_emulator, slack_emulator, ops_channel
):
    mart.write([signal_row(1)])
    salesforce_emulator.inject(faults.daily_limit(), times=10)
    assert run_sync().status == "failed"
    assert len(slack_emulator.messages(ops_channel)) == 1  # runs started failing
    leave_a_dead_run(mart, "killed-1", with_lock=True)
    salesforce_emulator.inject(faults.daily_limit(), times=10)
    assert run_sync().status == "failed"
    assert len(slack_emulator.messages(ops_channel)) == 1  # still the same streak
    leave_a_dead_run(mart, "killed-2", with_lock=True)
    salesforce_emulator.clear_faults()
    assert run_sync().status == "ok"
    notices = [m["text"] for m in slack_emulator.messages(ops_channel)]
    assert len(notices) == 2 and "works again" in notices[1]
    assert {runs_table(mart)[r][0] for r in ("killed-1", "killed-2")} == {"abandoned"}

