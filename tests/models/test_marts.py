"""End to end on the demo data: the marts' invariants, recomputed independently."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import timedelta

import pytest

from expansion_signals.evidence import SENTENCES, evidence_in_words, parse_evidence
from expansion_signals.project import seeds_dir

from .conftest import Warehouse

CATEGORIES = [
    "usage_approaching_limits", "usage_adoption_velocity", "usage_power_users",
    "usage_multi_department", "outcome_achieved", "outcome_feature_gap", "outcome_healthy",
    "org_budget_cycle", "org_new_department", "org_exec_engagement_rising",
    "buying_pricing_interest", "buying_feature_inquiry", "buying_expansion_content",
    "buying_new_stakeholders",
]


def _plays() -> dict[str, dict[str, str]]:
    with open(seeds_dir() / "plays.csv", newline="") as f:
        return {row["play_id"]: row for row in csv.DictReader(f)}


def test_account_health_has_one_row_per_account_with_an_active_line(built_warehouse: Warehouse):
    expected = {r[0] for r in built_warehouse.query(
        "select distinct account_id from raw.subscriptions "
        "where start_date <= ? and end_date >= ? and (cancelled_on is null or cancelled_on > ?)",
        [built_warehouse.as_of] * 3)}
    actual = [r[0] for r in built_warehouse.query("select account_id from marts.account_health")]
    assert len(actual) == len(set(actual))
    assert set(actual) == expected


def test_scores_are_within_0_and_100_and_counts_match_flags(built_warehouse: Warehouse):
    columns = ", ".join(CATEGORIES)
    rows = built_warehouse.query(
        f"select health_score, usage_intensity_score, breadth_score, sentiment_score, "
        f"signal_count, as_of, {columns} from marts.account_health")
    assert rows
    for row in rows:
        assert all(0 <= score <= 100 for score in row[:4])
        assert row[4] == sum(1 for flag in row[6:] if flag)
        assert row[5] == built_warehouse.as_of


def test_signal_ids_follow_the_spec_formula(built_warehouse: Warehouse):
    rows = built_warehouse.query(
        "select signal_id, account_id, play_id, product, episode_start "
        "from marts.expansion_signals")
    assert rows
    for signal_id, account_id, play_id, product, episode_start in rows:
        text = f"{account_id}|{play_id}|{product}|{episode_start.isoformat()}"
        assert signal_id == hashlib.md5(text.encode()).hexdigest()


def test_signals_are_consistent_with_plays_health_and_dates(built_warehouse: Warehouse):
    plays = _plays()
    health = {account: (count, categories) for account, count, categories in built_warehouse.query(
        "select account_id, signal_count, signal_categories from marts.account_health")}
    rows = built_warehouse.query(
        "select account_id, play_id, motion, product, episode_start, as_of, urgency, close_path, "
        "sla_due_on, signal_count, signal_categories, compound, days_to_renewal, evidence "
        "from marts.expansion_signals")
    keys = set()
    for (account_id, play_id, motion, product, episode_start, as_of, urgency, close_path,
         sla_due_on, signal_count, categories, compound, days_to_renewal, evidence) in rows:
        keys.add((account_id, play_id, product))
        assert as_of == built_warehouse.as_of
        assert episode_start <= as_of
        assert motion == plays[play_id]["motion"]
        assert sla_due_on == episode_start + timedelta(days=int(plays[play_id]["sla_days"]))
        assert (signal_count, categories) == health[account_id]
        assert compound == (signal_count >= 3 and categories >= 3)
        assert urgency in ("high", "medium", "low")
        if compound:
            assert urgency == "high"
        if days_to_renewal is not None and days_to_renewal <= 90:
            assert close_path == "renewal_bundle"
        assert isinstance(json.loads(evidence), dict)
        if product == "":
            assert urgency in ("high", "medium") and (urgency == "high") == compound
    assert len(keys) == len(rows)


def test_owner_follows_the_ownership_rules(built_warehouse: Warehouse):
    """Accountable: the segment's role, else csm, account manager, executive, a CSM without
    quota (the seed gives it to mid_market only) passed over while someone with quota is
    on the account. Responsible: the segment's responsible role when it has an email, else
    the accountable owner."""
    rules = {"enterprise": ("account_manager", "csm", False),
             "mid_market": ("csm", "csm", True),
             "smb": ("account_executive", "account_executive", False)}
    rows = built_warehouse.query(
        "select s.owner_role, s.owner_email, s.responsible_role, s.responsible_email, "
        "a.segment, a.csm_email, a.account_manager_email, a.account_executive_email "
        "from marts.expansion_signals s join raw.accounts a using (account_id)")
    assert rows
    for owner_role, owner_email, responsible_role, responsible_email, segment, *people in rows:
        emails = dict(zip(("csm", "account_manager", "account_executive"), people, strict=True))
        rule_role, first_mover, csm_quota = rules[segment]
        csm_can_own = csm_quota or not (emails["account_manager"] or emails["account_executive"])
        candidates = [rule_role, "csm", "account_manager", "account_executive"]
        accountable = next(((r, emails[r]) for r in candidates
                            if emails[r] and (r != "csm" or csm_can_own)), (None, None))
        assert (owner_role, owner_email) == accountable
        expected = (first_mover, emails[first_mover]) if emails[first_mover] else accountable
        assert (responsible_role, responsible_email) == expected


def test_repeated_event_ids_count_once(built_warehouse: Warehouse):
    distinct_events = built_warehouse.scalar(
        "select count(distinct event_id) from raw.usage_events "
        "where cast(occurred_at as date) <= ?", [built_warehouse.as_of])
    counted = built_warehouse.scalar(
        "select sum(event_count) from intermediate.int_usage_daily")
    assert counted == distinct_events


def test_every_play_fires_in_the_history(built_warehouse: Warehouse):
    fired = {r[0] for r in built_warehouse.query(
        "select distinct play_id from intermediate.int_trigger_days")}
    assert fired == set(_plays())


def test_signals_that_fired_earlier_convert_more_often(built_warehouse: Warehouse):
    """The demo's history carries real lift: accounts with a seat signal win seat expansions."""
    rate = built_warehouse.query(
        """
        with fired as (
            select distinct account_id from intermediate.int_trigger_days
            where play_id = 'seat_expansion'
        ),
        won as (
            select distinct account_id from raw.opportunities
            where opportunity_type = 'expansion' and motion = 'seat' and is_won
        )
        select
            avg(case when won.account_id is not null then 1.0 else 0 end)
                filter (where fired.account_id is not null),
            avg(case when won.account_id is not null then 1.0 else 0 end)
                filter (where fired.account_id is null)
        from marts.account_health h
        left join fired using (account_id)
        left join won using (account_id)
        """)[0]
    with_signal, without_signal = rate
    assert with_signal > 2 * without_signal


def test_play_performance_counts_conversions_of_matured_episodes(built_warehouse: Warehouse):
    rows = built_warehouse.query(
        "select play_id, episodes, matured_episodes, conversions, conversion_rate, lift "
        "from marts.play_performance")
    assert {r[0] for r in rows} == set(_plays())
    episodes = dict(built_warehouse.query(
        "select play_id, count(*) from intermediate.int_signal_episodes group by play_id"))
    for play_id, total, matured, conversions, rate, _lift in rows:
        assert total == episodes.get(play_id, 0)
        assert conversions <= matured <= total
        if matured:
            assert rate == conversions / matured
    lift = {r[0]: r[5] for r in rows}
    assert lift["seat_expansion"] is not None and lift["seat_expansion"] > 1


def test_play_performance_recall_and_lift_interval(built_warehouse: Warehouse):
    """Recall, recomputed here from the opportunities and the episodes, equals the
    mart's; the interval holds the lift; the planted seat lift is clear of 1, and a
    play that never converted has an interval that reaches below 1."""
    window = 90
    rows = built_warehouse.query(
        "select play_id, motion, won_expansions, recall, lift, lift_lower, lift_upper, "
        "conversions from marts.play_performance")
    wins = built_warehouse.query(
        "select opportunity_id, account_id, motion, created_on from staging.stg_opportunities "
        "where opportunity_type = 'expansion' and is_won and created_on >= ? and created_on <= ?",
        [built_warehouse.as_of - timedelta(days=399), built_warehouse.as_of])
    episodes = built_warehouse.query(
        "select play_id, account_id, episode_start from intermediate.int_signal_episodes")
    by_play: dict[str, list[tuple]] = {}
    for play_id, account_id, start in episodes:
        by_play.setdefault(play_id, []).append((account_id, start))
    for play_id, motion, won, recall, lift, lower, upper, conversions in rows:
        of_motion = [w for w in wins if w[2] == motion]
        assert won == len(of_motion), play_id
        announced = sum(
            any(account == w[1] and w[3] - timedelta(days=window) <= start <= w[3]
                for account, start in by_play.get(play_id, []))
            for w in of_motion)
        assert recall == (pytest.approx(announced / won) if won else None), play_id
        if lift is not None:
            assert lower <= lift <= upper, play_id
        if conversions == 0 and lower is not None:
            assert lower == 0 and (upper is None or upper > 1), play_id
    lower = {r[0]: r[5] for r in rows}
    assert lower["seat_expansion"] > 1


def test_every_signals_evidence_has_its_plays_sentence(built_warehouse: Warehouse):
    """The evidence the models write carries every key its play's sentence reads: no row
    falls back to the raw pairs, and none says "0 tries" or counts products."""
    rows = built_warehouse.query("select play_id, evidence from marts.expansion_signals")
    assert rows
    for play, text in rows:
        evidence = parse_evidence(text)
        words = evidence_in_words(play, evidence)
        assert words == SENTENCES[play](evidence), (play, text)
        assert " 0 tries" not in words and "owns 1 product" not in words, words


# --- the two plays added last, recomputed from the raw tables on as_of ----------------------

_ACTIVE = ("l.start_date <= cast(? as date) and l.end_date >= cast(? as date) "
           "and (l.cancelled_on is null or l.cancelled_on > cast(? as date))")


def _seats_assigned_sql(iso_day: str) -> str:
    """Distinct users holding a seat of (account, product) on a day."""
    day = f"cast('{iso_day}' as date)"
    return (f"select account_id, product, count(distinct user_id) as assigned "
            f"from raw.seat_assignments where cast(assigned_at as date) <= {day} "
            f"and (unassigned_at is null or cast(unassigned_at as date) > {day}) group by all")


def _monthly_units_sql() -> str:
    """Units per account, product and calendar month, a repeated event_id counted once."""
    return """
        select account_id, product, date_trunc('month', occurred_at)::date as month_start,
               sum(quantity) as units
        from (select *, row_number() over (partition by event_id order by occurred_at) as n
              from raw.usage_events)
        where n = 1 group by all"""


def _fired(w: Warehouse, play: str) -> dict[tuple[str, str], dict]:
    return {(a, p): json.loads(e) for a, p, e in w.query(
        "select account_id, product, evidence from marts.expansion_signals where play_id = ?",
        [play])}


def _true_up_keys(w: Warehouse, d: str) -> list[tuple]:
    """(account, product, assigned, purchased) of smb seat lines at 90%+ on day d."""
    return w.query(f"""
        with lines as (
            select l.account_id, l.product, sum(l.seats_purchased) as purchased
            from raw.subscriptions l
            where l.billing_model = 'seat' and {_ACTIVE}
            group by all
        ),
        seats as ({_seats_assigned_sql(d)})
        select lines.account_id, lines.product, coalesce(seats.assigned, 0), lines.purchased
        from lines
        join raw.accounts a on a.account_id = lines.account_id and a.segment = 'smb'
        left join seats on seats.account_id = lines.account_id and seats.product = lines.product
        where lines.purchased > 0 and coalesce(seats.assigned, 0) >= 0.90 * lines.purchased
    """, [d, d, d])


def test_seat_true_up_is_smb_seat_utilization_at_090_every_day(built_warehouse: Warehouse):
    """The play's daily history over the last 120 days, recomputed day by day (it fires on
    few days of a small book, so as_of alone could agree by both being empty)."""
    as_of = built_warehouse.as_of
    history: dict[str, set] = {}
    for day, account, product in built_warehouse.query(
            "select date_day, account_id, product from intermediate.int_trigger_days "
            "where play_id = 'seat_true_up' and date_day > ?", [as_of - timedelta(days=120)]):
        history.setdefault(day.isoformat(), set()).add((account, product))
    fired_days = 0
    for back in range(120):
        d = (as_of - timedelta(days=back)).isoformat()
        expected = {(a, p) for a, p, _, _ in _true_up_keys(built_warehouse, d)}
        assert history.get(d, set()) == expected, d
        fired_days += bool(expected)
    assert fired_days > 0


def test_seat_true_up_evidence_on_as_of(built_warehouse: Warehouse):
    rows = _true_up_keys(built_warehouse, built_warehouse.as_of.isoformat())
    expected = {(a, p): (assigned, purchased) for a, p, assigned, purchased in rows}
    fired = _fired(built_warehouse, "seat_true_up")
    assert set(fired) == set(expected)
    for key, (assigned, purchased) in expected.items():
        evidence = fired[key]
        assert (evidence["seats_assigned"], evidence["seats_purchased"]) == (assigned, purchased)
        assert evidence["seat_utilization"] == pytest.approx(assigned / purchased, abs=1e-4)


def test_usage_efficiency_recomputed_from_the_raw_tables(built_warehouse: Warehouse):
    """Units used last complete month >= 1.30x the month 3 before (which used some), and the
    effective price per unit, at the current usage tier's catalog prices, rose."""
    as_of = built_warehouse.as_of
    first_incomplete = (as_of + timedelta(days=1)).replace(day=1)
    last_start = (first_incomplete - timedelta(days=1)).replace(day=1)
    before_start = last_start
    for _ in range(3):
        before_start = (before_start - timedelta(days=1)).replace(day=1)
    with open(seeds_dir() / "plan_catalog.csv", newline="") as f:
        prices = {(r["product"], int(r["tier_rank"])): (r.get("unit_price") or None,
                                                         r.get("overage_unit_price") or None)
                  for r in csv.DictReader(f)}
        f.seek(0)
        ranks = {(r["product"], r["plan_tier"]): int(r["tier_rank"]) for r in csv.DictReader(f)}
    d = as_of.isoformat()
    current = {}
    for account, product, tier in built_warehouse.query(
            f"select account_id, product, plan_tier from raw.subscriptions l "
            f"where billing_model = 'usage' and {_ACTIVE}", [d, d, d]):
        current[(account, product)] = max(current.get((account, product), 0),
                                          ranks[(product, tier)])
    units = {(a, p, m): u for a, p, m, u in built_warehouse.query(_monthly_units_sql())}

    def committed(account: str, product: str, month_start) -> float | None:
        month_end = ((month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        e = month_end.isoformat()
        total, lines = built_warehouse.query(
            f"select sum(coalesce(committed_units_per_month, 0)), count(*) "
            f"from raw.subscriptions l where account_id = ? and product = ? "
            f"and billing_model = 'usage' and {_ACTIVE}",
            [account, product, e, e, e])[0]
        return total if lines else None

    expected = set()
    for (account, product), rank in current.items():
        unit_price, overage_price = prices[(product, rank)]
        if unit_price is None or overage_price is None:
            continue
        unit_price, overage_price = float(unit_price), float(overage_price)
        last_commit = committed(account, product, last_start)
        before_commit = committed(account, product, before_start)
        if last_commit is None or before_commit is None:
            continue
        used = units.get((account, product, last_start), 0.0)
        before = units.get((account, product, before_start), 0.0)
        if before <= 0 or used / before < 1.30:
            continue

        def effective(u, c, unit=unit_price, overage=overage_price):
            return (c * unit + max(u - c, 0) * overage) / u

        if round(effective(used, last_commit), 9) > round(effective(before, before_commit), 9):
            expected.add((account, product))
    fired = _fired(built_warehouse, "usage_efficiency")
    assert set(fired) == expected
    for (account, product), evidence in fired.items():
        assert evidence["last_month_units_used"] == pytest.approx(
            units[(account, product, last_start)], abs=0.01)
        assert evidence["units_used_3_months_before"] == pytest.approx(
            units[(account, product, before_start)], abs=0.01)
        assert evidence["effective_unit_price"] > evidence["effective_unit_price_before"]


def test_growth_keys_of_the_older_plays(built_warehouse: Warehouse):
    """seats_assigned_90d_ago (seat_expansion) is the seats assigned on as_of - 90 while a seat
    line was active (else null); units_used_3_months_before (consumption_commit) the units of
    the complete month three months before the last one; limit_utilization_30d_ago is there."""
    as_of = built_warehouse.as_of
    day = (as_of - timedelta(days=90)).isoformat()
    active = {(a, p) for a, p in built_warehouse.query(
        f"select distinct account_id, product from raw.subscriptions l where {_ACTIVE}",
        [day, day, day])}
    assigned = {(a, p): n for a, p, n in built_warehouse.query(
        _seats_assigned_sql(day))}
    seat = _fired(built_warehouse, "seat_expansion")
    for key, evidence in seat.items():
        expected = assigned.get(key, 0) if key in active else None
        assert evidence["seats_assigned_90d_ago"] == expected, key
    units = {(a, p, m): u for a, p, m, u in built_warehouse.query(_monthly_units_sql())}
    first_incomplete = (as_of + timedelta(days=1)).replace(day=1)
    month = first_incomplete
    for _ in range(4):
        month = (month - timedelta(days=1)).replace(day=1)
    for (account, product), evidence in _fired(built_warehouse, "consumption_commit").items():
        if evidence["units_used_3_months_before"] is not None:
            assert evidence["units_used_3_months_before"] == pytest.approx(
                units.get((account, product, month), 0.0), abs=0.01)
    for evidence in _fired(built_warehouse, "tier_upgrade").values():
        assert "limit_utilization_30d_ago" in evidence
