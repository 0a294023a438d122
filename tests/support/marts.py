"""Comparing the marts of two engines, row for row."""

from __future__ import annotations

import json

# Every mart, as the engines' builds are compared.
MARTS = ["expansion_signals", "account_health", "play_performance", "expansion_ready_accounts",
         "sync_plays", "sync_settings", "nrr_by_motion", "expansion_efficiency", "play_funnel",
         "signal_volume", "model_thresholds", "expansion_calendar"]


def normalise(row: tuple, evidence_index: int | None) -> tuple:
    """Floats to 6 places (engines sum doubles in their own order), evidence JSON with its
    keys sorted and its numbers as floats (1.0 and 1 are the same JSON number)."""
    values = list(row)
    for i, value in enumerate(values):
        if isinstance(value, float):
            values[i] = round(value, 6)
    if evidence_index is not None and values[evidence_index] is not None:
        evidence = json.loads(values[evidence_index], parse_int=float)
        values[evidence_index] = json.dumps(evidence, sort_keys=True)
    return tuple(values)


def mart_columns(query, mart: str) -> list[str]:
    """The mart's columns in DuckDB, in order; `query(sql, params)` reads the DuckDB build."""
    return [r[0] for r in query(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position", [mart])]


def record_build_time(engine: str, what: str, seconds: float) -> None:
    """One line in .ci/artifacts/build_times.txt: how long an engine took to build the test
    data set (CI keeps the file; the figures are for people, no test reads them)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / ".ci" / "artifacts" / "build_times.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(f"{engine}\t{what}\t{seconds:.0f} s\n")
