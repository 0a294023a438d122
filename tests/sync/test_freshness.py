"""The freshness gate of `expansion run`: a stale usage_events stops the run before the
build (nothing built, nothing sent, one ops notice, exit code 6); `--skip-freshness` lets a
deliberate backfill through; ages are judged at the as_of day, not by the clock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from expansion_signals import cli, exit_codes
from expansion_signals.freshness import _read, lag_hours

TODAY = datetime.now(UTC).date()


@pytest.fixture
def stale_warehouse(tmp_path, monkeypatch, slack_emulator, ops_channel, fallback_channel):
    """Small demo data ending today, then the last four days of usage lost upstream."""
    warehouse = tmp_path / "warehouse.duckdb"
    for name, value in {
        "EXPANSION_WORK_DIR": str(tmp_path), "EXPANSION_DUCKDB_PATH": str(warehouse),
        "EXPANSION_TARGET": "duckdb", "SLACK_BOT_TOKEN": slack_emulator.bot_token,
        "SLACK_API_URL": slack_emulator.base_url, "SLACK_OPS_CHANNEL": ops_channel,
        "SLACK_FALLBACK_CHANNEL": fallback_channel,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["generate", "--accounts", "12", "--days", "60", "--events", "6000",
                     "--as-of", TODAY.isoformat()]) == exit_codes.OK
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.usage_events where occurred_at >= ?",
                    [TODAY - timedelta(days=3)])
        newest = con.execute("select max(occurred_at) from raw.usage_events").fetchone()[0]
    assert newest < datetime.combine(TODAY - timedelta(days=3), datetime.min.time())
    return warehouse


def test_a_stale_source_stops_the_run_before_the_build(stale_warehouse, slack_emulator,
                                                        ops_channel, capsys):
    assert cli.main(["run"]) == exit_codes.STALE
    captured = capsys.readouterr()
    err = [line for line in captured.err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in captured.err
    assert err[0].startswith("error: stale source, nothing was built or sent: raw.usage_events:")
    assert "stops the run after 3.0 days" in err[0] and "--skip-freshness" in err[0]
    with duckdb.connect(str(stale_warehouse), read_only=True) as con:
        schemas = {r[0] for r in con.execute(
            "select schema_name from information_schema.schemata").fetchall()}
    assert "marts" not in schemas and "expansion_sync" not in schemas  # nothing built or synced
    [notice] = slack_emulator.messages(ops_channel)
    assert "stopped before building" in notice["text"] and "raw.usage_events" in notice["text"]
    assert len(slack_emulator.messages()) == 1


def test_skip_freshness_lets_a_deliberate_backfill_through(stale_warehouse, capsys):
    assert cli.main(["run", "--skip-freshness", "--dry-run"]) == exit_codes.OK
    out = capsys.readouterr().out
    assert "dbt build done" in out and "Sync preview" in out
    assert "Sources fresh" not in out


def test_ages_are_judged_at_the_as_of_day():
    now = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)
    assert lag_hours(date(2026, 12, 6), now) == 0
    assert lag_hours(date(2026, 12, 7), now) == 0
    assert lag_hours(date(2026, 12, 4), now) == 43  # from Dec 5, 00:00 to Dec 6, 19:30


def test_dbt_results_are_read_back_in_hours_of_the_as_of_day(tmp_path):
    """dbt's thresholds and ages are measured against now; the lag puts them back."""
    results = {"results": [{
        "unique_id": "source.expansion_signals.raw.usage_events", "status": "error",
        "max_loaded_at_time_ago_in_s": (96 + 43) * 3600,
        "criteria": {"warn_after": {"count": 36 + 43, "period": "hour"},
                     "error_after": {"count": 72 + 43, "period": "hour"}},
    }]}
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    [usage] = _read(path, 43)
    assert (usage.source, usage.age_hours, usage.error_hours) == ("raw.usage_events", 96, 72)
    assert usage.sentence() == (
        "raw.usage_events: newest row 4.0 days old (stops the run after 3.0 days)")
