"""What `expansion show` prints: the plays firing today and the strongest expansion signals.

It reads the marts through the sync's own warehouse connection, so it works on
every target the sync reads (DuckDB and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable

from expansion_signals.warehouse import Database, WarehouseError, connect_warehouse

URGENCY_ORDER = "case urgency when 'high' then 0 when 'medium' then 1 else 2 end"
REQUIRED_TABLES = (("marts", "expansion_signals"), ("marts", "account_health"))


def strongest_signals(db: Database, limit: int) -> list[tuple]:
    return db.execute(
        f"""
        select s.account_name, s.play_id, s.product, s.urgency, s.close_path,
               s.signal_count, h.health_score, s.owner_email, s.sla_due_on
        from marts.expansion_signals as s
        left join marts.account_health as h on h.account_id = s.account_id
        order by {URGENCY_ORDER}, s.signal_count desc, h.health_score desc, s.signal_id
        limit ?
        """,
        [limit],
    )


def signal_summary(db: Database) -> list[tuple]:
    return db.execute(
        """
        select play_id, count(*) as signals,
               sum(case when urgency = 'high' then 1 else 0 end) as high,
               count(distinct account_id) as accounts
        from marts.expansion_signals group by play_id order by signals desc, play_id
        """
    )


def check_built(db: Database) -> None:
    for schema, table in REQUIRED_TABLES:
        if not db.table_exists(schema, table):
            raise WarehouseError(
                f"{schema}.{table} is not in {db.description}: run `expansion build` first")


def strongest_signal_lines(db: Database, limit: int) -> list[str]:
    check_built(db)
    lines = ["Expansion signals firing today, by play:",
             f"  {'play':<24} {'signals':>8} {'high':>6} {'accounts':>9}"]
    summary = signal_summary(db)
    for play, signals, high, accounts in summary:
        lines.append(f"  {play:<24} {signals:>8} {high:>6} {accounts:>9}")
    if not summary:
        return [*lines[:1], "  none: no play fires on this date."]
    rows = strongest_signals(db, limit)
    lines.append(f"The {len(rows)} strongest:")
    lines.append(f"  {'account':<28} {'play':<22} {'product':<13} {'urgency':<7} "
                 f"{'close path':<14} {'sig':>3} {'health':>6}  owner, SLA due")
    for name, play, product, urgency, close_path, count, health, owner, sla in rows:
        health_text = f"{health:.0f}" if health is not None else "-"
        lines.append(
            f"  {str(name)[:28]:<28} {play[:22]:<22} {(product or '-')[:13]:<13} {urgency:<7} "
            f"{close_path:<14} {count:>3} {health_text:>6}  "
            f"{owner or '(fallback channel)'}, {sla}")
    return lines


def print_strongest_signals(target: str | None = None, limit: int = 15,
                            say: Callable[[str], None] = print) -> None:
    """Raises WarehouseError (WarehouseBusy when another process holds the DuckDB file)."""
    db = connect_warehouse(target)
    try:
        lines = strongest_signal_lines(db, limit)
    finally:
        db.close()
    for line in lines:
        say(line)
