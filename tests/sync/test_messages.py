"""Message building and evidence sentences: pure functions."""

from __future__ import annotations

import json

import pytest

from expansion_signals.evidence import evidence_in_words, parse_evidence
from expansion_signals.slack_messages import escape, signal_message
from tests.sync.conftest import as_signal, signal_row


def test_escape_turns_control_characters_into_entities_and_breaks_broadcasts():
    assert escape("A & B <!channel> <@U123> x>y") == (
        "A &amp; B &lt;!channel&gt; &lt;@U123&gt; x&gt;y")
    assert "@here" not in escape("ping @here and @Channel")
    assert escape("&amp;") == "&amp;amp;"  # escaped once more: shown as typed


def test_every_text_object_carries_only_escaped_data():
    row = as_signal(signal_row(1, account_name="<!channel> *Bold* & Co <https://x|y>"))
    message = signal_message(row, None, "https://org.example/lightning/r/X/1/view")
    texts = [message.text] + [
        obj["text"] for block in message.blocks
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        if obj
    ]
    assert not any("<!channel>" in t or "<https://x" in t for t in texts)
    header = message.blocks[0]["text"]["text"]
    assert "&lt;!channel&gt; *Bold* &amp; Co &lt;https://x|y&gt;" in header
    data_objects = [b["text"] for b in message.blocks if b["type"] in ("header", "section")
                    and "text" in b]
    assert {o["type"] for o in data_objects} == {"plain_text"}  # *Bold* is not formatting


def test_header_and_text_stay_within_slack_limits_for_huge_names():
    row = as_signal(signal_row(1, account_name="&" * 5000))
    message = signal_message(row, None, None)
    assert len(message.blocks[0]["text"]["text"]) <= 150
    assert message.blocks[0]["text"]["text"].endswith("…")
    assert "&am…" not in message.blocks[0]["text"]["text"]  # never cuts an entity


def test_evidence_in_words_per_play():
    seat = {"seats_assigned": 46, "seats_purchased": 50, "seat_utilization": 0.92,
            "sustained_days": 14}
    assert evidence_in_words("seat_expansion", seat) == (
        "46 of 50 seats assigned (92%) for 14 days")
    commit = {"last_month_units_used": 13000, "last_month_units_committed": 10000,
              "last_month_ratio": 1.3, "lowest_ratio": 1.12, "months": 3}
    assert evidence_in_words("consumption_commit", commit) == (
        "13,000 units used against 10,000 committed last month (130%), at least 112% "
        "for 3 months")
    tier = {"current_tier": "starter", "limit_utilization": 0.4, "limit_level": None,
            "gated_events_30d": 4, "window_days": 30}
    assert evidence_in_words("tier_upgrade", tier) == (
        "40% of the starter plan's limits and 4 tries of gated features in 30 days")
    departments = {"new_departments": 2, "department_names": ["Finance", "Legal"]}
    assert evidence_in_words("departmental_expansion", departments) == (
        "2 new departments active: Finance, Legal")


def test_counted_windows_come_from_the_evidence_never_from_a_fixed_number():
    executive = {"executive_activities_14d": 3, "feature_inquiries_14d": 2, "window_days": 21}
    assert evidence_in_words("executive_expansion", executive) == (
        "3 executive activities and 2 feature inquiries in 21 days")
    nps = {"nps": 62.5, "nps_responses_180d": 8, "window_days": 90}
    assert evidence_in_words("post_renewal_expansion", nps) == (
        "NPS 62.5 from 8 responses in 90 days")
    outcome = {"outcomes_30d": 4, "active_products": 2}  # written before the window was recorded
    assert evidence_in_words("outcome_cross_sell", outcome) == "4 success outcomes, owns 2 products"


@pytest.mark.parametrize(("play", "evidence", "words"), [
    ("seat_expansion", {"seats_assigned": 1, "seats_purchased": 1, "seat_utilization": 1.0,
                        "sustained_days": 1}, "1 of 1 seat assigned (100%) for 1 day"),
    ("consumption_commit", {"last_month_units_used": 1300, "last_month_units_committed": 1000,
                            "last_month_ratio": 1.3, "lowest_ratio": 1.3, "months": 1},
     "1,300 units used against 1,000 committed last month (130%), at least 130% for 1 month"),
    ("tier_upgrade", {"current_tier": "starter", "limit_utilization": 0.9,
                      "limit_level": "action", "gated_events_30d": 0, "feature_gap": False,
                      "window_days": 30}, "90% of the starter plan's limits (action)"),
    ("tier_upgrade", {"current_tier": "pro", "limit_utilization": 0.5, "limit_level": None,
                      "gated_events_30d": 1, "feature_gap": True, "window_days": 30},
     "50% of the pro plan's limits and 1 try of gated features in 30 days"),
    ("tier_upgrade", {"current_tier": "pro", "limit_utilization": 0.7, "limit_level": "warning",
                      "gated_events_30d": 2, "feature_gap": False, "window_days": 30},
     "70% of the pro plan's limits (warning)"),
    ("feature_attach", {"prerequisite_product": "analytics", "feature_adoption": 0.8,
                        "problem_events_30d": 1, "window_days": 30},
     "analytics adoption at 80% and 1 event in 30 days that the add-on solves"),
    ("departmental_expansion", {"new_departments": 1, "department_names": "Finance"},
     "1 new department active: Finance"),
    ("outcome_cross_sell", {"outcomes_30d": 1, "active_products": 2,
                            "owned_products": "analytics, data_platform", "window_days": 30},
     "1 success outcome in 30 days, owns analytics and data_platform"),
    ("outcome_cross_sell", {"outcomes_30d": 3, "active_products": 3,
                            "owned_products": "a, b, c", "window_days": 30},
     "3 success outcomes in 30 days, owns a, b and c"),
    ("bu_rollout", {"health_score": 81.5, "tenure_days": 400,
                    "business_units_without_contract": 1},
     "health score 81.5 after 400 days as a customer; 1 business unit without a contract"),
    ("executive_expansion", {"executive_activities_14d": 1, "feature_inquiries_14d": 1,
                             "window_days": 14},
     "1 executive activity and 1 feature inquiry in 14 days"),
    ("post_renewal_expansion", {"nps": 70, "nps_responses_180d": 1, "window_days": 180},
     "NPS 70 from 1 response in 180 days"),
])
def test_every_plays_evidence_reads_as_a_sentence(play, evidence, words):
    assert evidence_in_words(play, evidence) == words


def test_unknown_keys_fall_back_to_the_pairs_instead_of_failing():
    assert evidence_in_words("seat_expansion", {"seats": 3}) == "seats 3"
    assert evidence_in_words("new_play", {"a_b": [1, 2]}) == "a b 1, 2"
    assert parse_evidence("not json") == {"evidence": "not json"}
    assert parse_evidence(json.dumps([1])) == {"evidence": [1]}
