"""The freshness gate of `expansion run`: the sources first, then the build and the sync.

When the product's event pipeline stalls, the models would read the missing
days as no usage: seat utilization "drops", consumption falls under the
commitment, live signals resolve and their owners lose them. So the
scheduled run asks dbt (`dbt source freshness`, on every adapter) how old the
newest row of each source with a `loaded_at_field` is. A source in `error`
(usage_events past `expansion_freshness_error_hours`, 72) stops the run
before anything is built or sent: one line per stale source, one notice to
the operations channel, its own exit code. Warnings are printed and the run
goes on. `--skip-freshness` is for a deliberate backfill.

Ages are measured against the end of the as_of day, not the clock: dbt
measures against now, so for an earlier as_of the thresholds are shifted by
the hours since then (`expansion_freshness_lag_hours`), and a replay of last
month judges last month's data as it stood.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from expansion_signals.config import SlackSettings
from expansion_signals.dbt import BuildOptions, DbtFailed, first_lines, spawn_dbt
from expansion_signals.project import duckdb_path, target_dir
from expansion_signals.warehouse import warehouse_busy

LAG_VAR = "expansion_freshness_lag_hours"
STOPS = ("error", "runtime error")


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # raw.usage_events
    status: str  # pass | warn | error | runtime error
    # the newest row's age at the end of the as_of day, or now when as_of is today (rows
    # after an earlier as_of make it negative: fresh)
    age_hours: float | None
    warn_hours: float | None
    error_hours: float | None
    message: str | None = None  # a runtime error's

    def sentence(self) -> str:
        if self.status == "runtime error":
            return f"{self.source}: freshness could not be measured ({self.message})"
        if self.age_hours is None:
            return f"{self.source}: no rows"
        limit = self.error_hours if self.status == "error" else self.warn_hours
        kind = "stops the run" if self.status == "error" else "warns"
        return (f"{self.source}: newest row {_hours(max(self.age_hours, 0))} old "
                f"({kind} after {_hours(limit)})")


def _hours(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 24:.1f} days" if value >= 48 else f"{value:.0f} h"


def lag_hours(as_of: datetime | object, now: datetime) -> int:
    """Whole hours from the end of the as_of day to now (0 when as_of is today or later)."""
    end = datetime.combine(as_of, time.min, tzinfo=UTC) + timedelta(days=1)  # type: ignore[arg-type]
    return max(0, math.floor((now - end).total_seconds() / 3600))


def check_sources(options: BuildOptions, now: datetime | None = None) -> list[SourceFreshness]:
    """Every source with a freshness rule, as dbt measured it for this as_of.

    Raises WarehouseBusy when another process holds the DuckDB file, DbtFailed when dbt
    could not measure at all (no source ran)."""
    lag = lag_hours(options.as_of, now or datetime.now(UTC))
    measured = replace(options, dbt_vars={**options.dbt_vars, LAG_VAR: lag},
                       select=("source:raw",), exclude=(), full_refresh=False)
    results = target_dir() / "sources.json"
    results.unlink(missing_ok=True)
    child = spawn_dbt("source freshness", measured, quiet=True)
    if child.locked_out:
        raise warehouse_busy(duckdb_path())
    if not results.exists():  # dbt measured nothing (a status of error still writes it)
        reason = first_lines(child.end.get("error") or "", 1) or child.leftover[-1:]
        raise DbtFailed("dbt source freshness could not run", reason)
    return _read(results, lag)


def _limit(rule: dict | None, lag: int) -> float | None:
    """A warn_after or error_after rule in hours before the end of the as_of day."""
    if not rule or rule.get("count") is None:
        return None
    per = {"minute": 1 / 60, "hour": 1, "day": 24}.get(rule.get("period"), 1)
    return float(rule["count"]) * per - lag


def _read(path: Path, lag: int) -> list[SourceFreshness]:
    found = []
    for result in json.loads(path.read_text(encoding="utf-8")).get("results", []):
        name = ".".join(str(result.get("unique_id", "")).split(".")[-2:])
        criteria = result.get("criteria") or {}
        ago = result.get("max_loaded_at_time_ago_in_s")
        found.append(SourceFreshness(
            source=name,
            status=str(result.get("status")),
            age_hours=None if ago is None else float(ago) / 3600 - lag,
            warn_hours=_limit(criteria.get("warn_after"), lag),
            error_hours=_limit(criteria.get("error_after"), lag),
            message=result.get("message") or result.get("error"),
        ))
    return sorted(found, key=lambda f: f.source)


def notify(settings: SlackSettings, text: str) -> bool:
    """One notice to the operations channel (else the fallback channel); best effort."""
    channel = settings.ops_channel or settings.fallback_channel
    if not (settings.configured and channel):
        return False
    from expansion_signals.connections import connect_slack

    try:
        connect_slack(settings).chat_postMessage(channel=channel, text=text)
    except Exception:  # the exit code and the printed lines already say it
        return False
    return True
