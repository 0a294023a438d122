"""What the demo shows: the accounts with the strongest expansion signals."""

from __future__ import annotations

from pathlib import Path

import duckdb

URGENCY_ORDER = "case urgency when 'high' then 0 when 'medium' then 1 else 2 end"


def strongest_signals(db_path: Path, limit: int) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(
            f"""
            select s.account_name, s.play_id, s.product, s.urgency, s.close_path,
                   s.signal_count, h.health_score, s.owner_email, s.sla_due_on
            from marts.expansion_signals as s
            left join marts.account_health as h on h.account_id = s.account_id
            order by {URGENCY_ORDER}, s.signal_count desc, h.health_score desc, s.signal_id
            limit ?
            """,
            [limit],
        ).fetchall()
    finally:
        con.close()


def signal_summary(db_path: Path) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(
            """
            select play_id, count(*) as signals,
                   sum(case when urgency = 'high' then 1 else 0 end) as high,
                   count(distinct account_id) as accounts
            from marts.expansion_signals group by play_id order by signals desc, play_id
            """
        ).fetchall()
    finally:
        con.close()


def print_strongest_signals(db_path: Path, limit: int = 15) -> None:
    if not db_path.exists():
        raise FileNotFoundError(
            f"no warehouse at {db_path}: run `expansion demo` or `expansion build`")
    print("\nExpansion signals firing today, by play:")
    print(f"  {'play':<24} {'signals':>8} {'high':>6} {'accounts':>9}")
    for play, signals, high, accounts in signal_summary(db_path):
        print(f"  {play:<24} {signals:>8} {high:>6} {accounts:>9}")
    print(f"\nThe {limit} strongest:")
    header = f"  {'account':<32} {'play':<24} {'product':<14} {'urgency':<7} {'close path':<15}" \
             f" {'signals':>7} {'health':>6}  owner"
    print(header)
    for name, play, product, urgency, close_path, count, health, owner, sla in strongest_signals(
        db_path, limit
    ):
        health_text = f"{health:.0f}" if health is not None else "-"
        print(f"  {name[:32]:<32} {play:<24} {product or '-':<14} {urgency:<7} {close_path:<15}"
              f" {count:>7} {health_text:>6}  {owner or '(fallback channel)'} due {sla}")
