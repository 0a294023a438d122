"""The figures that say whether a built warehouse behaves like a customer base.

Read from a DuckDB connection to a built warehouse (marts, intermediate and
staging schemas), as of the as_of the marts were built for:

- the share of active accounts with a signal (`marts.expansion_signals`
  accounts / `marts.account_health` rows; a healthy book: 5-20%),
- the share of signals with urgency `high`,
- the median episode age (as_of - episode_start) of the signals firing,
- the plays firing,
- the won expansion ARR of the last 12 months (opportunities of type
  `expansion`, won, closed in the 365 days ending as_of) split by motion, with
  each share of seat + consumption + cross_sell + tier (the 40/30/20/10 mix of
  companies above 120% NRR) and bu_rollout's share of the total,
- the conversion of compound against single-signal episodes: matured
  episodes (`intermediate.int_episode_outcomes`: a won expansion of the play's
  motion within the conversion window) whose account was compound on the
  episode's first day, against those with at most one signal then. The
  warehouse keeps the daily trigger and health history, not the daily signal
  columns of account_health, so the rule is read on the ten of the fourteen
  signals that history can replay (EPISODE_COMPOUND_SQL); the velocity, power
  user, multi-department and feature-gap readings are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from expansion_signals.backtest import compound_results, episode_signal_counts_sql

CORE_MOTIONS = ("seat", "consumption", "cross_sell", "tier")
TARGET_MIX = {"seat": 0.40, "consumption": 0.30, "cross_sell": 0.20, "tier": 0.10}
COMPOUND_MIN_SIGNALS = 3
COMPOUND_MIN_CATEGORIES = 3


# The matured episodes of the build, each with its conversion; the account's signals on
# the episode's first day come from the backtest's replay of the daily history.
EPISODE_COMPOUND_SQL = episode_signal_counts_sql("""
    select account_id, episode_start as d, converted
    from intermediate.int_episode_outcomes
    where is_matured
""")


@dataclass
class DemoFigures:
    as_of: date | None
    active_accounts: int
    accounts_with_signal: int
    signals: int
    high_signals: int
    median_episode_age_days: float | None
    plays_firing: list[str]
    won_expansion_arr: dict[str, float] = field(default_factory=dict)
    compound_episodes: int = 0
    compound_converted: int = 0
    single_episodes: int = 0
    single_converted: int = 0

    @property
    def signal_account_share(self) -> float:
        return self.accounts_with_signal / self.active_accounts if self.active_accounts else 0.0

    @property
    def high_share(self) -> float:
        return self.high_signals / self.signals if self.signals else 0.0

    @property
    def core_mix(self) -> dict[str, float]:
        """Each core motion's share of the won expansion ARR of the four core motions."""
        total = sum(self.won_expansion_arr.get(m, 0.0) for m in CORE_MOTIONS)
        return {m: (self.won_expansion_arr.get(m, 0.0) / total if total else 0.0)
                for m in CORE_MOTIONS}

    @property
    def bu_rollout_share(self) -> float:
        total = sum(self.won_expansion_arr.values())
        return self.won_expansion_arr.get("bu_rollout", 0.0) / total if total else 0.0

    @property
    def compound_conversion(self) -> float | None:
        return self.compound_converted / self.compound_episodes if self.compound_episodes else None

    @property
    def single_conversion(self) -> float | None:
        return self.single_converted / self.single_episodes if self.single_episodes else None

    @property
    def compound_lift(self) -> float | None:
        c, s = self.compound_conversion, self.single_conversion
        return c / s if c is not None and s else None

    def lines(self) -> list[str]:
        """A few lines for the demo's output."""
        mix = self.core_mix
        age = ("-" if self.median_episode_age_days is None
               else f"{self.median_episode_age_days:.0f} days")
        lift = "-" if self.compound_lift is None else f"{self.compound_lift:.1f}x"

        def pct(x: float | None) -> str:
            return "-" if x is None else f"{100 * x:.0f}%"

        total = sum(self.won_expansion_arr.values())
        return [
            f"{self.accounts_with_signal} of {self.active_accounts} active accounts signal "
            f"({pct(self.signal_account_share)}); {self.signals} signals, "
            f"{pct(self.high_share)} high; median episode age {age}.",
            f"Plays firing: {len(self.plays_firing)} ({', '.join(self.plays_firing) or '-'}).",
            f"Won expansion ARR, last 12 months: ${total:,.0f}; "
            + " / ".join(f"{m} {pct(mix[m])}" for m in CORE_MOTIONS)
            + f" (aim 40/30/20/10), bu_rollout {pct(self.bu_rollout_share)} of all.",
            f"Converted within the window: compound {pct(self.compound_conversion)} of "
            f"{self.compound_episodes} episodes, single-signal {pct(self.single_conversion)} "
            f"of {self.single_episodes}: lift {lift}.",
        ]


def compute(con: duckdb.DuckDBPyConnection) -> DemoFigures:
    """The figures of the warehouse behind `con` (a built DuckDB warehouse)."""
    as_of = con.execute("select max(as_of) from marts.account_health").fetchone()[0]
    active = con.execute("select count(*) from marts.account_health").fetchone()[0]
    with_signal, signals, high, median_age = con.execute("""
        select count(distinct account_id), count(*),
               count(*) filter (where urgency = 'high'),
               median(as_of - episode_start)
        from marts.expansion_signals
    """).fetchone()
    plays = [r[0] for r in con.execute(
        "select distinct play_id from marts.expansion_signals order by play_id").fetchall()]
    arr: dict[str, float] = {}
    if as_of is not None:
        arr = {m: float(a) for m, a in con.execute("""
            select motion, sum(amount)
            from staging.stg_opportunities
            where opportunity_type = 'expansion' and is_won
              and closed_on > ?::date - 365 and closed_on <= ?::date
            group by motion order by motion
        """, [as_of, as_of]).fetchall()}
    rule, = (r for r in compound_results(con.execute(EPISODE_COMPOUND_SQL).fetchall(),
                                         COMPOUND_MIN_SIGNALS, COMPOUND_MIN_CATEGORIES)
             if r.rule == "signals_and_categories")
    return DemoFigures(
        as_of=as_of,
        active_accounts=active,
        accounts_with_signal=with_signal,
        signals=signals,
        high_signals=high,
        median_episode_age_days=None if median_age is None else float(median_age),
        plays_firing=plays,
        won_expansion_arr=arr,
        compound_episodes=rule.compound_episodes,
        compound_converted=rule.compound_conversions,
        single_episodes=rule.single_episodes,
        single_converted=rule.single_conversions,
    )


def compute_from_path(path: str) -> DemoFigures:
    con = duckdb.connect(path, read_only=True)
    try:
        return compute(con)
    finally:
        con.close()
