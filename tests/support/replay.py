"""A replay of consecutive daily `expansion run`s against the local emulators.

Demo data whose history is longer than the 400-day window (so standing
signals' episodes start before it), one `expansion run --as-of D` per day in
its own process, the way a scheduler runs it. A share of every API call fails
with a transient error, one day's run is SIGKILLed while a Salesforce write it
sent is still unanswered (then run again), and one day rebuilds the warehouse
from scratch (`--full-refresh`). At the end the emulated org and workspace must
hold one record, one Opportunity, one Task and one announcement per episode.

Used by tests/sync/test_daily_replay.py (a short replay) and
bench/replay_daily_runs.py (a longer one, with figures).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
from expansion_dev.demo_data import GeneratorOptions, generate
from expansion_dev.emulators import faults
from expansion_dev.emulators.clients import start_salesforce_emulator, start_slack_emulator
from expansion_dev.emulators.salesforce import SalesforceEmulator
from expansion_dev.emulators.slack import SlackEmulator

from expansion_signals.project import CHECKOUT, seeds_dir

# A short history window, so that some episodes outlast it within the replay (the demo's
# customers rarely stand at a limit for a year); the data reaches well before it.
HISTORY_DAYS = 40
DATA_DAYS = 200
TRANSIENT_FAULTS = ("unavailable", "service_unavailable")
OBJECTS = {"Expansion_Signal__c": "Signal_Id__c", "Opportunity": "Expansion_Signal_Id__c",
           "Task": "Expansion_Signal_Id__c"}


@dataclass(frozen=True)
class ReplayOptions:
    days: int = 10
    accounts: int = 40
    last_day: date = date(2026, 11, 24)
    failure_rate: float = 0.2
    kill_day: int | None = 4  # 1-based day whose first run is killed mid-write, then rerun
    full_refresh_day: int | None = 7  # 1-based day rebuilt from scratch
    seed: int = 11


@dataclass
class DayRun:
    day: date
    exit_code: int
    seconds: float
    killed: bool = False
    full_refresh: bool = False
    salesforce_calls: Counter = field(default_factory=Counter)
    slack_calls: Counter = field(default_factory=Counter)
    failed_calls: int = 0  # answered with an injected transient error


@dataclass
class ReplayReport:
    runs: list[DayRun]
    per_key: dict[str, Counter]  # object -> key -> records
    announcements: Counter  # signal_id -> top-level messages that announced it
    signals: int
    carried: int  # signals whose episode starts before the last day's window
    records_only: int  # backlog signals kept as records only (no Opportunity, Task, mention)
    held: int  # held for a renewal on the last day: recorded, not worked yet
    orphan_messages: int  # top-level messages no signal points at (informed digests aside)
    informed_messages: int  # digests to the informed roles
    duplicate_notices: int
    run_counts: list[dict[str, int]] = field(default_factory=list)  # expansion_sync.runs, in order

    def worst(self, what: str) -> int:
        counts = self.per_key.get(what) if what in self.per_key else self.announcements
        return max(counts.values(), default=0)


def _seed_org(path: Path, salesforce: SalesforceEmulator, slack: SlackEmulator) -> None:
    """What the org and workspace already hold: the accounts and the owners."""
    con = duckdb.connect(str(path))
    try:
        accounts = con.execute(
            "select crm_account_id, account_name from raw.accounts "
            "where crm_account_id is not null order by crm_account_id").fetchall()
        for crm_id, name in accounts:
            emulated = salesforce.seed_account(str(name)[:255])
            con.execute("update raw.accounts set crm_account_id = ? where crm_account_id = ?",
                        [emulated, crm_id])
        owners = [r[0] for r in con.execute(
            "select distinct email from (select csm_email as email from raw.accounts union "
            "select account_manager_email from raw.accounts union "
            "select account_executive_email from raw.accounts) where email is not null "
            "order by 1").fetchall()]
    finally:
        con.close()
    for n, email in enumerate(owners):
        salesforce.seed_user(email)
        if n % 5:  # a fifth of the owners have no Slack user: the fallback channel
            slack.seed_user(email)


def _environment(path: Path, salesforce: SalesforceEmulator, slack: SlackEmulator,
                 fallback: str, ops: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SALESFORCE_", "SLACK_", "EXPANSION_"))}
    return {
        **env,
        "EXPANSION_DUCKDB_PATH": str(path),
        "SALESFORCE_INSTANCE_URL": salesforce.instance_url,
        "SALESFORCE_CLIENT_ID": salesforce.settings.client_id,
        "SALESFORCE_CLIENT_SECRET": salesforce.settings.client_secret,
        "SALESFORCE_CA_BUNDLE": salesforce.ca_path,
        "SALESFORCE_TIMEOUT_SECONDS": "10",
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.base_url,
        "SLACK_FALLBACK_CHANNEL": fallback,
        "SLACK_OPS_CHANNEL": ops,
        "EXPANSION_SYNC_RETRY_ATTEMPTS": "6",
        "EXPANSION_SYNC_RETRY_WAIT_SECONDS": "0.02",
        "EXPANSION_SYNC_BULK_POLL_SECONDS": "0.1",
    }


def _run_day(day: date, env: dict[str, str], log: Path, salesforce: SalesforceEmulator,
             slack: SlackEmulator, *, kill: bool, full_refresh: bool) -> DayRun:
    # --skip-freshness: the gate has its own test; here it would only add a dbt call a day
    args = [sys.executable, "-m", "expansion_signals.cli", "run", "--skip-freshness",
            "--as-of", day.isoformat(),
            "--vars", f"{{expansion_history_days: {HISTORY_DAYS}}}"]
    args += ["--full-refresh"] if full_refresh else []
    sf_before, slack_before = len(salesforce.calls()), len(slack.calls())
    if kill:  # the next signal write lands, then its answer is held until the run is killed
        salesforce.inject(faults.delay(120, commit=True), kind="composite", times=1)
    started = time.monotonic()
    with log.open("a") as out:
        child = subprocess.Popen(args, cwd=CHECKOUT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        killed = False
        if kill:
            while child.poll() is None and not any(c.fault == "delay"
                                                   for c in salesforce.calls()[sf_before:]):
                time.sleep(0.05)
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                killed = True
        code = child.wait()
    seconds = time.monotonic() - started
    if kill:
        salesforce.clear_faults()
    calls = salesforce.calls()[sf_before:] + slack.calls()[slack_before:]
    return DayRun(
        day, code, seconds, killed, full_refresh,
        Counter(c.kind for c in salesforce.calls()[sf_before:]),
        Counter(c.kind for c in slack.calls()[slack_before:]),
        sum(1 for c in calls if c.fault in TRANSIENT_FAULTS),
    )


def _flaky(salesforce: SalesforceEmulator, slack: SlackEmulator, options: ReplayOptions) -> None:
    if options.failure_rate <= 0:
        return
    salesforce.inject(faults.unavailable(), times=10**9, probability=options.failure_rate,
                      seed=options.seed)
    slack.inject(faults.slack_error("service_unavailable", status=503), times=10**9,
                 probability=options.failure_rate, seed=options.seed + 1)


def _ledger(path: Path) -> tuple[dict[str, tuple], dict[str, str | None], list[dict[str, int]],
                                 int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select signal_id, account_id, play_id, product, slack_ts, backlog, "
                           "held_until is not null and sf_task_id is null "
                           "from expansion_sync.signal_state").fetchall()
        counts = [json.loads(r[0] or "{}") for r in con.execute(
            "select counts from expansion_sync.runs order by started_at").fetchall()]
    finally:
        con.close()
    return ({r[0]: (r[1], r[2], r[3] or "") for r in rows}, {r[0]: r[4] for r in rows}, counts,
            sum(1 for r in rows if r[5] == "record"),
            sum(1 for r in rows if r[5] != "record" and r[6]))


def replay(workdir: Path, options: ReplayOptions = ReplayOptions(),
           say: Any = lambda line: None) -> ReplayReport:
    path, log = workdir / "warehouse.duckdb", workdir / "runs.log"
    first_day = options.last_day - timedelta(days=options.days - 1)
    generate(path, GeneratorOptions(accounts=options.accounts,
                                    days=DATA_DAYS + options.days,
                                    as_of=options.last_day, seed=options.seed), seeds_dir())
    salesforce, slack = start_salesforce_emulator(), start_slack_emulator()
    try:
        fallback, ops = slack.seed_channel("expansion-signals"), slack.seed_channel("revops")
        _seed_org(path, salesforce, slack)
        env = _environment(path, salesforce, slack, fallback, ops)
        runs: list[DayRun] = []
        for n in range(1, options.days + 1):
            day = first_day + timedelta(days=n - 1)
            kill, rebuild = n == options.kill_day, n == options.full_refresh_day
            attempts = [True, False] if kill else [False]
            for killing in attempts:
                slack.clear_faults()
                salesforce.clear_faults()
                _flaky(salesforce, slack, options)
                run = _run_day(day, env, log, salesforce, slack, kill=killing,
                               full_refresh=rebuild and not killing)
                runs.append(run)
                say(f"  {day}  exit {run.exit_code}{' (killed)' if run.killed else ''}"
                    f"{' (full refresh)' if run.full_refresh else ''}  {run.seconds:5.1f} s  "
                    f"Salesforce {sum(run.salesforce_calls.values()):>4} calls  "
                    f"Slack {sum(run.slack_calls.values()):>4} calls  "
                    f"({run.failed_calls} failed)")
        salesforce.clear_faults()
        slack.clear_faults()
        return _report(path, salesforce, slack, ops, runs, options)
    finally:
        salesforce.stop()
        slack.stop()


def _report(path: Path, salesforce: SalesforceEmulator, slack: SlackEmulator, ops: str,
            runs: list[DayRun], options: ReplayOptions) -> ReplayReport:
    keys, slack_ts, run_counts, records_only, held = _ledger(path)
    per_key: dict[str, Counter] = {}
    for sobject, id_field in OBJECTS.items():
        per_key[sobject] = Counter(keys.get(r[id_field], ("unknown", r[id_field], ""))
                                   for r in salesforce.records(sobject))
    def notice_id(message: dict) -> str:
        return str((message.get("metadata") or {}).get("event_payload", {}).get("notice_id"))

    everything = [m for m in slack.messages()
                  if m["channel"] != ops and m.get("thread_ts", m["ts"]) == m["ts"]]
    informed = [m for m in everything if notice_id(m).startswith("informed:")]
    top_level = [m for m in everything if not notice_id(m).startswith("informed:")]
    by_ts = Counter(m["ts"] for m in top_level)
    announcements = Counter({s: by_ts.get(ts, 0) for s, ts in slack_ts.items() if ts})
    announced_ts = set(slack_ts.values())
    notices = Counter(notice_id(m) for m in everything)
    window_start = options.last_day - timedelta(days=HISTORY_DAYS - 1)
    signals = salesforce.records("Expansion_Signal__c")
    return ReplayReport(
        runs=runs,
        per_key=per_key,
        announcements=announcements,
        signals=len(signals),
        carried=sum(1 for r in signals if r["Episode_Start__c"] < window_start.isoformat()),
        records_only=records_only,
        held=held,
        informed_messages=len(informed),
        orphan_messages=sum(1 for m in top_level if m["ts"] not in announced_ts),
        duplicate_notices=sum(n - 1 for n in notices.values() if n > 1),
        run_counts=run_counts,
    )
