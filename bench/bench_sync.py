"""Benchmark of the sync (README, "Tests and benchmarks"): new signals into Salesforce.

Against the Salesforce emulator, run in a process of its own (its CPU is not the
sync's), with 20 ms of added latency per request, in one run on the same records:
  bulk         the sync as configured by default (Bulk API 2.0 above 2,000 records)
  collections  the sync with Bulk switched off (sObject Collections, 200 a call,
               EXPANSION_SYNC_PARALLEL_CALLS in flight)
  rerun        the same signals synced again: must make 0 write calls
  naive        one REST upsert by external id per record through simple-salesforce;
               at 20 ms a record the full loop would take many minutes, so it runs on a
               sample of the same records and is extrapolated per record (said so below)
Each size in --sizes is measured the same way, so the growth from one to the next shows.

Each sync writes the signal, its opportunity (when its play opens one) and its task.
Prints a table and writes bench/results/sync.json.

    python bench/bench_sync.py [--sizes 10000,100000] [--latency 0.02] [--naive-sample 500]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from expansion_dev.emulators.clients import start_salesforce_emulator  # noqa: E402
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


class RemoteEmulator:
    """The Salesforce emulator in a child process, driven through a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve_emulator, args=(child,), daemon=True)
        self._process.start()
        self.instance_url, self.session_id, self.ca_path = self._pipe.recv()

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            self._pipe.send((name, args))
            ok, value = self._pipe.recv()
            if not ok:
                raise RuntimeError(f"emulator: {name}: {value}")
            return value
        return call

    def stop(self) -> None:
        self._pipe.send(None)
        self._process.join(10)


def _serve_emulator(pipe: Connection) -> None:
    emulator = start_salesforce_emulator()
    pipe.send((emulator.instance_url, emulator.session_id, emulator.ca_path))
    extra = {
        "set_latency": lambda seconds: setattr(emulator, "latency", seconds),
        "figures": lambda: {"calls": len(emulator.calls()), "writes": emulator.write_count(),
                            "kinds": emulator.counts(), "peak_in_flight": emulator.peak_in_flight,
                            "cpu_seconds": time.process_time()},
        "seed_accounts": lambda n: [emulator.seed_account(f"Account {i}") for i in range(n)],
    }
    while (message := pipe.recv()) is not None:
        name, args = message
        try:
            pipe.send((True, (extra.get(name) or getattr(emulator, name))(*args)))
        except Exception as error:  # the bench reports it
            pipe.send((False, repr(error)))
    emulator.stop()


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
        columns = [list(column) for column in zip(*rows, strict=True)]
        con.execute("insert into marts.expansion_signals select "
                    + ", ".join(["unnest(?)"] * len(SIGNAL_COLUMNS)), columns)
    finally:
        con.close()


def fresh_org(emulator: RemoteEmulator, owners: list[str], accounts: int) -> list[str]:
    emulator.reset()
    for email in owners:
        emulator.seed_user(email)
    return emulator.seed_accounts(accounts)


def timed_sync(mart: Path, settings: SyncSettings, connection: SalesforceConnection,
               emulator: RemoteEmulator) -> dict[str, Any]:
    emulator.reset_counters()
    db = connect_duckdb(mart)
    emulator_cpu = emulator.figures()["cpu_seconds"]
    marks: dict[str, float] = {}

    def checkpoint(name: str) -> None:
        marks.setdefault(name, time.perf_counter())

    try:
        started, cpu = time.perf_counter(), time.process_time()
        result = SyncRun(db, settings, load_mapping(), connection, None, checkpoint=checkpoint,
                         accept_volume=True).run()  # a fresh org: every signal is new
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        db.close()
    if result.status != "ok":
        raise SystemExit(f"sync did not succeed: {result.status} {result.error}")
    counts = result.counts
    records = sum(v for k, v in counts.items()
                  if k.startswith("salesforce.") and k.endswith(".upserted"))
    seen = emulator.figures()
    bulk_jobs = seen["kinds"].get("bulk2.create", 0)
    bulk_calls = sum(v for k, v in seen["kinds"].items() if k.startswith("bulk2"))
    # to the plan: the mart and the ledger read, every record compared with what was sent
    return {"wall_seconds": seconds, "planned_seconds": marks["planned"] - started,
            "sync_cpu_seconds": cpu,
            "emulator_cpu_seconds": seen["cpu_seconds"] - emulator_cpu,
            "api_calls": seen["calls"], "write_calls": seen["writes"], "records": records,
            "bulk_jobs": bulk_jobs,
            "bulk_calls_per_job": bulk_calls / bulk_jobs if bulk_jobs else None,
            "peak_in_flight": seen["peak_in_flight"], "calls_by_kind": seen["kinds"]}


def naive_loop(mart: Path, emulator: RemoteEmulator, connection: SalesforceConnection,
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
    upserts = emulator.figures()["kinds"].get("sobject.upsert", 0)
    return {"records": done, "wall_seconds": seconds, "upsert_calls": upserts}


def measure(size: int, settings: SyncSettings, connection: SalesforceConnection,
            emulator: RemoteEmulator, owners: list[str], work: Path, latency: float,
            ) -> dict[str, Any]:
    """First sync and no-change rerun, with Bulk and with Collections only, at one size."""
    figures: dict[str, Any] = {}
    for name, sync_settings in (("bulk", settings),
                                ("collections", replace(settings, bulk_threshold=10**9))):
        accounts = fresh_org(emulator, owners, 500)
        mart = work / f"{name}-{size}.duckdb"
        make_mart(mart, size, accounts, owners)
        emulator.set_latency(latency)
        figures[name] = timed_sync(mart, sync_settings, connection, emulator)
        figures[f"{name}_rerun"] = timed_sync(mart, sync_settings, connection, emulator)
        emulator.set_latency(0)
        print(f"  {size:,} signals, {name}: first {figures[name]['wall_seconds']:.1f} s, "
              f"rerun {figures[f'{name}_rerun']['wall_seconds']:.2f} s", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="numbers of new signals to measure, comma-separated "
                             "(default 10000,100000)")
    parser.add_argument("--latency", type=float, default=0.02,
                        help="seconds added to every Salesforce request (default 0.02)")
    parser.add_argument("--naive-sample", type=int, default=500,
                        help="records the naive loop is measured on (default 500)")
    args = parser.parse_args()
    try:
        sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: '{args.sizes}' is not a comma-separated list of numbers")

    owners = [f"owner{n}@example.com" for n in range(40)]
    emulator = RemoteEmulator()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    figures: dict[str, Any] = {
        "latency_seconds": args.latency, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": sizes,
    }
    try:
        settings = SyncSettings(
            salesforce=SalesforceSettings(instance_url=emulator.instance_url,
                                          access_token=emulator.session_id,
                                          ca_bundle=emulator.ca_path, timeout=120),
            bulk_poll_seconds=0.2, retry=RetryPolicy(attempts=3, initial_wait=0.1),
        )
        connection = connect_salesforce(settings.salesforce)
        print(f"Sync benchmark: {args.latency * 1000:.0f} ms latency per Salesforce request, "
              "the emulator in its own process")
        for size in sizes:
            figures[str(size)] = measure(size, settings, connection, emulator, owners, work,
                                         args.latency)
        emulator.set_latency(args.latency)
        naive = naive_loop(work / f"collections-{sizes[0]}.duckdb", emulator, connection,
                           args.naive_sample)
        emulator.set_latency(0)
    finally:
        emulator.stop()

    per_record = naive["wall_seconds"] / naive["records"]  # owner query included: conservative
    figures["naive_sample"] = naive
    print(f"\n{'':<30}{'records':>9}{'API calls':>11}{'rec/call':>10}{'wall s':>9}"
          f"{'sync CPU s':>11}{'vs naive':>10}")
    for size in sizes:
        at_size = figures[str(size)]
        naive_total = per_record * at_size["collections"]["records"]
        at_size["naive_extrapolated"] = {"records": at_size["collections"]["records"],
                                         "wall_seconds": naive_total}
        for name in ("bulk", "collections"):
            f = at_size[name]
            f["records_per_call"] = f["records"] / max(f["api_calls"], 1)
            f["speedup_vs_naive"] = naive_total / f["wall_seconds"]
            print(f"{f'{size:,} {name}, first sync':<30}{f['records']:>9,}{f['api_calls']:>11,}"
                  f"{f['records_per_call']:>10.0f}{f['wall_seconds']:>9.1f}"
                  f"{f['sync_cpu_seconds']:>11.1f}{f['speedup_vs_naive']:>9.0f}x")
            r = at_size[f"{name}_rerun"]
            print(f"{f'{size:,} {name}, no-change rerun':<30}{r['records']:>9,}"
                  f"{r['api_calls']:>11,}{'':>10}{r['wall_seconds']:>9.2f}"
                  f"{r['sync_cpu_seconds']:>11.2f}   writes {r['write_calls']}, "
                  f"planned in {r['planned_seconds']:.2f} s")
        print(f"{f'{size:,} naive, extrapolated':<30}{at_size['collections']['records']:>9,}"
              f"{at_size['collections']['records']:>11,}{1:>10}{naive_total:>9.1f}"
              f"{'':>11}{1:>9}x")
        jobs = at_size["bulk"]["bulk_jobs"]
        if jobs:
            print(f"  Bulk API 2.0 at {size:,}: {jobs} jobs, "
                  f"{at_size['bulk']['bulk_calls_per_job']:.1f} calls per job; "
                  f"Collections: up to {at_size['collections']['peak_in_flight']} calls in flight")
    if len(sizes) > 1:
        low, high = sizes[0], sizes[-1]
        for name in ("bulk", "collections"):
            growth = (figures[str(high)][name]["wall_seconds"]
                      / figures[str(low)][name]["wall_seconds"])
            figures[f"{name}_growth"] = growth
            print(f"  {name}: {high / low:.0f}x the signals took {growth:.1f}x the time")
    print(f"  (naive loop measured on {naive['records']} records: {naive['wall_seconds']:.1f} s, "
          f"{per_record * 1000:.1f} ms a record, then extrapolated)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sync.json").write_text(json.dumps(figures, indent=2, default=str))
    print(f"Figures written to {RESULTS / 'sync.json'}")


if __name__ == "__main__":
    main()
