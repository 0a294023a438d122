"""Talk tracks: the play's words with the signal's numbers; a missing number drops its
sentence, never the message; data stays text."""

from __future__ import annotations

import csv
import json

from expansion_signals.evidence import SENTENCES
from expansion_signals.project import seeds_dir
from expansion_signals.slack_messages import signal_message
from expansion_signals.talk_tracks import render, talk_track, talk_values, unknown_names
from expansion_signals.types import Play
from tests.sync.conftest import as_signal, signal_row

ROLES = {"csm", "account_manager", "account_executive"}


def play(track: str) -> Play:
    return Play("seat_expansion", "seat", "Seats: quote more", 14, "One-pager", True, track)


def seat_signal(**evidence):
    base = {"seats_assigned": 46, "seats_purchased": 50, "seat_utilization": 0.92,
            "sustained_days": 14}
    return as_signal(signal_row(1, evidence=json.dumps({**base, **evidence})))


def catalog() -> list[dict[str, str]]:
    with (seeds_dir() / "plays.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_shipped_play_has_a_talk_track_an_evidence_sentence_and_informed_roles():
    for row in catalog():
        track = row["talk_track"]
        assert track.count(".") >= 3, row["play_id"]  # acknowledge, trajectory, position, ease
        assert unknown_names(track) == [], row["play_id"]
        assert row["play_id"] in SENTENCES, row["play_id"]
        roles = {r for r in row["informed_roles"].split(";") if r}
        assert roles <= ROLES, row["play_id"]


def test_figures_are_derived_from_the_evidence():
    values = talk_values(seat_signal(seats_assigned_90d_ago=34))
    assert values["seat_utilization"] == "92%"
    assert values["seat_growth"] == "35%"  # 46 / 34 - 1
    assert values["weeks_to_full"] == "4–5 weeks"  # 4 seats left at 12 per 90 days
    assert values["seats_assigned"] == "46"


def test_a_missing_number_drops_its_sentence_not_the_message():
    track = ("You use {seats_assigned} of {seats_purchased} seats. That is {seat_growth} more "
             "than in the summer. At this pace you are full in {weeks_to_full}. Seats are a "
             "click away.")
    without_history = talk_track(seat_signal(), play(track))
    assert without_history == "You use 46 of 50 seats. Seats are a click away."
    shrinking = talk_track(seat_signal(seats_assigned_90d_ago=48), play(track))
    assert shrinking == without_history  # no growth, no pace: neither is said
    assert render("Only {nothing_here}.", {}) == ""
    assert talk_track(seat_signal(), play("")) is None


def test_weeks_are_said_as_people_say_them():
    nearly = talk_values(seat_signal(seats_assigned=49, seats_assigned_90d_ago=10))
    assert nearly["weeks_to_full"] == "less than a week"
    slow = talk_values(seat_signal(seats_assigned=46, seats_assigned_90d_ago=45))
    assert "weeks_to_full" not in slow  # 4 seats at 1 per quarter: half a year away


def test_text_from_data_in_a_talk_track_is_escaped_in_slack():
    row = as_signal(signal_row(1, play_id="departmental_expansion", motion="seat",
                               evidence=json.dumps({"new_departments": 1,
                                                    "department_names": "<!channel> Legal"})))
    message = signal_message(row, Play("departmental_expansion", "seat", "d: e", 14, "c", True,
                                       "I saw that {department_names} started."), None)
    text = str(message.blocks)
    assert "What to say: I saw that &lt;!channel&gt; Legal started." in text
    assert "<!channel>" not in text


def test_unknown_names_are_reported_once_each():
    assert unknown_names("{seats_assigned} {seat_grwth} {seat_grwth} {product}") == [
        "seat_grwth"]
