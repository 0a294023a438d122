"""Benchmark of the dbt models on the scale data set (README, "Tests and benchmarks").

Measures, in one run on the same DuckDB file and settings:
  baseline     one DuckDB query aggregating all usage events to account x day
               (count distinct user_id, sum quantity), written to a table
  full build   `dbt build --full-refresh`: wall time, peak RSS, sum of model times
  incremental  one more day of events appended, as_of moved one day, `dbt build`

Prints a table and writes bench/results/models.json.

    python bench/bench_models.py [--accounts 10000] [--events 100000000] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from expansion_dev.demo_data import GeneratorOptions, generate  # noqa: E402

from expansion_signals.dbt import BuildOptions, dbt_args  # noqa: E402
from expansion_signals.project import seeds_dir  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET = ROOT / "bench" / "work" / "target"


def timed_dbt(db: Path, options: BuildOptions) -> dict[str, float]:
    """Runs dbt under /usr/bin/time when available, for the child's peak RSS."""
    # its own target directory, so other dbt runs in this checkout cannot
    # overwrite the run results it reads
    os.environ["EXPANSION_WORK_DIR"] = str(TARGET.parent)  # dbt_args: target/ and logs/ there
    env = {**os.environ, "EXPANSION_DUCKDB_PATH": str(db)}
    dbt = Path(sys.executable).with_name("dbt")  # the console script: no runpy warning
    command = [str(dbt), *dbt_args("build", options), "--quiet"]
    time_binary = Path("/usr/bin/time")
    if time_binary.exists():
        command = [str(time_binary), "-v", *command]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        print(completed.stdout[-3000:], completed.stderr[-3000:], file=sys.stderr)
        raise SystemExit("dbt build failed during the benchmark")
    peak_kb = None
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr)
    if match:
        peak_kb = int(match.group(1))
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    results = json.loads((TARGET / "run_results.json").read_text())["results"]
    model_seconds = sum(r["execution_time"] for r in results if r["unique_id"].startswith("model."))
    slowest = sorted(
        ((r["execution_time"], r["unique_id"].split(".")[-1]) for r in results
         if r["unique_id"].startswith("model.")), reverse=True)[:5]
    per_model = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
                 for r in results if r["unique_id"].startswith("model.")}
    return {"wall_s": wall, "model_s": model_seconds, "peak_rss_gb": peak_kb / 1024 / 1024,
            "slowest": [(name, round(seconds, 2)) for seconds, name in slowest],
            "nodes": len(results), "models": dict(sorted(per_model.items(),
                                                         key=lambda item: -item[1]))}


def baseline(db: Path, threads: int, memory_limit: str) -> float:
    con = duckdb.connect(str(db))
    try:
        con.execute(f"set threads = {threads}; set memory_limit = '{memory_limit}'; "
                    "set preserve_insertion_order = false")
        con.execute("drop table if exists main.bench_baseline")
        started = time.perf_counter()
        con.execute("""
            create table main.bench_baseline as
            select account_id, cast(occurred_at as date) as day,
                   count(distinct user_id) as users, sum(quantity) as quantity
            from raw.usage_events
            group by account_id, cast(occurred_at as date)
        """)
        seconds = time.perf_counter() - started
        con.execute("drop table main.bench_baseline")
        return seconds
    finally:
        con.close()


def append_one_day(db: Path, as_of: datetime) -> int:
    """A day of events like the last one, one day later, with new event ids."""
    con = duckdb.connect(str(db))
    try:
        day = as_of.date()
        con.execute("""
            insert into raw.usage_events
            select 'N' || event_id, account_id, user_id, product, feature,
                   occurred_at + interval 1 day, quantity
            from raw.usage_events
            where cast(occurred_at as date) = ?
        """, [day])
        return con.execute("select count(*) from raw.usage_events "
                           "where cast(occurred_at as date) = ?", [day + timedelta(days=1)]
                           ).fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "work" / "scale.duckdb")
    parser.add_argument("--reuse", action="store_true", help="reuse generated data if present")
    args = parser.parse_args()

    as_of = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"accounts": args.accounts, "target_events": args.events}

    if not (args.reuse and args.db.exists()):
        args.db.unlink(missing_ok=True)
        generated = generate(args.db, GeneratorOptions(accounts=args.accounts,
                                                       events=args.events, as_of=as_of.date()),
                             seeds_dir())
        figures["generate_s"] = round(generated.seconds, 1)
        figures["usage_events"] = generated.row_counts["usage_events"]
    else:
        con = duckdb.connect(str(args.db))
        # the day an earlier run appended is not part of the generated data
        con.execute("delete from raw.usage_events where event_id like 'N%'")
        as_of = datetime.combine(
            con.execute("select max(cast(occurred_at as date)) from raw.usage_events"
                        ).fetchone()[0],
            datetime.min.time())
        figures["usage_events"] = con.execute("select count(*) from raw.usage_events").fetchone()[0]
        con.close()
    for schema in ("staging", "intermediate", "marts", "config"):
        con = duckdb.connect(str(args.db))
        con.execute(f"drop schema if exists {schema} cascade")
        con.close()
    figures["file_gb"] = round(args.db.stat().st_size / 1e9, 2)

    threads = int(os.environ.get("EXPANSION_DUCKDB_THREADS", str(os.cpu_count() or 2)))
    memory_limit = os.environ.get("EXPANSION_DUCKDB_MEMORY_LIMIT", "3GB")
    figures["baseline_s"] = baseline(args.db, threads, memory_limit)
    full = timed_dbt(args.db, BuildOptions(as_of=as_of.date(), full_refresh=True))
    figures["full"] = full
    figures["appended_events"] = append_one_day(args.db, as_of)
    incremental = timed_dbt(args.db, BuildOptions(as_of=as_of.date() + timedelta(days=1)))
    figures["incremental"] = incremental
    figures["full_wall_vs_baseline"] = full["wall_s"] / figures["baseline_s"]
    figures["full_models_vs_baseline"] = full["model_s"] / figures["baseline_s"]
    figures["incremental_models_vs_full"] = incremental["model_s"] / full["model_s"]

    print(f"\nModels benchmark: {figures['usage_events']:,} usage events, "
          f"{args.accounts:,} accounts, file {figures['file_gb']} GB")
    print(f"  {'measure':<44} {'value':>12}")
    rows = [
        ("baseline query (account x day), s", figures["baseline_s"]),
        ("full build wall, s", full["wall_s"]),
        ("full build, sum of model times, s", full["model_s"]),
        ("full build peak RSS, GB", full["peak_rss_gb"]),
        ("full wall / baseline (goal <= 2.0)", figures["full_wall_vs_baseline"]),
        ("incremental wall, s", incremental["wall_s"]),
        ("incremental, sum of model times, s", incremental["model_s"]),
        ("incremental peak RSS, GB", incremental["peak_rss_gb"]),
        ("incremental / full model times (goal <= 0.05)", figures["incremental_models_vs_full"]),
    ]
    for name, value in rows:
        print(f"  {name:<44} {value:>12.2f}")
    print(f"  slowest models (full): {full['slowest']}")
    print(f"  slowest models (incremental): {incremental['slowest']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "models.json").write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
