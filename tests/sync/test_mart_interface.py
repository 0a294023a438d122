"""The marts are the sync's only input: plays and the models' settings come from the
warehouse, so a value set once (in dbt_project.yml or with --vars) is the same on both sides."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from expansion_signals import cli
from tests.sync.conftest import AS_OF, ledger_states, signal_row


def test_the_cooldown_is_the_models_own(mart, run_sync):
    """A signal gone 40 days: Resolved under a 30-day cooldown, still Open under 45."""
    for cooldown, expected in ((45, "Open"), (30, "Resolved")):
        mart.write([signal_row(1)], cooldown_days=cooldown)
        assert run_sync(as_of=AS_OF, slack_client=None).status == "ok"
        later = AS_OF + timedelta(days=40)
        mart.write([signal_row(2, as_of=later)], cooldown_days=cooldown)
        assert run_sync(as_of=later, slack_client=None).status == "ok"
        assert ledger_states(mart)["sig-00001"].status == expected, cooldown
        mart.path.unlink()


def test_the_sync_takes_as_of_from_the_models(mart, run_sync):
    later = AS_OF + timedelta(days=3)
    mart.write([signal_row(1, as_of=later)])
    run_sync(slack_client=None)
    assert ledger_states(mart)["sig-00001"].last_seen == later


def test_a_warehouse_built_without_the_sync_marts_is_one_line(mart, monkeypatch, capsys):
    con = duckdb.connect(str(mart.path))
    con.execute("drop table marts.sync_settings")
    con.close()
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(mart.path))
    assert cli.main(["sync", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"error: marts.sync_settings is not in {mart.path}: "
                       "run `expansion build` before the sync")
