"""What `expansion show` prints: the work queue, then the plays firing today.

The queue is the expansion_ready_accounts mart: one line per account, ranked
by the expected value of its signals, with its plays folded in. `--owner`
narrows both parts to one seller's queue, and adds the first moves they make
on accounts someone else is accountable for (RACI) and their expansion
touches due this week. It reads the marts through the
sync's own warehouse connection, so it works on every target the sync reads
(DuckDB and PostgreSQL).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from expansion_signals.warehouse import Database, WarehouseError, connect_warehouse

REQUIRED_TABLES = (("marts", "expansion_signals"), ("marts", "expansion_ready_accounts"))
ACCOUNT_WIDTH, PLAYS_WIDTH = 26, 44


class UnknownOwner(ValueError):
    """--owner names nobody who owns a signal today."""


def ready_accounts(db: Database, limit: int, owner: str | None) -> list[tuple]:
    rank = "owner_rank" if owner else "overall_rank"
    where = "where lower(owner_email) = lower(?)" if owner else ""
    return db.execute(
        f"""
        select {rank}, account_name, expected_value, signals, signal_categories, compound,
               strongest_urgency, plays, owner_email
        from marts.expansion_ready_accounts
        {where}
        order by {rank}
        limit ?
        """,
        [owner, limit] if owner else [limit],
    )


def play_counts(db: Database, owner: str | None) -> list[tuple]:
    where = "where lower(owner_email) = lower(?)" if owner else ""
    return db.execute(
        f"""
        select play_id, count(*) as signals,
               sum(case when urgency = 'high' then 1 else 0 end) as high,
               count(distinct account_id) as accounts
        from marts.expansion_signals
        {where}
        group by play_id order by signals desc, play_id
        """,
        [owner] if owner else [],
    )


def totals(db: Database, owner: str | None) -> tuple[int, int]:
    where = "where lower(owner_email) = lower(?)" if owner else ""
    (accounts, signals), = db.execute(
        f"select count(*), coalesce(sum(signals), 0) from marts.expansion_ready_accounts {where}",
        [owner] if owner else [])
    return int(accounts), int(signals)


def check_built(db: Database) -> None:
    for schema, table in REQUIRED_TABLES:
        if not db.table_exists(schema, table):
            raise WarehouseError(
                f"{schema}.{table} is not in {db.description}: run `expansion build` first")


def _has_column(db: Database, schema: str, table: str, column: str) -> bool:
    return column.lower() in db.columns(schema, table)


def check_owner(db: Database, owner: str) -> str:
    """The owner's email as the mart spells it: accountable for an expansion-ready account,
    or making the first move on a signal. A seller with neither today is most often a typo:
    name the nearest people."""
    responsible = ("union select responsible_email from marts.expansion_signals "
                   if _has_column(db, "marts", "expansion_signals", "responsible_email") else "")
    owners = [row[0] for row in db.execute(
        "select distinct owner_email from (select owner_email from "
        f"marts.expansion_ready_accounts {responsible}) as people "
        "where owner_email is not null order by owner_email")]
    for known in owners:
        if known.lower() == owner.lower():
            return known
    near = difflib.get_close_matches(owner, owners, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(near)}?" if near else (
        f"{len(owners)} owners have signals today; `expansion show` lists them")
    raise UnknownOwner(f"--owner {owner}: no expansion-ready account is owned by {owner} "
                       f"today; {hint}")


def _fit(text: object, width: int) -> str:
    text = str(text) if text is not None else "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def plays_off_line(db: Database) -> str | None:
    """One line naming the plays the plays seed leaves out, or None when every play is on."""
    if not db.table_exists("marts", "sync_settings"):
        return None
    try:
        found = db.execute("select plays_off from marts.sync_settings")
    except Exception:  # a warehouse built before plays could be off
        return None
    plays_off = found[0][0] if found else None
    if not plays_off:
        return None
    return (f"Plays off (not in the plays seed, so not evaluated): {plays_off}; "
            "add a row to seeds/plays.csv to turn one on")


def queue_lines(db: Database, limit: int, owner: str | None = None) -> list[str]:
    check_built(db)
    off = plays_off_line(db)
    if owner:
        owner = check_owner(db, owner)
    accounts, signals = totals(db, owner)
    whose = f"{owner}'s queue" if owner else "Expansion-ready accounts"
    if not accounts:
        none = (f"{whose}: no account of theirs fires today." if owner
                else f"{whose}: none, no play fires on this date.")
        lines = [none]
        if owner:
            lines += first_move_lines(db, owner) + touch_lines(db, owner)
        return [*lines, off] if off else lines
    rows = ready_accounts(db, limit, owner)
    shown = f"the first {len(rows)}" if len(rows) < accounts else "all"
    header = (f"  {'#':>3}  {'account':<{ACCOUNT_WIDTH}} {'expected':>9} {'sig':>3} {'cat':>3}  "
              f"{'urgency':<7} {'plays':<{PLAYS_WIDTH}}" + ("" if owner else "  owner"))
    lines = [f"{whose}: {accounts} accounts with {signals} signals ({shown}, "
             "by expected value of their signals):", header.rstrip()]
    for rank, name, value, n, categories, compound, urgency, plays, owner_email in rows:
        mark = "*" if compound else " "
        who = "" if owner else f"  {owner_email or '(fallback channel)'}"
        lines.append(
            f"  {rank:>3}  {_fit(name, ACCOUNT_WIDTH):<{ACCOUNT_WIDTH}} {value:>9,.0f} "
            f"{n:>3} {categories:>2}{mark}  {urgency:<7} "
            f"{_fit(plays, PLAYS_WIDTH):<{PLAYS_WIDTH}}{who}".rstrip())
    lines.append("  expected: conversion probability x amount learned from your history; "
                 "sig: signals; cat: categories (* compound)")
    lines.append("Signals firing today, by play:")
    lines.append(f"  {'play':<24} {'signals':>8} {'high':>6} {'accounts':>9}")
    for play, n, high, play_accounts in play_counts(db, owner):
        lines.append(f"  {play:<24} {n:>8} {high:>6} {play_accounts:>9}")
    if owner:
        lines.extend(first_move_lines(db, owner))
        lines.extend(touch_lines(db, owner))
    return [*lines, off] if off else lines


def first_move_lines(db: Database, owner: str) -> list[str]:
    """Signals this person makes the first move on while someone else is accountable (the
    handoff), by expected value; held ones say until when."""
    if not _has_column(db, "marts", "expansion_signals", "held_until"):
        return []
    rows = db.execute(
        """
        select account_name, play_id, product, urgency, owner_email, held_until
        from marts.expansion_signals
        where lower(responsible_email) = lower(?)
            and lower(coalesce(owner_email, '')) <> lower(?)
        order by priority_score desc, signal_id
        """,
        [owner, owner],
    )
    if not rows:
        return []
    lines = [f"First moves on accounts others are accountable for ({len(rows)}):"]
    for name, play, product, urgency, accountable, held_until in rows:
        what = play + (f" · {product}" if product else "")
        held = f"  held until {held_until}" if held_until else ""
        lines.append(f"  {_fit(name, ACCOUNT_WIDTH):<{ACCOUNT_WIDTH}} "
                     f"{_fit(what, PLAYS_WIDTH):<{PLAYS_WIDTH}} {urgency:<7} "
                     f"for {accountable or '(no owner)'}{held}")
    return lines


def touch_lines(db: Database, owner: str) -> list[str]:
    """The owner's expansion-calendar touches due in the 7 days from as_of and not done yet
    (nothing from a warehouse built before the calendar existed)."""
    if not db.table_exists("marts", "expansion_calendar"):
        return []
    rows = db.execute(
        """
        select account_name, touch, due_on
        from marts.expansion_calendar
        where (lower(responsible_email) = lower(?) or lower(owner_email) = lower(?))
            and not is_done
            and due_on >= as_of and due_on <= as_of + 6
        order by due_on, account_name, touch_order
        """,
        [owner, owner],
    )
    if not rows:
        return ["Expansion touches due this week: none."]
    lines = [f"Expansion touches due this week ({len(rows)}):"]
    for name, touch, due_on in rows:
        lines.append(f"  {due_on}  {_fit(name, ACCOUNT_WIDTH):<{ACCOUNT_WIDTH}} "
                     f"{touch.replace('_', ' ')}")
    return lines


def print_plays_off(target: str | None, say: Callable[[str], None] = print) -> None:
    db = connect_warehouse(target)
    try:
        line = plays_off_line(db)
    finally:
        db.close()
    if line:
        say(line)


def print_queue(target: str | None = None, limit: int = 25, owner: str | None = None,
                say: Callable[[str], None] = print) -> None:
    """Raises WarehouseError (WarehouseBusy when another process holds the DuckDB file) and
    UnknownOwner."""
    db = connect_warehouse(target)
    try:
        lines = queue_lines(db, limit, owner)
    finally:
        db.close()
    for line in lines:
        say(line)
