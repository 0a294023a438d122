"""Benchmark of the sync (README, "Tests and benchmarks"): 10,000 new signals into Salesforce.

Against the Salesforce emulator with 20 ms of added latency per request, in one
run on the same records:
  bulk         the sync as configured by default (Bulk API 2.0 above 2,000 records)
  collections  the sync with Bulk switched off (sObject Collections, 200 a call)
  rerun        the same signals synced again: must make 0 write calls
  naive        one REST upsert by external id per record through simple-salesforce;
               at 20 ms a record the full loop would take many minutes, so it runs on a
               sample of the same records and is extrapolated per record (said so below)

Each sync writes the signal, its opportunity (when its play opens one) and its task.
Prints a table and writes bench/results/sync.json.

    python bench/bench_sync.py [--signals 10000] [--latency 0.02] [--naive-sample 500]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from expansion_dev.emulators.clients import start_salesforce_emulator  # noqa: E402
from expansion_dev.emulators.salesforce import SalesforceEmulator  # noqa: E402
from expansion_dev.marts import write_sync_marts  # noqa: E402
from simple_salesforce import format_external_id  # noqa: E402

from expansion_signals.config import SalesforceSettings, SyncSettings, load_settings  # noqa: E402
from expansion_signals.connections import SalesforceConnection, connect_salesforce  # noqa: E402
from expansion_signals.engine import SyncRun, plan_settings  # noqa: E402
from expansion_signals.errors import RetryPolicy  # noqa: E402
from expansion_signals.mapping import load_mapping  # noqa: E402
from expansion_signals.plan import plan_sync  # noqa: E402
from expansion_signals.salesforce_writer import SalesforceWriter, _json_value  # noqa: E402
from expansion_signals.types import OPPORTUNITY, SIGNAL, TASK  # noqa: E402
from expansion_signals.warehouse import SIGNAL_COLUMNS, connect_duckdb, read_snapshot  # noqa: E402

RESULTS = ROOT / "bench" / "results"
AS_OF = date(2026, 11, 24)
PLAYS = [("seat_expansion", "seat"), ("tier_upgrade", "tier"), ("feature_attach", "cross_sell"),
         ("consumption_commit", "consumption"), ("outcome_cross_sell", "cross_sell")]
EVIDENCE = json.dumps({"seats_assigned": 46, "seats_purchased": 50, "seat_utilization": 0.92,
                       "sustained_days": 14})


def make_mart(path: Path, signals: int, accounts: list[str], owners: list[str]) -> None:
    rows = []
    for n in range(signals):
        play, motion = PLAYS[n % len(PLAYS)]
        rows.append((
            f"bench-{n:06d}", f"acc-{n % 3000:05d}", accounts[n % len(accounts)],
            f"Account {n % 3000}", play, motion, "" if n % 2 else "analytics",
            AS_OF - timedelta(days=14), AS_OF, ("high", "medium", "low")[n % 3], "mid_cycle",
            "account_executive", owners[n % len(owners)], AS_OF + timedelta(days=14),
            1 + n % 4, n % 4 == 0, 200, EVIDENCE, 1 + n % 4, float(100 - n % 100),
            1 + n // len(owners),  # owners take turns: a distinct rank per owner
            "account_executive", owners[n % len(owners)], None, None,  # owner is responsible
        ))
    con = duckdb.connect(str(path))
    try:
        write_sync_marts(con.execute, AS_OF)
        marks = ", ".join(["?"] * len(SIGNAL_COLUMNS))
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            values = ", ".join([f"({marks})"] * len(chunk))
            con.execute(f"insert into marts.expansion_signals values {values}",
                        [v for row in chunk for v in row])
    finally:
        con.close()


def fresh_org(emulator: SalesforceEmulator, owners: list[str], accounts: int) -> list[str]:
    emulator.reset()
    for email in owners:
        emulator.seed_user(email)
    return [emulator.seed_account(f"Account {n}") for n in range(accounts)]


def timed_sync(mart: Path, settings: SyncSettings, connection: SalesforceConnection,
               emulator: SalesforceEmulator) -> dict[str, float]:
    emulator.reset_counters()
    db = connect_duckdb(mart)
    try:
        started = time.perf_counter()
        result = SyncRun(db, settings, load_mapping(), connection, None,
                         accept_volume=True).run()  # a fresh org: every signal is new
        seconds = time.perf_counter() - started
    finally:
        db.close()
    if result.status != "ok":
        raise SystemExit(f"sync did not succeed: {result.status} {result.error}")
    counts = result.counts
    records = sum(v for k, v in counts.items()
                  if k.startswith("salesforce.") and k.endswith(".upserted"))
    return {"wall_seconds": seconds, "api_calls": len(emulator.calls()),
            "write_calls": emulator.write_count(), "records": records}


def naive_loop(mart: Path, emulator: SalesforceEmulator, connection: SalesforceConnection,
               sample: int) -> dict[str, float]:
    """One upsert per record, on the first `sample` records the sync would write."""
    mapping = load_mapping()
    db = connect_duckdb(mart)
    try:
        snapshot = read_snapshot(db)
    finally:
        db.close()
    plan = plan_sync(snapshot.rows, snapshot.plays, {}, AS_OF,
                     plan_settings(load_settings({}), load_mapping(),
                                  snapshot.settings.cooldown_days))
    writer = SalesforceWriter(connection, mapping)
    known: dict[tuple[str, str], str] = {}
    done = 0
    emulator.reset_counters()
    started = time.perf_counter()
    for kind in (OPPORTUNITY, SIGNAL, TASK):
        share = sample * len(plan.writes_of(kind)) // len(plan.writes)
        writes = plan.writes_of(kind)[:share]
        outgoing, _ = writer.prepare(writes, known)
        target = mapping.object(kind)
        sobject = getattr(connection.client, target.object)
        for record in outgoing:
            body = {k: _json_value(v) for k, v in record.body.items() if k != target.external_id}
            answer = sobject.upsert(
                format_external_id(target.external_id, record.write.signal_id), body,
                raw_response=True,
            )
            known[(kind, record.write.signal_id)] = answer.json()["id"]
            done += 1
    seconds = time.perf_counter() - started
    # The owner query of prepare() is left out of the per-record figure.
    upserts = emulator.calls("sobject.upsert")
    loop_seconds = upserts[-1].at - upserts[0].at if len(upserts) > 1 else seconds
    return {"records": done, "wall_seconds": seconds, "upsert_calls": len(upserts),
            "seconds_per_record": max(loop_seconds, 0.0) / max(len(upserts) - 1, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signals", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--naive-sample", type=int, default=500)
    args = parser.parse_args()

    owners = [f"owner{n}@example.com" for n in range(40)]
    emulator = start_salesforce_emulator()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        accounts = fresh_org(emulator, owners, 500)
        settings = SyncSettings(
            salesforce=SalesforceSettings(instance_url=emulator.instance_url,
                                          access_token=emulator.session_id,
                                          ca_bundle=emulator.ca_path, timeout=120),
            bulk_poll_seconds=0.2, retry=RetryPolicy(attempts=3, initial_wait=0.1),
        )
        connection = connect_salesforce(settings.salesforce)
        figures: dict[str, object] = {
            "signals": args.signals, "latency_seconds": args.latency,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

        def run(name: str, sync_settings: SyncSettings) -> dict[str, float]:
            nonlocal accounts
            accounts = fresh_org(emulator, owners, 500)
            mart = work / f"{name}.duckdb"
            make_mart(mart, args.signals, accounts, owners)
            emulator.latency = args.latency
            figures[name] = timed_sync(mart, sync_settings, connection, emulator)
            figures[f"{name}_rerun"] = timed_sync(mart, sync_settings, connection, emulator)
            emulator.latency = 0
            return figures[name]  # type: ignore[return-value]

        bulk = run("bulk", settings)
        collections = run("collections", replace(settings, bulk_threshold=10**9))
        emulator.latency = args.latency
        naive = naive_loop(work / "collections.duckdb", emulator, connection, args.naive_sample)
        emulator.latency = 0
    finally:
        emulator.stop()

    per_record = naive["wall_seconds"] / naive["records"]  # owner query included: conservative
    naive_total = per_record * collections["records"]
    figures["naive_sample"] = naive
    figures["naive_extrapolated"] = {"records": collections["records"],
                                     "wall_seconds": naive_total,
                                     "api_calls": collections["records"]}
    for found in (bulk, collections):
        found["records_per_call"] = found["records"] / max(found["api_calls"], 1)
        found["speedup_vs_naive"] = naive_total / found["wall_seconds"]
        found["calls_ratio_vs_naive"] = found["api_calls"] / collections["records"]

    print(f"Sync benchmark: {args.signals:,} new signals, {args.latency * 1000:.0f} ms latency "
          "per Salesforce request")
    print(f"{'':<26}{'records':>9}{'API calls':>11}{'rec/call':>10}{'wall s':>10}"
          f"{'vs naive':>10}")
    for name in ("bulk", "collections"):
        f = figures[name]
        print(f"{name + ' (first sync)':<26}{f['records']:>9,}{f['api_calls']:>11,}"
              f"{f['records_per_call']:>10.0f}{f['wall_seconds']:>10.1f}"
              f"{f['speedup_vs_naive']:>9.0f}x")
        r = figures[f"{name}_rerun"]
        print(f"{name + ' (no-change rerun)':<26}{r['records']:>9,}{r['api_calls']:>11,}"
              f"{'':>10}{r['wall_seconds']:>10.1f}   writes {r['write_calls']}")
    print(f"{'naive, extrapolated':<26}{collections['records']:>9,}"
          f"{collections['records']:>11,}{1:>10}{naive_total:>10.1f}{1:>9}x")
    print(f"  (naive loop measured on {naive['records']} records: {naive['wall_seconds']:.1f} s, "
          f"{per_record * 1000:.1f} ms a record, then extrapolated to "
          f"{collections['records']:,} records)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sync.json").write_text(json.dumps(figures, indent=2, default=str))
    print(f"Figures written to {RESULTS / 'sync.json'}")


if __name__ == "__main__":
    main()
