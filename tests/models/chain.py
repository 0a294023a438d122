"""Comparing a chain of daily builds with a from-scratch build of the same as_of.

They agree everywhere except on episodes whose start the chain carried past
the history window's first day (DECISIONLOG.md, "Episodes and identity"): in
those rows only the columns that follow the start may differ, and the marts'
counts over episode starts (signal volume, the funnel) may differ only when
the chain carried some start. And the chain
remembers how each signal looked the last day it fired (int_signal_context),
where a scratch build knows only the signals firing on as_of: the rows of
earlier days, and the columns read from them, are the chain's own.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

KEY = ("account_id", "play_id", "product")
FOLLOW_THE_START = {
    "intermediate.int_opportunity_matches": {"signal_id", "episode_start", "days_to_conversion"},
    "intermediate.int_signal_episodes": {"signal_id", "episode_start", "fired_days"},
    "marts.expansion_signals": {"signal_id", "episode_start", "sla_due_on"},
    "intermediate.int_episode_outcomes": {"signal_id", "episode_start", "is_matured",
                                          "converted", "days_to_conversion", "expansion_amount"},
    "intermediate.int_episode_urgency": {"signal_id", "episode_start"},
}
# One row per (opportunity, episode): a carried start reaches other opportunities, so the
# carried episodes' rows are the chain's own.
CARRIED_ROWS_DIFFER = {"intermediate.int_opportunity_matches"}
# Aggregates over episode starts: equal when the chain carried no start past the window.
OVER_EPISODE_STARTS = {
    "marts.signal_volume": {"new_signals", "new_signal_accounts"},
    "marts.play_funnel": {"opportunities", "won", "sla_tracked", "sla_met", "sla_compliance"},
}


# Columns compared elsewhere or the chain's own: those filled from the recorded context,
# and signal ids outside the episode tables (they follow the start, compared through
# int_signal_episodes and expansion_signals).
FROM_RECORDED_CONTEXT = {"intermediate.int_episode_outcomes": {"compound", "urgency"},
                         "intermediate.int_episode_urgency": {"urgency", "urgency_basis"},
                         "marts.signal_volume": {"new_high", "new_medium", "new_low"},
                         "intermediate.int_signal_context": {"signal_id"},
                         "marts.expansion_ready_accounts": {"strongest_signal_id"}}
RECORDED_CONTEXT = "intermediate.int_signal_context"


def read(path: Path, table: str) -> list[dict]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute(f"select * from {table}")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def tables(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE'"
        ).fetchall())
    finally:
        con.close()


def carried_episodes(chain: Path, as_of: date, history_days: int = 400) -> set[tuple]:
    """(key, last_fired_on) of the chain's episodes that start before the window."""
    window_start = as_of - timedelta(days=history_days - 1)
    return {
        (tuple(r[k] for k in KEY), r["last_fired_on"])
        for r in read(chain, "intermediate.int_signal_episodes")
        if r["episode_start"] < window_start
    }


def _split(path: Path, table: str, carried: set) -> dict[str, set]:
    follow = FOLLOW_THE_START.get(table, set())
    out: dict[str, set] = {"same": set(), "carried": set()}
    recorded = FROM_RECORDED_CONTEXT.get(table, set())
    if carried:
        recorded = recorded | OVER_EPISODE_STARTS.get(table, set())
    rows = read(path, table)
    if table == RECORDED_CONTEXT:
        newest = max((r["seen_on"] for r in rows), default=None)
        rows = [r for r in rows if r["seen_on"] == newest]
    for r in rows:
        r = {k: v for k, v in r.items() if k not in recorded}
        part = "same"
        if follow:
            key = (tuple(r[k] for k in KEY), r.get("last_fired_on", r.get("as_of")))
            part = "carried" if key in carried else "same"
        out[part].add(tuple(sorted(
            (k, v) for k, v in r.items()
            if k != "processed_through" and (part == "same" or k not in follow))))
    return out


def assert_chain_equals_scratch(chain: Path, scratch: Path, as_of: date,
                                history_days: int = 400) -> set[tuple]:
    """Every table equal but for the carried episodes; returns those episodes."""
    carried = carried_episodes(chain, as_of, history_days)
    assert tables(chain) == tables(scratch)
    for table in tables(chain):
        in_chain, in_scratch = _split(chain, table, carried), _split(scratch, table, carried)
        assert in_chain["same"] == in_scratch["same"], table
        if table not in CARRIED_ROWS_DIFFER:
            assert in_chain["carried"] == in_scratch["carried"], table
    window_start = as_of - timedelta(days=history_days - 1)
    scratch_starts = {
        (tuple(r[k] for k in KEY), r["last_fired_on"]): r["episode_start"]
        for r in read(scratch, "intermediate.int_signal_episodes")
    }
    assert all(scratch_starts[key] >= window_start for key in carried)
    return carried
