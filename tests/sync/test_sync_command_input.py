"""Bad input stops `expansion sync` with exit code 2 and one line, before anything is written.

The mapping file is checked whole when loaded; settings are checked when read;
the mapping is checked against the org (one describe per mapped object) at the
start of a live run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expansion_dev.emulators import faults
from expansion_dev.emulators.serve import environment

from expansion_signals import cli
from expansion_signals.config import ConfigError, load_settings
from expansion_signals.engine import plan_settings
from expansion_signals.mapping import MappingError, load_mapping
from expansion_signals.project import CHECKOUT
from tests.sync.conftest import signal_row

SHIPPED = (CHECKOUT / "expansion_signals" / "mapping.yml").read_text(encoding="utf-8")
SIGNAL = "Expansion_Signal__c"


def mapping_file(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SHIPPED
    path = tmp_path / "mapping.yml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.fixture
def sync_env(mart, salesforce_emulator, slack_emulator, fallback_channel, ops_channel,
             monkeypatch):
    """`expansion sync` pointed at the emulators; returns a setter for more variables."""
    mart.write([signal_row(1)])
    env = environment(salesforce_emulator, slack_emulator)
    env.update(EXPANSION_DUCKDB_PATH=str(mart.path), EXPANSION_TARGET="duckdb",
               SLACK_FALLBACK_CHANNEL=fallback_channel, SLACK_OPS_CHANNEL=ops_channel,
               EXPANSION_SYNC_RETRY_WAIT_SECONDS="0.01", EXPANSION_SYNC_RETRY_ATTEMPTS="2")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return monkeypatch.setenv


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    return err.removeprefix("error: ")


# --- the mapping file -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("close_after_days: 90", "close_after_days: ninety",
         "salesforce.opportunity.defaults.close_after_days must be a whole number of days, "
         "got 'ninety'"),
        ("close_after_days: 90", "close_after_days: -1",
         "salesforce.opportunity.defaults.close_after_days must be a whole number of days, got -1"),
        ("close_after_days: 90", "close_after_days: 90.5",
         "salesforce.opportunity.defaults.close_after_days must be a whole number of days, "
         "got 90.5"),
        ("close_after_days: 90", "close_after_days: true",
         "salesforce.opportunity.defaults.close_after_days must be a whole number of days, "
         "got True"),
        ("close_after_days: 90", "close_after_day: 90",
         "salesforce.opportunity.defaults.close_after_day is not a key the sync knows"),
        ("stage: Prospecting", "stage: ''",
         "salesforce.opportunity.defaults.stage must be a non-empty string, got ''"),
        ("type: Existing Customer - Upgrade", "type: [a, b]",
         "salesforce.opportunity.defaults.type must be a non-empty string, got a list"),
        ("status: Not Started", "status:",
         "salesforce.task.defaults.status must be a non-empty string, got nothing"),
        ("    object: Task\n", "    object: 7\n",
         "salesforce.task.object must be a non-empty string, got 7"),
        ("      urgency: Urgency__c\n", "",
         "salesforce.signal.fields.urgency is missing"),
        ("      urgency: Urgency__c\n", "      urgency: [Urgency__c]\n",
         "salesforce.signal.fields.urgency must be a non-empty string, got a list"),
        ("    email: Email\n", "",
         "salesforce.user.email is missing"),
        ("  metadata_event_type: expansion_signal_notice", "  metadata_event_type: {}",
         "slack.metadata_event_type must be a non-empty string, got a mapping"),
    ],
    ids=["days-word", "days-negative", "days-fraction", "days-bool", "misspelt-key",
         "empty-stage", "type-list", "status-null", "object-number", "field-missing",
         "field-list", "user-email-missing", "slack-tag-mapping"],
)
def test_each_wrong_key_is_one_line_naming_the_file_and_the_key(tmp_path, old, new, expected):
    path = mapping_file(tmp_path, old, new)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert str(caught.value).startswith(f"{path}: {expected}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- salesforce\n- slack\n", "the file must be a mapping with sections salesforce and "
                                    "slack, got a list"),
        ("", "the file must be a mapping with sections salesforce and slack, got nothing"),
        ("salesforce: [1, 2]\nslack: {}\n", "salesforce must be a mapping of names to values, "
                                            "got a list"),
        ("salesforce: {}\n", "salesforce.signal is missing"),
        ("salesforce: {\n", "not valid YAML"),
    ],
    ids=["list", "empty", "section-list", "no-objects", "broken-yaml"],
)
def test_a_file_of_the_wrong_shape_is_one_line(tmp_path, text, expected):
    path = tmp_path / "mapping.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert "\n" not in str(caught.value)


def test_shipped_mapping_is_named_as_people_know_it_and_plans_with_its_typed_values(
    tmp_path, settings
):
    assert load_mapping().source == "expansion_signals/mapping.yml"
    path = mapping_file(tmp_path, "close_after_days: 90", "close_after_days: 60")
    planned = plan_settings(settings, load_mapping(path), cooldown_days=30)
    assert planned.close_after_days == 60
    assert planned.opportunity_stage == "Prospecting"
    assert planned.task_status == "Not Started"


def test_a_mapping_that_is_a_list_exits_2_before_any_connection(
    tmp_path, sync_env, capsys, salesforce_emulator, slack_emulator
):
    path = tmp_path / "mapping.yml"
    path.write_text("- salesforce\n", encoding="utf-8")
    sync_env("EXPANSION_SYNC_MAPPING", str(path))
    assert cli.main(["sync"]) == 2
    assert error_line(capsys).startswith(f"{path}: the file must be a mapping")
    assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []


def test_close_after_days_ninety_exits_2_before_any_connection(
    tmp_path, sync_env, capsys, salesforce_emulator, slack_emulator
):
    sync_env("EXPANSION_SYNC_MAPPING",
             str(mapping_file(tmp_path, "close_after_days: 90", "close_after_days: ninety")))
    assert cli.main(["sync"]) == 2
    assert "opportunity.defaults.close_after_days must be a whole number of days, got 'ninety'" \
        in error_line(capsys)
    assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []


def test_run_checks_the_mapping_before_it_builds(tmp_path, sync_env, capsys, monkeypatch):
    """`expansion run` with a broken mapping stops in one line, before dbt makes a warehouse."""
    warehouse = tmp_path / "never-built.duckdb"
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(warehouse))
    path = tmp_path / "mapping.yml"
    path.write_text("- salesforce\n", encoding="utf-8")
    sync_env("EXPANSION_SYNC_MAPPING", str(path))
    assert cli.main(["run", "--as-of", "2026-11-24"]) == 2
    assert error_line(capsys).startswith(f"{path}: the file must be a mapping")
    assert not warehouse.exists()


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SALESFORCE_INSTANCE_URL", "not a url"),
        ("SALESFORCE_INSTANCE_URL", "ftp://example.my.salesforce.com"),
        ("SALESFORCE_INSTANCE_URL", "https://"),
        ("SALESFORCE_INSTANCE_URL", "https://example.com:port"),
        ("SALESFORCE_LOGIN_URL", "login.salesforce.com"),
        ("SLACK_API_URL", "slack.com/api"),
        ("SALESFORCE_API_VERSION", "abc"),
        ("SALESFORCE_API_VERSION", "59"),
        ("SALESFORCE_API_VERSION", "v59.0.1"),
    ],
)
def test_unusable_url_or_api_version_is_a_config_error_naming_the_variable(name, value):
    env = {"SALESFORCE_INSTANCE_URL": "https://example.my.salesforce.com",
           "SALESFORCE_ACCESS_TOKEN": "token", name: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert str(caught.value).startswith(name)
    assert "\n" not in str(caught.value)


def test_usable_urls_and_versions_load():
    settings = load_settings({"SALESFORCE_INSTANCE_URL": "http://127.0.0.1:8443/",
                              "SALESFORCE_ACCESS_TOKEN": "token",
                              "SALESFORCE_API_VERSION": "v62.0",
                              "SLACK_API_URL": "http://127.0.0.1:9000/api/"})
    assert settings.salesforce.instance_url == "http://127.0.0.1:8443"
    assert settings.salesforce.api_version == "62.0"
    assert settings.slack.api_url == "http://127.0.0.1:9000/api/"
    assert load_settings({}).salesforce.api_version == "59.0"


@pytest.mark.parametrize(("name", "value"), [("SALESFORCE_INSTANCE_URL", "not a url"),
                                             ("SALESFORCE_API_VERSION", "abc")])
def test_bad_instance_url_or_version_exits_2_at_once(
    sync_env, capsys, salesforce_emulator, slack_emulator, name, value
):
    sync_env(name, value)
    assert cli.main(["sync"]) == 2
    line = error_line(capsys)
    assert line.startswith(name), line
    assert salesforce_emulator.calls() == [] and slack_emulator.calls() == []


# --- the mapping against the org --------------------------------------------------------


def test_a_live_run_describes_each_mapped_object_once(sync_env, capsys, salesforce_emulator):
    assert cli.main(["sync"]) == 0
    described = [c.path.split("/")[-2] for c in salesforce_emulator.calls("sobject.describe")]
    assert sorted(described) == sorted([SIGNAL, "Opportunity", "Task", "User"])
    assert len(salesforce_emulator.records(SIGNAL)) == 1


def test_dry_run_makes_no_describe(sync_env, salesforce_emulator):
    assert cli.main(["sync", "--dry-run"]) == 0
    assert salesforce_emulator.calls() == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("urgency: Urgency__c", "urgency: Urgncy__c",
         f"salesforce.signal.fields.urgency: {SIGNAL} has no field Urgncy__c"),
        ("object: Expansion_Signal__c", "object: Expansion_Signals__c",
         "salesforce.signal.object: the org has no object Expansion_Signals__c"),
        ("    active: IsActive\n", "    active: Is_Active__c\n",
         "salesforce.user.active: User has no field Is_Active__c"),
        ("    object: Task\n    external_id: Expansion_Signal_Id__c",
         "    object: Task\n    external_id: Subject",
         "salesforce.task.external_id: Task.Subject is not an External ID field"),
    ],
    ids=["field", "object", "user-field", "not-external-id"],
)
def test_a_name_the_org_lacks_exits_2_before_any_write(
    tmp_path, sync_env, capsys, salesforce_emulator, slack_emulator, old, new, expected
):
    path = mapping_file(tmp_path, old, new)
    sync_env("EXPANSION_SYNC_MAPPING", str(path))
    assert cli.main(["sync"]) == 2
    line = error_line(capsys)
    assert line.startswith(f"{path}: does not match the Salesforce org: "), line
    assert expected in line
    assert salesforce_emulator.write_count() == 0
    assert slack_emulator.messages() == []
    assert len(salesforce_emulator.calls("sobject.describe")) <= 4


def test_an_api_version_the_org_does_not_offer_exits_2_before_any_write(
    sync_env, capsys, salesforce_emulator, slack_emulator
):
    sync_env("SALESFORCE_API_VERSION", "99.0")
    assert cli.main(["sync"]) == 2
    line = error_line(capsys)
    assert line.startswith("SALESFORCE_API_VERSION 99.0 is not offered by the org"), line
    assert salesforce_emulator.write_count() == 0 and slack_emulator.messages() == []


def test_an_org_failing_at_the_check_fails_the_run_in_one_line(
    sync_env, capsys, salesforce_emulator
):
    salesforce_emulator.inject(faults.unavailable(), kind="sobject.describe", times=10)
    assert cli.main(["sync"]) == 1
    line = error_line(capsys)
    assert line.startswith("Salesforce: checking the mapping failed: SERVER_UNAVAILABLE")
    assert salesforce_emulator.write_count() == 0
