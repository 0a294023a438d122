"""The Dagster job runs the real `expansion` command and does with its exit code what the
README's exit-code table says a scheduler should."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster import DagsterInstance

from expansion_signals import exit_codes
from orchestration.dagster_definitions import (
    FAIL,
    RETRY,
    SUCCEED,
    defs,
    expansion_daily,
    outcome,
)
from tests.sync.conftest import Mart, signal_row

EXPANSION = Path(sys.executable).parent / "expansion"


def _run(command: str, work_dir: Path):
    """The job in this process; its result and the messages it logged."""
    instance = DagsterInstance.ephemeral()
    result = expansion_daily.execute_in_process(
        run_config={"ops": {"expansion_run": {"config": {
            "command": command, "work_dir": str(work_dir), "retry_after_seconds": 0}}}},
        instance=instance, raise_on_error=False)
    return result, [e.user_message for e in instance.all_logs(result.run_id)]


def test_every_exit_code_has_its_action():
    codes = {getattr(exit_codes, n) for n in dir(exit_codes) if n.isupper() and n != "BY_STATUS"}
    assert codes == set(range(7))
    actions = {code: outcome(code)[0] for code in codes}
    assert actions == {0: SUCCEED, 1: RETRY, 2: FAIL, 3: SUCCEED, 4: SUCCEED, 5: FAIL, 6: FAIL}
    assert outcome(99)[0] == FAIL


def test_the_schedule_runs_the_job_daily():
    schedule = next(s for s in defs.schedules if s.name == "expansion_daily_schedule")
    assert schedule.cron_schedule == "30 6 * * *"
    assert schedule.job_name == "expansion_daily"


def test_a_preview_succeeds_and_its_output_reaches_the_log(tmp_path, monkeypatch):
    mart = Mart(tmp_path / "warehouse.duckdb")
    mart.write([signal_row(1), signal_row(2)])
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(mart.path))
    for name in ("SALESFORCE_INSTANCE_URL", "SLACK_BOT_TOKEN", "EXPANSION_TARGET"):
        monkeypatch.delenv(name, raising=False)
    result, logged = _run(f"{EXPANSION} sync --dry-run", tmp_path)
    assert result.success
    assert "exit code 0: built and synced" in logged
    assert any(m.startswith("2 signals in the mart") for m in logged), logged


def test_bad_configuration_fails_once_without_a_retry(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPANSION_TARGET", "nosuch")
    result, _ = _run(f"{EXPANSION} run --skip-freshness", tmp_path)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "exit code 2: bad configuration" in failure.event_specific_data.error.message
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def test_a_failed_run_is_retried_once(tmp_path):
    """A command that exits as `expansion run` does when dbt fails (1)."""
    script = tmp_path / "fails.sh"
    script.write_text(f"#!/bin/sh\necho 'dbt build failed' >&2\nexit {exit_codes.FAILED}\n")
    script.chmod(0o755)
    result, logged = _run(str(script), tmp_path)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1
    assert logged.count("dbt build failed") == 2  # the first try and the retry
