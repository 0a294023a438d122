"""One org, one workspace: `expansion sync` pointed at another org or workspace than its
state's stops before any write, naming both; `--rebind` moves it, and every open signal is
new there."""

from __future__ import annotations

from expansion_dev.emulators.serve import environment

from expansion_signals import cli, exit_codes
from expansion_signals.ledger import Ledger
from expansion_signals.warehouse import connect_duckdb
from tests.sync.conftest import OWNER, signal_row


def _env(monkeypatch, mart, salesforce_emulator, slack_emulator, fallback_channel) -> None:
    env = environment(salesforce_emulator, slack_emulator)
    env.update(EXPANSION_DUCKDB_PATH=str(mart.path), EXPANSION_TARGET="duckdb",
               SLACK_FALLBACK_CHANNEL=fallback_channel,
               EXPANSION_SYNC_RETRY_WAIT_SECONDS="0.01", EXPANSION_SYNC_RETRY_ATTEMPTS="2")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _bindings(mart) -> dict[str, tuple[str, str]]:
    db = connect_duckdb(mart.path)
    try:
        return Ledger(db).bindings()
    finally:
        db.close()


def test_another_org_stops_before_any_write_and_rebind_moves_the_state(
        mart, salesforce_emulator, slack_emulator, fallback_channel, monkeypatch, capsys):
    slack_emulator.seed_user(OWNER)
    salesforce_emulator.seed_user(OWNER)
    mart.write([signal_row(1), signal_row(2)])
    _env(monkeypatch, mart, salesforce_emulator, slack_emulator, fallback_channel)
    first_org = salesforce_emulator.org_id
    assert cli.main(["sync"]) == exit_codes.OK
    out = capsys.readouterr().out
    assert f"Bound to Salesforce org {first_org}." in out
    assert f"Bound to Slack workspace {slack_emulator.team_id}." in out
    assert _bindings(mart)["salesforce"][0] == first_org
    messages = len(slack_emulator.messages())
    assert messages == 2

    # The credentials now open another org (production after a sandbox, say).
    second_org = salesforce_emulator.become_org(2)
    salesforce_emulator.seed_user(OWNER)
    salesforce_emulator.reset_counters()
    assert cli.main(["sync"]) == exit_codes.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"belongs to Salesforce org {first_org}" in err
    assert f"point at Salesforce org {second_org}" in err and "--rebind salesforce" in err
    assert salesforce_emulator.write_count() == 0
    assert not salesforce_emulator.records("Expansion_Signal__c")
    assert len(slack_emulator.messages()) == messages

    assert cli.main(["sync", "--rebind", "salesforce"]) == exit_codes.OK
    out = capsys.readouterr().out
    assert f"Moved from Salesforce org {first_org} to {second_org}" in out
    assert len(salesforce_emulator.records("Expansion_Signal__c")) == 2
    assert len(salesforce_emulator.records("Task")) == 2
    assert len(slack_emulator.messages()) == messages  # Slack stayed where it was: no repeats
    assert _bindings(mart)["salesforce"][0] == second_org
    assert cli.main(["sync"]) == exit_codes.OK  # bound to the new org now


def test_another_workspace_stops_and_rebind_announces_every_open_signal_there(
        mart, salesforce_emulator, slack_emulator, fallback_channel, monkeypatch, capsys):
    slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    _env(monkeypatch, mart, salesforce_emulator, slack_emulator, fallback_channel)
    assert cli.main(["sync"]) == exit_codes.OK
    assert len(slack_emulator.messages()) == 1
    writes = salesforce_emulator.write_count()
    slack_emulator.team_id = "T0SECONDWS"
    capsys.readouterr()
    assert cli.main(["sync"]) == exit_codes.BAD_INPUT
    err = capsys.readouterr().err
    assert "belongs to Slack workspace T0EMULATOR" in err and "T0SECONDWS" in err
    assert len(slack_emulator.messages()) == 1 and salesforce_emulator.write_count() == writes
    assert cli.main(["sync", "--rebind", "slack"]) == exit_codes.OK
    assert len(slack_emulator.messages()) == 2  # announced again, in the new workspace
    assert salesforce_emulator.write_count() == writes  # Salesforce had it all already


def test_a_dry_run_neither_checks_nor_binds(mart, salesforce_emulator, slack_emulator,
                                            fallback_channel, monkeypatch):
    mart.write([signal_row(1)])
    _env(monkeypatch, mart, salesforce_emulator, slack_emulator, fallback_channel)
    assert cli.main(["sync", "--dry-run"]) == exit_codes.OK
    assert _bindings(mart) == {}


def test_rebind_names_a_destination(capsys):
    assert cli.main(["sync", "--rebind", "hubspot"]) == exit_codes.BAD_INPUT
    assert "invalid choice: 'hubspot'" in capsys.readouterr().err
