"""What `expansion report` reads: the marts behind the RevOps page, as plain rows.

Reading only, through the sync's warehouse connection (DuckDB or PostgreSQL):
every number on the page comes from these rows. A missing mart, or one built
before a column existed, is a WarehouseError naming it and what to run. The
backtest's tables are optional: without them the page says how to make them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from expansion_signals.warehouse import Database, WarehouseError

ACCOUNTS_SHOWN = 25  # "start with the top 25 expansion-ready accounts"


@dataclass(frozen=True)
class NrrMonth:
    month: date
    period_start: date
    period_end: date
    as_of: date
    cohort_accounts: int
    starting_arr: float
    seat_expansion_arr: float
    consumption_expansion_arr: float
    cross_sell_expansion_arr: float
    tier_expansion_arr: float
    bu_rollout_expansion_arr: float
    price_expansion_arr: float
    expansion_arr: float
    contraction_arr: float
    churned_arr: float
    ending_arr: float
    nrr: float | None
    grr: float | None
    seat_share: float | None
    consumption_share: float | None
    cross_sell_share: float | None
    tier_share: float | None
    bu_rollout_share: float | None


@dataclass(frozen=True)
class EfficiencyQuarter:
    quarter: date
    quarter_end: date
    as_of: date
    active_accounts: int
    expanded_accounts: int
    expansion_logo_pct: float | None
    first_expansions: int
    median_days_to_first_expansion: float | None
    multi_expansion_accounts: int
    multi_expansion_pct: float | None
    expansion_arr: float | None
    signal_led_expansion_arr_12m: float | None
    expansion_driven_ndr: float | None
    owners: int | None
    expansion_arr_per_owner: float | None
    episodes_started: int | None
    play_hours: float | None
    episode_expansion_arr: float | None
    expansion_arr_per_hour: float | None


@dataclass(frozen=True)
class PlayPerformance:
    play_id: str
    motion: str
    as_of: date
    episodes: int
    matured_episodes: int
    conversions: int
    conversion_rate: float | None
    median_days_to_conversion: float | None
    average_expansion_amount: float | None
    baseline_conversion_rate: float | None
    lift: float | None
    lift_lower: float | None
    lift_upper: float | None  # None: unbounded
    won_expansions: int | None
    recall: float | None
    effort_hours: float | None
    expansion_arr_per_hour: float | None


@dataclass(frozen=True)
class PlayFunnel:
    play_id: str
    motion: str
    as_of: date
    fired: int
    alerted: int | None  # None: the sync has never run
    opportunities: int
    won: int
    sla_tracked: int
    sla_met: int
    sla_compliance: float | None  # None: nothing tracked


@dataclass(frozen=True)
class SignalWeek:
    week_start: date
    as_of: date
    firing_signals: int
    new_signals: int
    new_high: int
    new_medium: int
    new_low: int
    new_signal_accounts: int


@dataclass(frozen=True)
class ReadyAccount:
    overall_rank: int
    account_id: str
    account_name: str | None
    as_of: date
    owner_email: str | None
    expected_value: float
    signals: int
    signal_categories: int
    compound: bool
    strongest_play_id: str
    strongest_urgency: str
    plays: str


@dataclass(frozen=True)
class SweepRow:
    parameter: str
    play_id: str | None
    value: float
    is_default: bool
    is_best: bool
    alerts: int | None
    alerts_per_owner_per_week: float | None
    episodes: int | None
    conversions: int | None
    precision: float | None
    recall: float | None
    won_arr: float | None
    won_arr_per_alert: float | None
    within_budget: bool


@dataclass(frozen=True)
class Backtest:
    run_id: Any
    finished_at: datetime | date | str | None
    sweep: list[SweepRow]
    vars_line: str | None = None  # the --vars that applies the best values, when recorded


@dataclass(frozen=True)
class ReportData:
    warehouse: str  # where it was read, for people: a file or a DSN without password
    as_of: date | None
    nrr: list[NrrMonth]
    efficiency: list[EfficiencyQuarter]
    plays: list[PlayPerformance]
    funnel: list[PlayFunnel]
    signal_weeks: list[SignalWeek]
    accounts: list[ReadyAccount]
    backtest: Backtest | None


Row = TypeVar("Row")

# (table, row type, order) of every mart the page needs
MARTS: tuple[tuple[str, type, str], ...] = (
    ("marts.nrr_by_motion", NrrMonth, "month"),
    ("marts.expansion_efficiency", EfficiencyQuarter, "quarter"),
    ("marts.play_performance", PlayPerformance, "play_id"),
    ("marts.play_funnel", PlayFunnel, "play_id"),
    ("marts.signal_volume", SignalWeek, "week_start"),
    ("marts.expansion_ready_accounts", ReadyAccount, "overall_rank"),
)
SWEEP = "backtest.threshold_sweep"
RUNS = "backtest.runs"


def _plain(value: Any) -> Any:
    """PostgreSQL's numeric arrives as Decimal: the page computes with floats."""
    return float(value) if isinstance(value, Decimal) else value


def _columns(db: Database, table: str) -> set[str]:
    return db.columns(*table.split("."))


def _check_columns(db: Database, table: str, row_type: type, remedy: str) -> None:
    wanted = [field.name for field in dataclasses.fields(row_type)]
    missing = [name for name in wanted if name not in _columns(db, table)]
    if missing:
        raise WarehouseError(f"{table} in {db.description} has no column "
                             f"{', '.join(missing)}: it was built by an older version; "
                             f"run {remedy}")


def read_rows(db: Database, table: str, row_type: type[Row], order: str, where: str = "",
              params: list[Any] | None = None, limit: int | None = None) -> list[Row]:
    names = [field.name for field in dataclasses.fields(row_type)]  # type: ignore[arg-type]
    sql = f"select {', '.join(names)} from {table} {where} order by {order}"
    if limit is not None:
        sql += f" limit {int(limit)}"
    return [row_type(**{n: _plain(v) for n, v in zip(names, values, strict=True)})
            for values in db.execute(sql, params or [])]


def check_marts(db: Database) -> None:
    """Every mart the page needs is there, with its columns; else one WarehouseError naming
    the first that is not."""
    for table, row_type, _ in MARTS:
        if not db.table_exists(*table.split(".")):
            raise WarehouseError(f"{table} is not in {db.description}: run `expansion build` "
                                 "first (the report reads the marts it builds)")
        _check_columns(db, table, row_type, "`expansion build`")


# a sweep column the page can read under another name (the backtest counts matured episodes)
SWEEP_ALTERNATIVES = {"episodes": ("episodes", "matured_episodes")}


def read_backtest(db: Database) -> Backtest | None:
    """The latest finished run's threshold sweep, or None when no backtest was run."""
    if not (db.table_exists("backtest", "runs") and db.table_exists("backtest", "threshold_sweep")):
        return None
    columns = _columns(db, SWEEP)
    selected = []
    for field in dataclasses.fields(SweepRow):
        found = [c for c in SWEEP_ALTERNATIVES.get(field.name, (field.name,)) if c in columns]
        if not found:
            raise WarehouseError(f"{SWEEP} in {db.description} has no column {field.name}: "
                                 "it was written by an older version; run `expansion backtest` "
                                 "again")
        selected.append(found[0] if found[0] == field.name else f"{found[0]} as {field.name}")
    vars_line = "vars_line" if "vars_line" in _columns(db, RUNS) else "cast(null as varchar)"
    latest = db.execute(f"select run_id, finished_at, {vars_line} from {RUNS} "
                        "where finished_at is not null order by finished_at desc, run_id desc "
                        "limit 1")
    if not latest:
        return None
    run_id, finished_at, vars_line = latest[0]
    names = [field.name for field in dataclasses.fields(SweepRow)]
    sweep = [SweepRow(**{n: _plain(v) for n, v in zip(names, values, strict=True)})
             for values in db.execute(f"select {', '.join(selected)} from {SWEEP} "
                                      "where run_id = ? order by parameter, play_id, value",
                                      [run_id])]
    return Backtest(run_id, finished_at, sweep, vars_line) if sweep else None


def read_report(db: Database) -> ReportData:
    check_marts(db)
    nrr, efficiency, plays, funnel, weeks, accounts = (
        read_rows(db, table, row_type, order,
                  limit=ACCOUNTS_SHOWN if row_type is ReadyAccount else None)
        for table, row_type, order in MARTS)
    dates = [row.as_of for rows in (nrr, efficiency, plays, funnel, weeks, accounts)
             for row in rows if row.as_of is not None]
    where = f"PostgreSQL {db.description}" if db.dialect == "postgres" else (
        f"DuckDB file {db.description}")
    return ReportData(warehouse=where, as_of=max(dates) if dates else None, nrr=nrr,
                      efficiency=efficiency, plays=plays, funnel=funnel, signal_weeks=weeks,
                      accounts=accounts, backtest=read_backtest(db))
