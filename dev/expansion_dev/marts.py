"""The marts the sync reads, written by hand: for tests and benchmarks that need a
warehouse without a dbt build. The play catalog comes from the project's seed, as
the models would publish it in marts.sync_plays."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from expansion_signals.project import seeds_dir

DEFAULT_SLA_DAYS = 14
# The marts the sync reads: their columns and portable types.
SYNC_MARTS: dict[str, str] = {
    "expansion_signals": """signal_id varchar, account_id varchar, crm_account_id varchar,
        account_name varchar, play_id varchar, motion varchar, product varchar,
        episode_start date, as_of date, urgency varchar, close_path varchar, owner_role varchar,
        owner_email varchar, sla_due_on date, signal_count integer, compound boolean,
        days_to_renewal integer, evidence varchar, signal_categories integer,
        priority_score double precision, priority_rank integer, responsible_role varchar,
        responsible_email varchar, informed_emails varchar, held_until date""",
    "sync_plays": """play_id varchar, motion varchar, description varchar, sla_days integer,
        collateral varchar, opens_opportunity boolean, talk_track varchar""",
    "sync_settings": """as_of date, cooldown_days integer, default_sla_days integer,
        history_days integer""",
}
SYNC_MARTS_DDL = ("create schema if not exists marts",) + tuple(
    statement for table, columns in SYNC_MARTS.items() for statement in (
        f"drop table if exists marts.{table}", f"create table marts.{table} ({columns})"))


def seed_plays() -> list[tuple[Any, ...]]:
    """The rows of marts.sync_plays, from seeds/plays.csv."""
    with (seeds_dir() / "plays.csv").open(newline="", encoding="utf-8") as f:
        return [
            (r["play_id"], r["motion"], r["description"],
             int(r["sla_days"] or DEFAULT_SLA_DAYS), r["collateral"],
             r["opens_opportunity"].strip().lower() in ("true", "1", "t"),
             r.get("talk_track") or None)
            for r in csv.DictReader(f)
        ]


def rank_per_owner(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with priority_rank made 1, 2, ... within each owner, as the mart ranks them:
    in the order of the ranks given (then priority_score, highest first, then signal_id)."""
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_owner[(row.get("owner_email") or "").strip().lower()].append(row)
    ranked: dict[int, dict[str, Any]] = {}
    for group in by_owner.values():
        ordered = sorted(group, key=lambda r: (r.get("priority_rank") or 0,
                                               -(r.get("priority_score") or 0.0),
                                               str(r["signal_id"])))
        for rank, row in enumerate(ordered, start=1):
            ranked[id(row)] = {**row, "priority_rank": rank}
    return [ranked[id(row)] for row in rows]


def write_sync_marts(
    execute: Callable[[str, Sequence[Any]], Any],
    as_of: date,
    *,
    cooldown_days: int = 30,
    history_days: int = 400,
) -> None:
    """Create the three marts (empty expansion_signals), the plays and the settings row.

    `execute(sql, params)` with `?` placeholders: a DuckDB connection's, or the sync's
    Database.execute on any warehouse."""
    for statement in SYNC_MARTS_DDL:
        execute(statement, [])
    for play in seed_plays():
        execute("insert into marts.sync_plays values (?, ?, ?, ?, ?, ?, ?)", list(play))
    execute("insert into marts.sync_settings values (?, ?, ?, ?)",
            [as_of, cooldown_days, DEFAULT_SLA_DAYS, history_days])
