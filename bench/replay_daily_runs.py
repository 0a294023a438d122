"""A month of scheduled runs, replayed: is every episode still one signal in the CRM and Slack?

Consecutive daily `expansion run`s against the local emulators on demo data whose
history outlasts the 400-day window, with a share of all API calls failing, one run
SIGKILLed mid-write (then rerun) and one full refresh (tests/support/replay.py).
Prints one line per run, then records, Opportunities, Tasks and announcements per
episode and the API calls per run; writes bench/results/replay.json.

    python bench/replay_daily_runs.py [--days 30] [--accounts 60] [--failure-rate 0.2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.replay import ReplayOptions, ReplayReport, replay  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def summary(report: ReplayReport) -> dict:
    def per_episode(counts: Counter) -> dict[str, float]:
        values = list(counts.values()) or [0]
        return {"max": max(values), "mean": round(mean(values), 3), "episodes": len(values)}

    finished = [r for r in report.runs if not r.killed]
    return {
        "runs": [{"day": r.day.isoformat(), "exit_code": r.exit_code, "killed": r.killed,
                  "full_refresh": r.full_refresh, "seconds": round(r.seconds, 1),
                  "salesforce_calls": dict(r.salesforce_calls),
                  "slack_calls": dict(r.slack_calls), "failed_calls": r.failed_calls}
                 for r in report.runs],
        "sync_runs": report.run_counts,
        "signals_adopted": sum(c.get("signal.adopted", 0) for c in report.run_counts),
        "signals": report.signals,
        "carried_past_the_window": report.carried,
        "records_per_episode": per_episode(report.per_key["Expansion_Signal__c"]),
        "opportunities_per_episode": per_episode(report.per_key["Opportunity"]),
        "tasks_per_episode": per_episode(report.per_key["Task"]),
        "announcements_per_episode": per_episode(report.announcements),
        "orphan_messages": report.orphan_messages,
        "duplicate_notices": report.duplicate_notices,
        "mean_calls_per_run_after_day_one": {
            "salesforce": round(mean(sum(r.salesforce_calls.values()) for r in finished[1:]), 1),
            "slack": round(mean(sum(r.slack_calls.values()) for r in finished[1:]), 1),
            "users.lookupByEmail": round(mean(r.slack_calls["users.lookupByEmail"]
                                              for r in finished[1:]), 2),
            "conversations.open": round(mean(r.slack_calls["conversations.open"]
                                             for r in finished[1:]), 2),
        } if len(finished) > 1 else {},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--failure-rate", type=float, default=0.2)
    parser.add_argument("--kill-day", type=int, default=5)
    parser.add_argument("--full-refresh-day", type=int, default=12)
    args = parser.parse_args()
    if args.days < 2 or args.accounts < 1 or not 0 <= args.failure_rate < 1:
        parser.error("--days must be >= 2, --accounts >= 1, --failure-rate in [0, 1)")
    options = ReplayOptions(days=args.days, accounts=args.accounts,
                            failure_rate=args.failure_rate, kill_day=args.kill_day,
                            full_refresh_day=args.full_refresh_day)
    print(f"Replaying {args.days} daily runs on {args.accounts} accounts, "
          f"{args.failure_rate:.0%} of API calls failing:")
    with tempfile.TemporaryDirectory() as workdir:
        report = replay(Path(workdir), options, say=lambda line: print(line, flush=True))
    figures = summary(report)
    print(f"\n{figures['signals']} signals, {figures['carried_past_the_window']} of them "
          "started before the last day's window")
    print(f"{'per episode':<16}{'max':>6}{'mean':>8}{'episodes':>10}")
    for name in ("records", "opportunities", "tasks", "announcements"):
        row = figures[f"{name}_per_episode"]
        print(f"{name:<16}{row['max']:>6}{row['mean']:>8}{row['episodes']:>10}")
    print(f"signals recognised under a new id (full refresh): {figures['signals_adopted']}")
    print(f"orphan messages {figures['orphan_messages']}, "
          f"duplicate notices {figures['duplicate_notices']}")
    calls = figures["mean_calls_per_run_after_day_one"]
    if calls:
        print("mean API calls per run after day one: "
              + ", ".join(f"{k} {v}" for k, v in calls.items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "replay.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {RESULTS / 'replay.json'}")
    worst = max(figures[f"{n}_per_episode"]["max"]
                for n in ("records", "opportunities", "tasks", "announcements"))
    return 0 if worst <= 1 and not figures["orphan_messages"] else 1


if __name__ == "__main__":
    sys.exit(main())
