"""`expansion backtest`: judge the plays and their thresholds on the company's own past.

The warehouse keeps the daily history of every fired key (int_trigger_days)
and the daily panels the triggers read (seat and limit utilization, gated
events, monthly consumption ratios). The backtest replays the engine as if it
had run every `every` days (weekly by default) over a range of that history:

- per play: the episodes it would have alerted on (a new episode is an
  alert), the share of matured ones that converted (precision), the share of
  the motion's won expansions an episode preceded (recall), the lift over
  accounts where it did not fire with a 95% interval, median days to
  conversion, and the won ARR per alert;
- compound against single-signal accounts, under both compound rules;
- for each main threshold, the same figures over a grid of values around the
  one the warehouse was built with, computed from the panels' raw ratios in
  one pass (no dbt rebuild per value), and the value that earns the most won
  ARR per alert while the alerts stay within the owners' weekly budget, with
  the `--vars` line that applies it.

Conversion follows the models: a won expansion of the play's motion created
within the conversion window after the episode started. A replayed episode
has no signal id, so an Opportunity the sync opened counts only for its own
play and product, by window.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from expansion_signals.formats import money, number, percent
from expansion_signals.warehouse import Database, WarehouseError

SCHEMA = "backtest"
Z_95 = 1.96
DEFAULT_VARIANT = "default"


# The fired days of one grid value, on the run days, from the candidates the panels give:
# each reads two parameters, the swept one and its partner at the built value.
SEAT_FIRED = ("select account_id, product, date_day from bt_seat "
              "where sustained = ? and lowest >= ?")
CONSUMPTION_FIRED = ("select account_id, product, date_day from bt_consumption "
                     "where months = ? and lowest >= ?")
TIER_FIRED = ("select l.account_id, l.product, l.date_day "
              "from intermediate.int_limit_utilization_daily as l "
              "inner join bt_run_days as r on r.date_day = l.date_day "
              "where l.below_top_tier and (l.limit_utilization >= ? "
              "or l.gated_events_in_window >= ?)")

ATTACH_FIRED = ("select distinct account_id, offer_product as product, date_day from bt_attach "
                "where feature_adoption >= min_feature_adoption_pct + ?")


@dataclass(frozen=True)
class Sweep:
    """One threshold: the play it tunes, how its grid is laid out around the built value,
    and how a grid value (with the other thresholds at theirs) picks the fired days."""

    parameter: str
    play_id: str
    grid: Callable[[float], list[float]]
    fired_sql: str
    params: Callable[[float, dict[str, float]], list[float]]
    integer: bool = False

    def variant(self, value: float) -> str:
        return f"{self.parameter}={int(value) if self.integer else value}"


def _around(step: float, below: int, above: int, low: float, high: float) -> Callable:
    def grid(default: float) -> list[float]:
        values = {round(default + i * step, 4) for i in range(-below, above + 1)}
        return sorted(v for v in values | {round(default, 4)} if low <= v <= high)
    return grid


def _fixed(values: Iterable[float]) -> Callable:
    def grid(default: float) -> list[float]:
        return sorted(set(values) | {default})
    return grid


SWEEPS = (
    Sweep("expansion_seat_utilization_threshold", "seat_expansion",
          _around(0.05, 3, 3, 0.5, 1.2), SEAT_FIRED,
          lambda v, d: [int(d["expansion_seat_sustained_days"]), v]),
    Sweep("expansion_seat_sustained_days", "seat_expansion",
          _fixed([7, 10, 14, 21, 28]), SEAT_FIRED,
          lambda v, d: [int(v), d["expansion_seat_utilization_threshold"]], integer=True),
    Sweep("expansion_consumption_ratio_threshold", "consumption_commit",
          _around(0.1, 3, 3, 1.0, 3.0), CONSUMPTION_FIRED,
          lambda v, d: [int(d["expansion_consumption_months"]), v]),
    Sweep("expansion_consumption_months", "consumption_commit",
          _fixed([1, 2, 3, 4]), CONSUMPTION_FIRED,
          lambda v, d: [int(v), d["expansion_consumption_ratio_threshold"]], integer=True),
    Sweep("expansion_limit_warning", "tier_upgrade",
          _around(0.05, 3, 4, 0.3, 1.0), TIER_FIRED,
          lambda v, d: [v, d["expansion_feature_gap_min_events"]]),
    Sweep("expansion_feature_gap_min_events", "tier_upgrade",
          _fixed([1, 2, 3, 4, 5, 6, 8]), TIER_FIRED,
          lambda v, d: [d["expansion_limit_warning"], v], integer=True),
    Sweep("expansion_attach_adoption_shift", "feature_attach",
          _around(0.05, 6, 4, -1.0, 1.0), ATTACH_FIRED, lambda v, d: [v]),
)


class BacktestError(WarehouseError):
    """The backtest cannot run on this warehouse or these options (one line for the user)."""


@dataclass
class BacktestOptions:
    start: date | None = None
    end: date | None = None
    every_days: int = 7
    alerts_per_owner_per_week: float = 5.0
    min_matured_episodes: int = 10


@dataclass
class PlayResult:
    variant: str
    play_id: str
    motion: str
    alerts: int
    matured_episodes: int
    conversions: int
    precision: float | None
    won_expansions: int
    recall: float | None
    baseline_rate: float | None
    lift: float | None
    lift_lower: float | None
    lift_upper: float | None
    median_days_to_conversion: float | None
    won_arr: float
    won_arr_per_alert: float | None


@dataclass
class SweepPoint:
    parameter: str
    play_id: str
    value: float
    is_default: bool
    is_best: bool
    alerts: int
    alerts_per_owner_per_week: float | None
    matured_episodes: int
    conversions: int
    precision: float | None
    recall: float | None
    lift: float | None
    won_arr: float
    won_arr_per_alert: float | None
    within_budget: bool


@dataclass
class CompoundResult:
    rule: str
    compound_episodes: int
    compound_conversions: int
    compound_rate: float | None
    single_episodes: int
    single_conversions: int
    single_rate: float | None
    ratio: float | None


@dataclass
class BacktestResult:
    run_id: str
    as_of: date
    start: date
    end: date
    every_days: int
    owners: int
    weeks: float
    alerts_per_owner_per_week_budget: float
    plays: list[PlayResult] = field(default_factory=list)
    sweeps: list[SweepPoint] = field(default_factory=list)
    compound: list[CompoundResult] = field(default_factory=list)
    best_vars: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def built_alerts_per_owner_per_week(self) -> float | None:
        """The alert load of the built thresholds: every play's replayed alerts."""
        if not self.weeks:
            return None
        return sum(p.alerts for p in self.plays) / self.owners / self.weeks

    def over_budget(self) -> str | None:
        """A sentence when the built thresholds alone send more than the budget."""
        load = self.built_alerts_per_owner_per_week
        if load is None or load <= self.alerts_per_owner_per_week_budget:
            return None
        return (f"The built thresholds already send {load:.1f} alerts per owner per week, over "
                f"the budget of {number(self.alerts_per_owner_per_week_budget)}: only values "
                "that send no more are proposed.")

    def vars_line(self) -> str | None:
        """The --vars that apply every best value that differs from the build's."""
        if not self.best_vars:
            return None
        body = ", ".join(f"{name}: {number(value)}" for name, value in self.best_vars.items())
        return f"--vars '{{{body}}}'"



def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def rate_ratio_interval(a: int, n1: float, c: int, n2: float,
                        z: float = Z_95) -> tuple[float | None, float | None]:
    """Katz's log interval of (a/n1)/(c/n2), as the models' macro rate_ratio_bound computes
    it: half an event added to every cell when either side has none; the lower bound is 0
    when a is 0, the upper unbounded (None) when c is 0; None when a side is empty."""
    if not (n1 > 0 and n2 > 0):
        return None, None
    fix = 0.5 if a == 0 or c == 0 else 0.0
    a1, c1, m1, m2 = a + fix, c + fix, n1 + 2 * fix, n2 + 2 * fix
    center = math.log((a1 * m2) / (c1 * m1))
    se = math.sqrt(1 / a1 - 1 / m1 + 1 / c1 - 1 / m2)
    lower = 0.0 if a == 0 else math.exp(center - z * se)
    upper = None if c == 0 else math.exp(center + z * se)
    return lower, upper


# --- what the warehouse says -------------------------------------------------------------

REQUIRED = (
    ("marts", "model_thresholds"), ("marts", "sync_settings"),
    ("intermediate", "int_trigger_days"), ("intermediate", "int_limit_utilization_daily"),
    ("intermediate", "int_account_product_days"), ("intermediate", "int_consumption_monthly"),
    ("intermediate", "int_account_days"), ("intermediate", "int_plays"),
    ("intermediate", "int_account_owners"), ("intermediate", "int_signal_episodes"),
    ("staging", "stg_opportunities"),
)


def _check_built(db: Database) -> None:
    for schema, table in REQUIRED:
        if not db.table_exists(schema, table):
            raise BacktestError(f"{schema}.{table} is not in {db.description}: "
                                "run `expansion build` first")


def _settings(db: Database) -> tuple[date, int, dict[str, float]]:
    rows = db.execute("select parameter, value, as_of from marts.model_thresholds")
    values = {name: float(value) for name, value, _ in rows}
    needed = {s.parameter for s in SWEEPS} | {
        "expansion_conversion_window_days", "expansion_cooldown_days",
        "expansion_compound_min_signals", "expansion_compound_min_categories"}
    missing = sorted(needed - set(values))
    if missing:
        raise BacktestError(f"marts.model_thresholds in {db.description} has no "
                            f"{', '.join(missing)}: it was built by an older version; "
                            "run `expansion build` first")
    as_of = rows[0][2]
    as_of = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of)[:10])
    (history_days,), = db.execute("select history_days from marts.sync_settings")
    return as_of, int(history_days), values


def _resolve_range(options: BacktestOptions, as_of: date, history_days: int) -> tuple[date, date]:
    history_start = as_of - timedelta(days=history_days - 1)
    end = options.end or as_of
    start = options.start or max(history_start, end - timedelta(days=364))
    if end > as_of:
        raise BacktestError(f"--end {end} is after the warehouse's as_of {as_of}: the history "
                            "ends there; build with a later --as-of or choose an earlier end")
    if start < history_start:
        raise BacktestError(f"--start {start} is before the history window, which starts on "
                            f"{history_start} ({history_days} days ending {as_of}): choose a later "
                            "start, or build with a larger expansion_history_days")
    if start > end:
        raise BacktestError(f"--start {start} is after --end {end}")
    if options.every_days < 1:
        raise BacktestError(f"--every must be at least 1 day, got {options.every_days}")
    if options.alerts_per_owner_per_week <= 0:
        raise BacktestError("--alerts-per-owner-per-week must be more than 0, got "
                            f"{options.alerts_per_owner_per_week}")
    return start, end


# --- the replay ----------------------------------------------------------------------------

def _run_days(start: date, end: date, every: int, history_start: date) -> list[date]:
    """The days the replayed engine runs: every `every` days through `end`, in phase with
    `start`, reaching back into the history so an episode running before `start` is not a
    new alert inside the range."""
    first = start
    while first - timedelta(days=every) >= history_start:
        first -= timedelta(days=every)
    days, day = [], first
    while day <= end:
        days.append(day)
        day += timedelta(days=every)
    return days


def _prepare(db: Database, run_days: list[date], start: date, end: date) -> None:
    db.execute("create temporary table bt_run_days (date_day date)")
    db.insert_rows("insert into bt_run_days", [(d,) for d in run_days])
    db.execute("""
        create temporary table bt_wins as
        select o.opportunity_id, o.account_id, o.motion, o.created_on, o.amount,
               e.play_id as signal_play_id, e.product as signal_product
        from staging.stg_opportunities as o
        left join intermediate.int_signal_episodes as e
            on e.signal_id = o.expansion_signal_id
        where o.opportunity_type = 'expansion' and o.is_won""")
    db.execute("""
        create temporary table bt_active as
        select distinct account_id from intermediate.int_account_days
        where date_day >= ? and date_day <= ?""", [start, end])
    # The replayed days a key fires on; `variant` names the threshold values they used.
    db.execute("""
        create temporary table bt_fired as
        select cast(? as varchar(200)) as variant, t.account_id, t.play_id, t.product, t.date_day
        from intermediate.int_trigger_days as t
        inner join bt_run_days as r on r.date_day = t.date_day""", [DEFAULT_VARIANT])


def _insert_variant(db: Database, variant: str, play_id: str, select_sql: str,
                    params: list[Any]) -> None:
    """Fired rows of one play under one threshold value: `select_sql` returns account_id,
    product, date_day on the run days; the play fires only on an active account's day and
    only when the catalog has it on."""
    db.execute(f"""
        insert into bt_fired
        select cast(? as varchar(200)), fired.account_id, cast(? as varchar(200)), fired.product,
               fired.date_day
        from ({select_sql}) as fired
        inner join intermediate.int_account_days as a
            on a.account_id = fired.account_id and a.date_day = fired.date_day
        where exists (select 1 from intermediate.int_plays as p where p.play_id = ?)""",
               [variant, play_id, *params, play_id])


def _seat_candidates(db: Database, days_grid: list[int]) -> None:
    """Per run day and sustained length N: the lowest seat utilization of the N days ending
    it, when all N days have seat lines (a day without seats purchased counts as -1)."""
    db.execute("""create temporary table bt_seat (
        sustained integer, account_id varchar, product varchar, date_day date,
        lowest double precision)""")
    for n in days_grid:
        db.execute(f"""
            insert into bt_seat
            select {n}, account_id, product, date_day, lowest
            from (
                select account_id, product, date_day,
                       min(case when seats_purchased > 0 then seat_utilization else -1 end)
                           over w as lowest,
                       min(date_day) over w as first_day,
                       count(*) over w as days
                from intermediate.int_limit_utilization_daily
                where has_seat_line
                window w as (partition by account_id, product order by date_day
                             rows between {n - 1} preceding and current row)
            ) as windows
            where days = {n}
                and first_day = date_day - {n - 1}
                and date_day in (select date_day from bt_run_days)""")


def _consumption_candidates(db: Database, months_grid: list[int]) -> None:
    """Per run day with a usage commitment and months M: the lowest consumption ratio of
    the last M complete months, when all M are committed (else -1)."""
    db.execute("""create temporary table bt_consumption (
        months integer, account_id varchar, product varchar, date_day date,
        lowest double precision)""")
    db.execute("""
        create temporary table bt_committed_days as
        select distinct d.account_id, d.product, d.date_day,
               cast(date_trunc('month', d.date_day + 1) as date) as first_incomplete_month
        from intermediate.int_account_product_days as d
        inner join bt_run_days as r on r.date_day = d.date_day
        where d.committed_units_per_month > 0""")
    for m in months_grid:
        db.execute(f"""
            insert into bt_consumption
            select {m}, c.account_id, c.product, c.date_day,
                   min(case when m.units_committed > 0 then m.consumption_ratio else -1 end)
            from bt_committed_days as c
            inner join intermediate.int_consumption_monthly as m
                on m.account_id = c.account_id and m.product = c.product
                and m.month_start < c.first_incomplete_month
                and m.month_start >= cast(c.first_incomplete_month - interval '{m} month' as date)
            group by c.account_id, c.product, c.date_day
            having count(*) = {m}""")


def _attach_candidates(db: Database) -> None:
    """Per run day, attach rule and account: the current tier's feature adoption and the
    rule's bar, where every other condition of the rule holds (int_trigger_feature_attach's
    rules: tenure, the offer not owned, the problem events when the rule has them)."""
    db.execute("""
        create temporary table bt_attach as
        select prerequisite.account_id, rules.offer_product, prerequisite.date_day,
               rules.min_feature_adoption_pct,
               cast(coalesce(tier_adoption.tier_features_used_in_window, 0) as double precision)
                   / nullif(cast(sizes.feature_count as double precision), 0)
                   as feature_adoption
        from config.attach_rules as rules
        inner join intermediate.int_account_product_days as prerequisite
            on prerequisite.product = rules.prerequisite_product
        inner join bt_run_days as r on r.date_day = prerequisite.date_day
        inner join (select product, plan_tier, count(*) as feature_count
                    from config.tier_features group by product, plan_tier) as sizes
            on sizes.product = prerequisite.product
            and sizes.plan_tier = prerequisite.current_plan_tier
        left join intermediate.int_feature_adoption_daily as tier_adoption
            on tier_adoption.account_id = prerequisite.account_id
            and tier_adoption.product = prerequisite.product
            and tier_adoption.tier_rank = prerequisite.current_tier_rank
            and tier_adoption.problem_feature = ''
            and tier_adoption.date_day = prerequisite.date_day
        left join intermediate.int_feature_adoption_daily as problem
            on problem.account_id = prerequisite.account_id
            and problem.product = prerequisite.product
            and problem.tier_rank = 0
            and problem.problem_feature = rules.problem_feature
            and problem.date_day = prerequisite.date_day
        left join intermediate.int_account_product_days as offer
            on offer.account_id = prerequisite.account_id
            and offer.product = rules.offer_product
            and offer.date_day = prerequisite.date_day
        where offer.account_id is null
            and prerequisite.date_day - prerequisite.first_start_date
                >= rules.min_days_since_purchase
            and (rules.problem_feature is null or trim(rules.problem_feature) = ''
                 or rules.problem_min_events is null
                 or coalesce(problem.problem_events_in_window, 0) >= rules.problem_min_events)""")


def _sweep_variants(db: Database, defaults: dict[str, float]) -> dict[str, list[float]]:
    """Insert the fired rows of every grid value; returns the grid of each parameter."""
    grids = {s.parameter: s.grid(defaults[s.parameter]) for s in SWEEPS}
    seat_days = sorted({int(v) for v in grids["expansion_seat_sustained_days"]})
    _seat_candidates(db, seat_days)
    months = sorted({int(v) for v in grids["expansion_consumption_months"]})
    _consumption_candidates(db, months)
    _attach_candidates(db)
    for sweep in SWEEPS:
        for value in grids[sweep.parameter]:
            _insert_variant(db, sweep.variant(value), sweep.play_id, sweep.fired_sql,
                            sweep.params(value, defaults))
    return grids


# The replayed episodes of every variant that started in the range (fired days of one key
# belong to one episode while the gap is at most the cooldown), and the won expansions they
# converted into: of the play's motion, on the account, created within the window.
EPISODES_SQL = """
create temporary table bt_episodes as
with ordered as (
    select variant, account_id, play_id, product, date_day,
           lag(date_day) over (partition by variant, account_id, play_id, product
                               order by date_day) as previous_day
    from bt_fired
),
numbered as (
    select *,
           sum(case when previous_day is null or date_day - previous_day > {cooldown}
                    then 1 else 0 end)
               over (partition by variant, account_id, play_id, product order by date_day
                     rows between unbounded preceding and current row) as episode_no
    from ordered
),
episodes as (
    select variant, account_id, play_id, product, min(date_day) as episode_start
    from numbered
    group by variant, account_id, play_id, product, episode_no
)
select episodes.*, plays.motion, episodes.episode_start <= {matured_by} as is_matured
from episodes
inner join intermediate.int_plays as plays on plays.play_id = episodes.play_id
where episodes.episode_start >= {start} and episodes.episode_start <= {end}
"""

MATCHES_SQL = """
create temporary table bt_matches as
select e.variant, e.play_id, e.account_id, e.product, e.episode_start, e.is_matured,
       w.opportunity_id, w.amount, w.created_on - e.episode_start as days
from bt_episodes as e
inner join bt_wins as w
    on w.account_id = e.account_id and w.motion = e.motion
    and w.created_on >= e.episode_start and w.created_on <= e.episode_start + {window}
    and (w.signal_play_id is null
         or (w.signal_play_id = e.play_id and w.signal_product = e.product))
"""

# One row per (variant, play): its alerts, what the matured ones converted into, the
# motion's wins of the range they preceded, and the baseline: the accounts active in the
# range on which the variant's play never fired, and their wins of the motion.
SUMMARY_SQL = """
with episode_outcomes as (
    select e.variant, e.play_id, e.motion, e.is_matured, min(m.days) as days
    from bt_episodes as e
    left join bt_matches as m
        on m.variant = e.variant and m.play_id = e.play_id and m.account_id = e.account_id
        and m.product = e.product and m.episode_start = e.episode_start
    group by e.variant, e.play_id, e.motion, e.account_id, e.product, e.episode_start,
             e.is_matured
),
per_play as (
    select variant, play_id, count(*) as alerts,
           sum(case when is_matured then 1 else 0 end) as matured,
           sum(case when is_matured and days is not null then 1 else 0 end) as conversions,
           percentile_cont(0.5) within group (
               order by case when is_matured then days end) as median_days
    from episode_outcomes
    group by variant, play_id
),
won as (
    select variant, play_id, sum(amount) as won_arr
    from (select distinct variant, play_id, opportunity_id, amount from bt_matches
          where is_matured) as distinct_wins
    group by variant, play_id
),
variant_plays as (
    select distinct variant, play_id from bt_fired
),
motion_wins as (
    select vp.variant, vp.play_id, w.opportunity_id, w.account_id
    from variant_plays as vp
    inner join intermediate.int_plays as plays on plays.play_id = vp.play_id
    inner join bt_wins as w on w.motion = plays.motion
    where w.created_on >= {start} and w.created_on <= {end}
),
announced as (
    select distinct variant, play_id, opportunity_id from bt_matches
),
recall as (
    select mw.variant, mw.play_id, count(*) as won_expansions,
           count(announced.opportunity_id) as announced
    from motion_wins as mw
    left join announced
        on announced.variant = mw.variant and announced.play_id = mw.play_id
        and announced.opportunity_id = mw.opportunity_id
    group by mw.variant, mw.play_id
),
fired_accounts as (
    select distinct variant, play_id, account_id from bt_episodes
),
unfired as (
    select vp.variant, vp.play_id, a.account_id
    from variant_plays as vp
    cross join bt_active as a
    left join fired_accounts as f
        on f.variant = vp.variant and f.play_id = vp.play_id and f.account_id = a.account_id
    where f.account_id is null
),
baseline as (
    select unfired.variant, unfired.play_id,
           count(distinct unfired.account_id) as accounts,
           count(motion_wins.opportunity_id) as wins
    from unfired
    left join motion_wins
        on motion_wins.variant = unfired.variant and motion_wins.play_id = unfired.play_id
        and motion_wins.account_id = unfired.account_id
    group by unfired.variant, unfired.play_id
)
select vp.variant, vp.play_id, plays.motion,
       coalesce(p.alerts, 0), coalesce(p.matured, 0), coalesce(p.conversions, 0),
       p.median_days, coalesce(won.won_arr, 0),
       coalesce(recall.won_expansions, 0), coalesce(recall.announced, 0),
       coalesce(baseline.accounts, 0), coalesce(baseline.wins, 0)
from variant_plays as vp
inner join intermediate.int_plays as plays on plays.play_id = vp.play_id
left join per_play as p on p.variant = vp.variant and p.play_id = vp.play_id
left join won on won.variant = vp.variant and won.play_id = vp.play_id
left join recall on recall.variant = vp.variant and recall.play_id = vp.play_id
left join baseline on baseline.variant = vp.variant and baseline.play_id = vp.play_id
order by vp.variant, vp.play_id
"""


def _literal(day: date) -> str:
    return f"cast('{day.isoformat()}' as date)"


def _summaries(db: Database, start: date, end: date, window: int, cooldown: int,
               matured_by: date) -> list[PlayResult]:
    bounds = {"start": _literal(start), "end": _literal(end)}
    db.execute(EPISODES_SQL.format(cooldown=cooldown, matured_by=_literal(matured_by),
                                   **bounds))
    db.execute(MATCHES_SQL.format(window=window))
    sql = SUMMARY_SQL.format(**bounds)
    trials_per_account = ((end - start).days + 1) / window
    results = []
    for (variant, play_id, motion, alerts, matured, conversions, median_days, won_arr,
         won_expansions, announced, baseline_accounts, baseline_wins) in db.execute(sql):
        precision = _ratio(conversions, matured)
        trials = (baseline_accounts or 0) * trials_per_account
        baseline_rate = _ratio(baseline_wins, trials)
        lift = None if precision is None or not baseline_rate else precision / baseline_rate
        lower, upper = rate_ratio_interval(int(conversions), matured, int(baseline_wins or 0),
                                           trials)
        results.append(PlayResult(
            variant=variant, play_id=play_id, motion=motion, alerts=int(alerts),
            matured_episodes=int(matured), conversions=int(conversions), precision=precision,
            won_expansions=int(won_expansions), recall=_ratio(announced, won_expansions),
            baseline_rate=baseline_rate, lift=lift, lift_lower=lower, lift_upper=upper,
            median_days_to_conversion=None if median_days is None else float(median_days),
            won_arr=float(won_arr), won_arr_per_alert=_ratio(float(won_arr), matured)))
    return results


# --- compound against single-signal accounts -------------------------------------------------

def _recent_event(event_types: str, name: str) -> str:
    """A marketing event of these types in the 30 days ending the episode's first day."""
    return (f"exists (select 1 from staging.stg_marketing_events m "
            f"where m.account_id = ep.account_id and m.occurred_on between ep.d - 29 and ep.d "
            f"and m.event_type in ({event_types})) as {name}")


def episode_signal_counts_sql(episodes_sql: str) -> str:
    """signal_count and signal_categories of each episode's account on its first day, read
    from the daily history the warehouse keeps, for `episodes_sql` (columns account_id, d
    (the first day), converted). The history replays ten of the fourteen signals of
    account_health: limits (through the usage plays firing), outcome achieved, healthy,
    budget cycle, new department, executive engagement rising, and the four buying
    signals; velocity, power users, multi-department and the feature gap are not kept day
    by day."""
    return f"""
with episodes as ({episodes_sql}),
flags as (
    select
        ep.*,
        exists (select 1 from intermediate.int_trigger_days t
                where t.account_id = ep.account_id and t.date_day = ep.d
                  and t.play_id in ('seat_expansion', 'consumption_commit', 'tier_upgrade',
                                    'usage_efficiency', 'seat_true_up'))
            as usage_limits,
        exists (select 1 from staging.stg_account_outcomes o
                where o.account_id = ep.account_id and o.achieved_on between ep.d - 89 and ep.d)
            as outcome_achieved,
        coalesce((select h.health_score >= 70 from intermediate.int_health_daily h
                  where h.account_id = ep.account_id and h.date_day = ep.d), false)
            as outcome_healthy,
        coalesce((select case
                      when make_date(cast(extract(year from ep.d) as integer),
                                     a.fiscal_year_start_month, 1) > ep.d
                      then make_date(cast(extract(year from ep.d) as integer),
                                     a.fiscal_year_start_month, 1)
                      else make_date(cast(extract(year from ep.d) as integer) + 1,
                                     a.fiscal_year_start_month, 1)
                  end <= ep.d + 90
                  from staging.stg_accounts a where a.account_id = ep.account_id), false)
            as org_budget_cycle,
        exists (select 1 from intermediate.int_trigger_days t
                where t.account_id = ep.account_id and t.date_day = ep.d
                  and t.play_id = 'departmental_expansion') as org_new_department,
        (select count(*) filter (where c.occurred_on > ep.d - 30) >
                greatest(0, count(*) filter (where c.occurred_on <= ep.d - 30))
         from staging.stg_crm_activities c
         where c.account_id = ep.account_id and c.contact_is_executive
           and c.occurred_on between ep.d - 59 and ep.d) as org_exec_rising,
        {_recent_event("'pricing_page_view', 'tier_comparison_view'", "buying_pricing")},
        {_recent_event("'feature_inquiry'", "buying_inquiry")},
        {_recent_event("'webinar_attended', 'expansion_content_view'", "buying_content")},
        exists (select 1 from staging.stg_crm_activities c
                where c.account_id = ep.account_id and c.occurred_on between ep.d - 29 and ep.d
                  and not exists (select 1 from staging.stg_crm_activities p
                                  where p.account_id = c.account_id
                                    and p.contact_email = c.contact_email
                                    and p.occurred_on between ep.d - 209 and ep.d - 30))
            as buying_stakeholders
    from episodes ep
)
select
    converted,
    cast(usage_limits as integer) + cast(outcome_achieved as integer)
        + cast(outcome_healthy as integer) + cast(org_budget_cycle as integer)
        + cast(org_new_department as integer) + cast(org_exec_rising as integer)
        + cast(buying_pricing as integer) + cast(buying_inquiry as integer)
        + cast(buying_content as integer) + cast(buying_stakeholders as integer)
        as signal_count,
    cast(usage_limits as integer)
        + cast((outcome_achieved or outcome_healthy) as integer)
        + cast((org_budget_cycle or org_new_department or org_exec_rising) as integer)
        + cast((buying_pricing or buying_inquiry or buying_content or buying_stakeholders)
               as integer) as signal_categories
from flags
"""


def compound_results(rows: Iterable[tuple[Any, int, int]], min_signals: int,
                     min_categories: int) -> list[CompoundResult]:
    """(converted, signal_count, signal_categories) per matured episode -> the conversion of
    compound episodes against single-signal ones (at most one signal), under the category
    rule and the plain count rule."""
    rows = list(rows)
    results = []
    for rule, is_compound in (
        ("signals_and_categories",
         lambda n, k: n >= min_signals and k >= min_categories),
        ("signals_only", lambda n, k: n >= min_signals),
    ):
        compound = [bool(c) for c, n, k in rows if is_compound(n, k)]
        single = [bool(c) for c, n, k in rows if n <= 1]
        c_rate = _ratio(sum(compound), len(compound))
        s_rate = _ratio(sum(single), len(single))
        results.append(CompoundResult(
            rule=rule, compound_episodes=len(compound), compound_conversions=sum(compound),
            compound_rate=c_rate, single_episodes=len(single),
            single_conversions=sum(single), single_rate=s_rate,
            ratio=None if c_rate is None or not s_rate else c_rate / s_rate))
    return results


def _compound(db: Database, min_signals: int, min_categories: int) -> list[CompoundResult]:
    """The matured replayed episodes of the build's thresholds, each with its conversion."""
    episodes = f"""
        select e.account_id, e.episode_start as d,
               exists (select 1 from bt_matches as m
                       where m.variant = e.variant and m.play_id = e.play_id
                           and m.account_id = e.account_id and m.product = e.product
                           and m.episode_start = e.episode_start) as converted
        from bt_episodes as e
        where e.variant = '{DEFAULT_VARIANT}' and e.is_matured
    """
    rows = db.execute(episode_signal_counts_sql(episodes))
    return compound_results(rows, min_signals, min_categories)


# --- the whole run ---------------------------------------------------------------------------

def run_backtest(db: Database, options: BacktestOptions,
                 progress: Callable[[str], None] = lambda _: None) -> BacktestResult:
    started = time.perf_counter()
    _check_built(db)
    as_of, history_days, settings = _settings(db)
    start, end = _resolve_range(options, as_of, history_days)
    window = int(settings["expansion_conversion_window_days"])
    cooldown = int(settings["expansion_cooldown_days"])
    matured_by = as_of - timedelta(days=window)
    history_start = as_of - timedelta(days=history_days - 1)
    run_days = _run_days(start, end, options.every_days, history_start)

    progress("replaying the history")
    _prepare(db, run_days, start, end)
    progress("sweeping the thresholds")
    grids = _sweep_variants(db, settings)
    progress("measuring the plays")
    summaries = _summaries(db, start, end, window, cooldown, matured_by)
    (owners,), = db.execute("""
        select count(distinct o.owner_email) from intermediate.int_account_owners as o
        inner join bt_active as a on a.account_id = o.account_id
        where o.owner_email is not null""")
    owners = max(int(owners), 1)
    weeks = ((end - start).days + 1) / 7

    result = BacktestResult(
        run_id=uuid.uuid4().hex[:12], as_of=as_of, start=start, end=end,
        every_days=options.every_days, owners=owners, weeks=weeks,
        alerts_per_owner_per_week_budget=options.alerts_per_owner_per_week)
    result.plays = [s for s in summaries if s.variant == DEFAULT_VARIANT]
    default_alerts = {s.play_id: s.alerts for s in result.plays}
    result.sweeps = _sweep_points(summaries, grids, settings, default_alerts, owners, weeks,
                                  options)
    result.best_vars = {p.parameter: p.value for p in result.sweeps
                        if p.is_best and not p.is_default}
    progress("compound against single-signal accounts")
    result.compound = _compound(db, int(settings["expansion_compound_min_signals"]),
                                int(settings["expansion_compound_min_categories"]))
    result.seconds = time.perf_counter() - started
    return result


def _sweep_points(summaries: list[PlayResult], grids: dict[str, list[float]],
                  defaults: dict[str, float], default_alerts: dict[str, int], owners: int,
                  weeks: float, options: BacktestOptions) -> list[SweepPoint]:
    by_variant = {(s.variant, s.play_id): s for s in summaries}
    points: list[SweepPoint] = []
    for sweep in SWEEPS:
        others = sum(n for play, n in default_alerts.items() if play != sweep.play_id)
        group = []
        for value in grids[sweep.parameter]:
            s = by_variant.get((sweep.variant(value), sweep.play_id))
            alerts = s.alerts if s else 0
            per_owner_week = (others + alerts) / owners / weeks if weeks else None
            within = per_owner_week is not None and (
                per_owner_week <= options.alerts_per_owner_per_week)
            group.append(SweepPoint(
                parameter=sweep.parameter, play_id=sweep.play_id, value=float(value),
                is_default=math.isclose(value, defaults[sweep.parameter]), is_best=False,
                alerts=alerts, alerts_per_owner_per_week=per_owner_week,
                matured_episodes=s.matured_episodes if s else 0,
                conversions=s.conversions if s else 0,
                precision=s.precision if s else None, recall=s.recall if s else None,
                lift=s.lift if s else None, won_arr=s.won_arr if s else 0.0,
                won_arr_per_alert=s.won_arr_per_alert if s else None, within_budget=within))
        # An owner already past the budget at the built values: a change may only lighten
        # the load, never add to it.
        built_load = sum(n for n in default_alerts.values()) / owners / weeks if weeks else 0
        ceiling = max(options.alerts_per_owner_per_week, built_load)
        eligible = [p for p in group if p.alerts_per_owner_per_week is not None
                    and p.alerts_per_owner_per_week <= ceiling + 1e-9
                    and p.won_arr_per_alert is not None
                    and p.matured_episodes >= options.min_matured_episodes]
        if eligible:
            best = max(eligible, key=lambda p: (p.won_arr_per_alert, p.is_default, -p.value))
            best.is_best = True
        points.extend(group)
    return points


# --- where the results go --------------------------------------------------------------------

def store(db: Database, result: BacktestResult) -> None:
    """The results as warehouse tables in schema `backtest`, one run_id per run, kept."""
    finished = datetime.now(UTC).replace(tzinfo=None)
    with db.transaction():
        db.execute(f"create schema if not exists {SCHEMA}")
        db.execute(f"""create table if not exists {SCHEMA}.runs (
            run_id varchar primary key, finished_at timestamp, as_of date, range_start date,
            range_end date, every_days integer, owners integer,
            alerts_per_owner_per_week_budget double precision, seconds double precision,
            vars_line varchar)""")
        db.execute(f"""create table if not exists {SCHEMA}.play_results (
            run_id varchar, play_id varchar, motion varchar, alerts integer,
            matured_episodes integer, conversions integer, precision double precision,
            won_expansions integer, recall double precision, baseline_rate double precision,
            lift double precision, lift_lower double precision, lift_upper double precision,
            median_days_to_conversion double precision, won_arr double precision,
            won_arr_per_alert double precision)""")
        db.execute(f"""create table if not exists {SCHEMA}.compound_results (
            run_id varchar, rule varchar, compound_episodes integer,
            compound_conversions integer, compound_rate double precision,
            single_episodes integer, single_conversions integer, single_rate double precision,
            ratio double precision)""")
        db.execute(f"""create table if not exists {SCHEMA}.threshold_sweep (
            run_id varchar, parameter varchar, play_id varchar, value double precision,
            is_default boolean, is_best boolean, alerts integer,
            alerts_per_owner_per_week double precision, matured_episodes integer,
            conversions integer, precision double precision, recall double precision,
            lift double precision, won_arr double precision,
            won_arr_per_alert double precision, within_budget boolean)""")
        db.insert_rows(f"insert into {SCHEMA}.runs", [(
            result.run_id, finished, result.as_of, result.start, result.end, result.every_days,
            result.owners, result.alerts_per_owner_per_week_budget, result.seconds,
            result.vars_line())])
        db.insert_rows(f"insert into {SCHEMA}.play_results", [
            (result.run_id, *[v for k, v in asdict(p).items() if k != "variant"])
            for p in result.plays])
        db.insert_rows(f"insert into {SCHEMA}.compound_results", [
            (result.run_id, *asdict(c).values()) for c in result.compound])
        db.insert_rows(f"insert into {SCHEMA}.threshold_sweep", [
            (result.run_id, *asdict(p).values()) for p in result.sweeps])


def to_json(result: BacktestResult) -> str:
    def default(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value))
    body = asdict(result)
    body["vars_line"] = result.vars_line()
    body["built_alerts_per_owner_per_week"] = result.built_alerts_per_owner_per_week
    body["over_budget"] = result.over_budget()
    for play in body["plays"]:
        play.pop("variant")
    return json.dumps(body, default=default, indent=2)



def _x(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"



def render(result: BacktestResult) -> list[str]:
    """What the terminal shows: the plays, compound, then one line per swept value."""
    lines = [f"Backtest {result.start} to {result.end}, the engine replayed every "
             f"{result.every_days} day(s); {result.owners} owners, budget "
             f"{number(result.alerts_per_owner_per_week_budget)} alerts per owner per week.",
             "",
             f"{'play':<24}{'alerts':>7}{'matured':>8}{'precision':>10}{'recall':>8}"
             f"{'lift':>7}  {'95% interval':<14}{'median days':>12}{'won ARR/alert':>14}"]
    for p in sorted(result.plays, key=lambda p: -(p.lift or 0)):
        interval = (f"{_x(p.lift_lower)}-{'inf' if p.lift_upper is None else _x(p.lift_upper)}"
                    if p.lift_lower is not None else "-")
        lines.append(f"{p.play_id:<24}{p.alerts:>7}{p.matured_episodes:>8}"
                     f"{percent(p.precision):>10}{percent(p.recall):>8}{_x(p.lift):>7}  "
                     f"{interval:<14}{_x(p.median_days_to_conversion, 0):>12}"
                     f"{money(p.won_arr_per_alert):>14}")
    lines.append("")
    for c in result.compound:
        rule = ("3+ signals from 3+ categories" if c.rule == "signals_and_categories"
                else "3+ signals")
        lines.append(f"Compound ({rule}): {percent(c.compound_rate)} of {c.compound_episodes} "
                     f"episodes converted, single-signal {percent(c.single_rate)} of "
                     f"{c.single_episodes}: {_x(c.ratio)}x")
    lines.append("")
    lines.append(f"{'threshold':<40}{'value':>7}{'alerts':>7}{'per owner-wk':>13}"
                 f"{'precision':>10}{'won ARR/alert':>14}")
    for p in result.sweeps:
        mark = " best" if p.is_best else ""
        mark += " (built)" if p.is_default else ""
        over = "" if p.within_budget else " over budget"
        lines.append(f"{p.parameter:<40}{number(p.value):>7}{p.alerts:>7}"
                     f"{_x(p.alerts_per_owner_per_week, 2):>13}{percent(p.precision):>10}"
                     f"{money(p.won_arr_per_alert):>14}{mark}{over}")
    lines.append("")
    if result.over_budget():
        lines.append(result.over_budget())
    vars_line = result.vars_line()
    lines.append(f"Apply the best values: expansion build {vars_line}" if vars_line
                 else "No threshold value earns more per alert within the budget than the "
                      "built ones.")
    return lines


def summary(result: BacktestResult) -> list[str]:
    """A few lines for the demo: which plays the past supports, compound, the thresholds."""
    supported = sorted((p for p in result.plays if p.lift_lower is not None and p.lift_lower > 1),
                       key=lambda p: -p.lift_lower)
    unsupported = sorted(p.play_id for p in result.plays
                         if p.alerts and not (p.lift_lower is not None and p.lift_lower > 1))

    def lift(p: PlayResult) -> str:
        upper = "inf" if p.lift_upper is None else f"{p.lift_upper:.1f}"
        value = "-" if p.lift is None else f"{p.lift:.1f}x"
        return f"{p.play_id} {value} ({p.lift_lower:.1f}-{upper})"

    lines = [f"Backtest {result.start} to {result.end}, replayed every {result.every_days} "
             f"days: lift with its 95% interval where the past supports one: "
             + (", ".join(lift(p) for p in supported) or "none")
             + (f"; no lift shown: {', '.join(unsupported)}." if unsupported else ".")]
    lines.append("Compound accounts converted "
                 + ", ".join(f"{_x(c.ratio)}x single-signal ones ("
                             + ("3+ signals from 3+ categories"
                                if c.rule == "signals_and_categories" else "3+ signals") + ")"
                             for c in result.compound) + ".")
    vars_line = result.vars_line()
    budget = number(result.alerts_per_owner_per_week_budget)
    if result.over_budget():
        lines.append(result.over_budget())
    lines.append(f"Thresholds that earn more per alert within {budget} alerts per owner per "
                 f"week: expansion build {vars_line}" if vars_line
                 else "No threshold value earns more per alert within the alert budget than "
                      "the built ones.")
    return lines
