"""The demo data generator writes exactly the source contract, deterministically."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from expansion_dev.contract import RAW_TABLES
from expansion_dev.demo_data import GeneratorOptions, generate

from expansion_signals.project import seeds_dir

from .conftest import Warehouse

# DuckDB's names for the contract's portable types
DUCKDB_TYPES = {
    "varchar": "VARCHAR", "integer": "INTEGER", "double": "DOUBLE",
    "timestamp": "TIMESTAMP", "date": "DATE", "boolean": "BOOLEAN",
}

FOREIGN_KEYS = [
    ("subscriptions", "account_id", "accounts", "account_id"),
    ("users", "account_id", "accounts", "account_id"),
    ("seat_assignments", "account_id", "accounts", "account_id"),
    ("seat_assignments", "user_id", "users", "user_id"),
    ("usage_events", "account_id", "accounts", "account_id"),
    ("usage_events", "user_id", "users", "user_id"),
    ("marketing_events", "account_id", "accounts", "account_id"),
    ("marketing_events", "user_id", "users", "user_id"),
    ("nps_responses", "account_id", "accounts", "account_id"),
    ("nps_responses", "user_id", "users", "user_id"),
    ("support_tickets", "account_id", "accounts", "account_id"),
    ("crm_activities", "account_id", "accounts", "account_id"),
    ("account_outcomes", "account_id", "accounts", "account_id"),
    ("opportunities", "account_id", "accounts", "account_id"),
    ("accounts", "parent_account_id", "accounts", "account_id"),
]


def test_contract_lists_every_table_of_the_spec():
    assert set(RAW_TABLES) == {
        "accounts", "subscriptions", "users", "seat_assignments", "usage_events",
        "marketing_events", "nps_responses", "support_tickets", "crm_activities",
        "account_outcomes", "opportunities",
    }


def test_generator_writes_exactly_the_contract(generated_warehouse: Warehouse):
    for table, columns in RAW_TABLES.items():
        actual = generated_warehouse.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        )
        expected = [(name, DUCKDB_TYPES[data_type]) for name, data_type in columns]
        assert actual == expected, table
    tables = {r[0] for r in generated_warehouse.query(
        "select table_name from information_schema.tables where table_schema = 'raw'")}
    assert tables == set(RAW_TABLES)


def test_every_table_has_rows(generated_warehouse: Warehouse):
    for table in RAW_TABLES:
        assert generated_warehouse.scalar(f"select count(*) from raw.{table}") > 0, table


@pytest.mark.parametrize(("child", "column", "parent", "key"), FOREIGN_KEYS)
def test_foreign_keys_resolve(generated_warehouse: Warehouse, child, column, parent, key):
    orphans = generated_warehouse.scalar(
        f"select count(*) from raw.{child} c where c.{column} is not null "
        f"and not exists (select 1 from raw.{parent} p where p.{key} = c.{column})"
    )
    assert orphans == 0


def test_primary_keys_are_unique_except_usage_event_redeliveries(generated_warehouse: Warehouse):
    keys = {"accounts": "account_id", "subscriptions": "subscription_id", "users": "user_id",
            "marketing_events": "event_id", "nps_responses": "response_id",
            "support_tickets": "ticket_id", "crm_activities": "activity_id",
            "account_outcomes": "outcome_id", "opportunities": "opportunity_id"}
    for table, key in keys.items():
        assert generated_warehouse.scalar(
            f"select count(*) - count(distinct {key}) from raw.{table}") == 0, table
    redelivered = generated_warehouse.scalar(
        "select count(*) - count(distinct event_id) from raw.usage_events")
    assert redelivered > 0  # at-least-once trackers: the models must count these once


def test_data_ends_on_as_of(generated_warehouse: Warehouse):
    as_of = generated_warehouse.as_of
    assert generated_warehouse.scalar(
        "select max(cast(occurred_at as date)) from raw.usage_events") == as_of
    for table, column in [("subscriptions", "start_date"), ("opportunities", "created_at"),
                          ("marketing_events", "occurred_at"), ("crm_activities", "occurred_at")]:
        latest = generated_warehouse.scalar(f"select max(cast({column} as date)) from raw.{table}")
        assert latest <= as_of, table


def test_values_follow_the_contract(generated_warehouse: Warehouse):
    q = generated_warehouse.scalar
    assert q("select count(*) from raw.accounts "
             "where segment not in ('enterprise', 'mid_market', 'smb')") == 0
    assert q("select count(*) from raw.subscriptions "
             "where billing_model not in ('seat', 'usage', 'flat') or end_date < start_date") == 0
    assert q("select count(*) from raw.nps_responses where score not between 0 and 10") == 0
    assert q("select count(*) from raw.users where deactivated_at <= created_at") == 0
    assert q("select count(*) from raw.seat_assignments where unassigned_at <= assigned_at") == 0
    assert q("select count(*) from raw.support_tickets "
             "where priority not in ('low', 'normal', 'high', 'urgent')") == 0
    unknown_tiers = q(
        "select count(*) from raw.subscriptions s where not exists (select 1 from "
        f"read_csv('{seeds_dir() / 'plan_catalog.csv'}') c "
        "where c.product = s.product and c.plan_tier = s.plan_tier)")
    assert unknown_tiers == 0


def test_behaviour_is_realistic(generated_warehouse: Warehouse):
    q = generated_warehouse.scalar
    assert q("select count(*) from raw.accounts where parent_account_id is not null") > 0
    assert q("select count(distinct segment) from raw.accounts") == 3
    # renewals are new lines, and some accounts churn
    assert q("select count(*) from raw.subscriptions s join raw.subscriptions p "
             "on p.account_id = s.account_id and p.product = s.product "
             "and p.end_date + 1 = s.start_date") > 0
    assert q("select count(*) from raw.subscriptions where cancelled_on is not null") > 0
    # expansions were won and lost, in every motion
    assert q("select count(distinct motion) from raw.opportunities "
             "where opportunity_type = 'expansion'") == 5
    assert q("select count(distinct is_won) from raw.opportunities "
             "where opportunity_type = 'expansion'") == 2


def _fingerprint(path: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            table: con.execute(
                f"select count(*), sum(hash(columns(*))) from raw.{table}"
            ).fetchone()
            for table in RAW_TABLES
        }
    finally:
        con.close()


def test_generation_is_deterministic_for_a_seed(tmp_path: Path):
    options = GeneratorOptions(accounts=40, days=60, as_of=date(2026, 3, 31), seed=11,
                               events=20_000)
    generate(tmp_path / "a.duckdb", options, seeds_dir())
    generate(tmp_path / "b.duckdb", options, seeds_dir())
    generate(tmp_path / "c.duckdb", GeneratorOptions(**{**options.__dict__, "seed": 12}),
             seeds_dir())
    first = _fingerprint(tmp_path / "a.duckdb")
    assert first == _fingerprint(tmp_path / "b.duckdb")
    assert first != _fingerprint(tmp_path / "c.duckdb")


def test_event_volume_follows_the_target(tmp_path: Path):
    options = GeneratorOptions(accounts=60, days=90, as_of=date(2026, 3, 31), events=50_000)
    result = generate(tmp_path / "v.duckdb", options, seeds_dir())
    assert 0.8 * 50_000 <= result.row_counts["usage_events"] <= 1.2 * 50_000


def test_bad_options_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path / "x.duckdb", GeneratorOptions(accounts=0), seeds_dir())


def test_crm_account_ids_are_valid_salesforce_ids(generated_warehouse: Warehouse):
    from expansion_dev.emulators.sf_ids import to18

    ids = [r[0] for r in generated_warehouse.query(
        "select crm_account_id from raw.accounts where crm_account_id is not null")]
    assert ids
    assert all(len(i) == 18 and to18(i[:15]) == i for i in ids)
