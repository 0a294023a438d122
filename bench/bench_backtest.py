"""Benchmark of `expansion backtest` on the scale data set (README, "Tests and benchmarks").

Measures, in one run on the same DuckDB file and settings:
  baseline   one DuckDB pass over the largest panel the backtest reads
             (int_limit_utilization_daily, account x product x day), grouped by
             account and product, written to a table
  weekly     the backtest as `expansion backtest` runs it (the last 12 months,
             the engine replayed every 7 days, six thresholds swept)
  daily      the same, replayed every day

Generates and builds the scale warehouse first unless --reuse finds it built
(the same file as bench/bench_models.py). Prints a table and writes
bench/results/backtest.json.

    python bench/bench_backtest.py [--accounts 10000] [--events 100000000] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from expansion_dev.demo_data import GeneratorOptions, generate  # noqa: E402

from expansion_signals.backtest import BacktestOptions, run_backtest  # noqa: E402
from expansion_signals.dbt import BuildOptions  # noqa: E402
from expansion_signals.project import seeds_dir  # noqa: E402
from expansion_signals.warehouse import connect_duckdb  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def is_built(db: Path) -> bool:
    if not db.exists():
        return False
    con = duckdb.connect(str(db), read_only=True)
    try:
        return bool(con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'model_thresholds'").fetchone()[0])
    finally:
        con.close()


def prepare(db: Path, accounts: int, events: int, reuse: bool) -> dict[str, object]:
    figures: dict[str, object] = {}
    if reuse and is_built(db):
        return figures
    if not (reuse and db.exists()):
        db.unlink(missing_ok=True)
        as_of = datetime.now(UTC).date()
        generated = generate(db, GeneratorOptions(accounts=accounts, events=events,
                                                  as_of=as_of), seeds_dir())
        figures["generate_s"] = round(generated.seconds, 1)
    con = duckdb.connect(str(db), read_only=True)
    as_of = con.execute("select max(cast(occurred_at as date)) from raw.usage_events "
                        "where event_id not like 'N%'").fetchone()[0]
    con.close()
    from bench.bench_models import timed_dbt

    figures["build"] = timed_dbt(db, BuildOptions(as_of=as_of, full_refresh=True,
                                                  unit_tests=False))
    return figures


def baseline(db: Path) -> float:
    con = duckdb.connect(str(db))
    try:
        con.execute("drop table if exists main.bench_backtest_baseline")
        started = time.perf_counter()
        con.execute("""
            create table main.bench_backtest_baseline as
            select account_id, product, count(*) as days, min(seat_utilization) as lowest,
                   max(limit_utilization) as highest, sum(gated_events_in_window) as gated
            from intermediate.int_limit_utilization_daily
            group by account_id, product""")
        seconds = time.perf_counter() - started
        con.execute("drop table main.bench_backtest_baseline")
        return seconds
    finally:
        con.close()


def timed_backtest(db: Path, options: BacktestOptions) -> tuple[float, object]:
    warehouse = connect_duckdb(db)
    try:
        started = time.perf_counter()
        result = run_backtest(warehouse, options)
        return time.perf_counter() - started, result
    finally:
        warehouse.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "work" / "scale.duckdb")
    parser.add_argument("--reuse", action="store_true", help="reuse the warehouse if present")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    os.environ["EXPANSION_DUCKDB_PATH"] = str(args.db)

    figures: dict[str, object] = prepare(args.db, args.accounts, args.events, args.reuse)
    con = duckdb.connect(str(args.db), read_only=True)
    figures["accounts"] = con.execute("select count(*) from raw.accounts").fetchone()[0]
    figures["usage_events"] = con.execute("select count(*) from raw.usage_events").fetchone()[0]
    figures["panel_rows"] = con.execute(
        "select count(*) from intermediate.int_limit_utilization_daily").fetchone()[0]
    figures["trigger_days"] = con.execute(
        "select count(*) from intermediate.int_trigger_days").fetchone()[0]
    con.close()

    figures["baseline_s"] = baseline(args.db)
    weekly_s, weekly = timed_backtest(args.db, BacktestOptions())
    daily_s, daily = timed_backtest(args.db, BacktestOptions(every_days=1))
    figures.update(weekly_s=weekly_s, daily_s=daily_s,
                   weekly_vs_baseline=weekly_s / figures["baseline_s"],
                   daily_vs_baseline=daily_s / figures["baseline_s"],
                   plays={p.play_id: {"alerts": p.alerts, "precision": p.precision,
                                      "lift": p.lift, "lift_lower": p.lift_lower,
                                      "lift_upper": p.lift_upper, "recall": p.recall}
                          for p in weekly.plays},
                   compound={c.rule: c.ratio for c in weekly.compound},
                   vars_line=weekly.vars_line(), daily_alerts=sum(p.alerts for p in daily.plays))

    print(f"\nBacktest benchmark: {figures['accounts']:,} accounts, "
          f"{figures['usage_events']:,} usage events, {figures['panel_rows']:,} panel rows")
    rows = [("baseline: one pass over the limits panel, s", figures["baseline_s"]),
            ("backtest, weekly replay (the default), s", weekly_s),
            ("backtest, daily replay, s", daily_s),
            ("weekly / baseline", figures["weekly_vs_baseline"]),
            ("daily / baseline", figures["daily_vs_baseline"])]
    if "build" in figures:
        rows.insert(0, ("full build of the scale warehouse (wall), s", figures["build"]["wall_s"]))
    for name, value in rows:
        print(f"  {name:<48} {value:>10.2f}")
    for play, p in sorted(figures["plays"].items()):
        lift = "-" if p["lift"] is None else f"{p['lift']:.1f}"
        print(f"  {play:<26} alerts {p['alerts']:>6}  lift {lift:>7}")
    print(f"  compound vs single: {figures['compound']}")
    print(f"  best thresholds: {figures['vars_line']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "backtest.json").write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
