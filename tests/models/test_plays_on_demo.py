"""The plays' people and words on the demo: informed roles and the renewal-planning hold
recomputed from the raw tables and the seeds, and every signal's talk track said with its
own numbers."""

from __future__ import annotations

import csv

from expansion_signals.project import seeds_dir
from expansion_signals.talk_tracks import PLACEHOLDER, SENTENCE_END, talk_track, talk_values
from expansion_signals.types import Play
from expansion_signals.warehouse import Database, read_plays, read_signals

from .conftest import Warehouse

ROLES = ("csm", "account_manager", "account_executive")


def _seed(name: str) -> list[dict[str, str]]:
    with open(seeds_dir() / name, newline="") as f:
        return list(csv.DictReader(f))


def _database(warehouse: Warehouse) -> Database:
    import duckdb

    return Database(duckdb.connect(str(warehouse.path), read_only=True), "duckdb", "demo")


def test_informed_are_the_plays_roles_other_than_the_two_owners(built_warehouse: Warehouse):
    informed_roles = {r["play_id"]: {x.strip() for x in r["informed_roles"].split(";") if x}
                      for r in _seed("plays.csv")}
    rows = built_warehouse.query(
        "select s.play_id, s.owner_email, s.responsible_email, s.informed_emails, "
        "a.csm_email, a.account_manager_email, a.account_executive_email "
        "from marts.expansion_signals s join raw.accounts a using (account_id)")
    told = 0
    for play_id, owner, responsible, informed, *people in rows:
        emails = dict(zip(ROLES, people, strict=True))
        skip = {(owner or "").lower(), (responsible or "").lower()}
        wanted = sorted({emails[r] for r in informed_roles[play_id]
                         if emails[r] and emails[r].lower() not in skip})
        assert (informed.split(";") if informed else []) == wanted, play_id
        told += bool(wanted)
    assert told > 0


def test_held_until_is_the_renewal_in_its_planning_window(built_warehouse: Warehouse):
    rows = built_warehouse.query(
        "select s.signal_id, s.urgency, s.held_until, c.due_on, c.renewal_date, s.as_of "
        "from marts.expansion_signals s left join marts.expansion_calendar c "
        "on c.account_id = s.account_id and c.touch = 'renewal_planning'")
    held = 0
    for _, urgency, held_until, due_on, renewal, as_of in rows:
        in_window = due_on is not None and due_on <= as_of < renewal
        expected = renewal if in_window and urgency != "high" else None
        assert held_until == expected
        held += held_until is not None
    assert held > 0, "the demo has signals in a renewal-planning window"


def test_every_signal_on_the_demo_has_its_talk_track_opening_said(built_warehouse: Warehouse):
    """The opening sentence (acknowledge) names only numbers every signal of its play
    carries, so it is always said: the SQL's evidence keys and the templates agree."""
    db = _database(built_warehouse)
    try:
        plays: dict[str, Play] = read_plays(db)
        signals = read_signals(db)
    finally:
        db.close()
    by_play: dict[str, int] = {}
    for row in signals:
        play = plays[row.play_id]
        said = talk_track(row, play)
        assert said and "{" not in said, (row.play_id, said)
        opening = SENTENCE_END.split((play.talk_track or "").strip())[0]
        missing = set(PLACEHOLDER.findall(opening)) - set(talk_values(row))
        assert not missing, (row.play_id, missing, row.evidence)
        by_play[row.play_id] = by_play.get(row.play_id, 0) + 1
    assert len(by_play) >= 8, by_play
