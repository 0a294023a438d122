"""What to say: a play's talk track, rendered with the signal's own numbers.

The plays seed may give each play a `talk_track`: a few sentences in the
playbooks' order (acknowledge the growth, preview the trajectory, position
the offer, make it seamless) with `{name}` placeholders. A name is an
evidence key of the signal (`seats_assigned`, `limit_utilization`, ...), one
of the figures derived from them here (`seat_growth`, `weeks_to_full`,
`usage_growth`, ...), `account_name` or `product`.

Rendering never fails: a sentence whose number is missing (no earlier
reading to grow from, no pace to project) is left out, and the rest is said.
A name no signal can have is a typo in the seed, reported when the plays
are read (`unknown_names`), not a silent gap in every message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from expansion_signals.evidence import (
    Evidence,
    money,
    number,
    parse_evidence,
    percent,
    price_digits,
)
from expansion_signals.types import Play, SignalRow

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
PERCENT_SUFFIXES = ("utilization", "ratio", "adoption")
WEEKS_WORTH_SAYING = 12  # a limit further out than a quarter is no reason to call

# The evidence keys of the shipped plays (int_signal_evidence), and the derived figures.
EVIDENCE_NAMES = frozenset({
    "seats_assigned", "seats_purchased", "seat_utilization", "sustained_days",
    "seats_assigned_90d_ago", "new_departments", "department_names", "last_month_units_used",
    "last_month_units_committed", "last_month_ratio", "lowest_ratio", "months",
    "units_used_3_months_before", "current_tier", "limit_utilization", "limit_level",
    "gated_events_30d", "feature_gap", "window_days", "limit_utilization_30d_ago",
    "prerequisite_product", "feature_adoption", "problem_events_30d", "outcomes_30d",
    "active_products", "owned_products", "health_score", "tenure_days",
    "business_units_without_contract", "executive_activities_14d", "feature_inquiries_14d",
    "nps", "nps_responses_180d", "effective_unit_price", "effective_unit_price_before",
    "unit_price", "overage_unit_price", "months_back",
})


def _float(e: Evidence, key: str) -> float | None:
    value = e.get(key)
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _growth(now: float | None, before: float | None) -> str | None:
    """"42%" when the figure grew from a known, positive start; nothing otherwise."""
    if now is None or before is None or before <= 0 or now <= before:
        return None
    return percent(now / before - 1)


def _weeks(weeks: float) -> str | None:
    """A projection said as people say it: "less than a week", "6–7 weeks"."""
    if weeks <= 0 or weeks > WEEKS_WORTH_SAYING:
        return None
    if weeks < 1:
        return "less than a week"
    low = math.floor(weeks)
    return f"{low}–{low + 1} weeks"


def _pace_to(remaining: float | None, gained: float | None, days: int) -> str | None:
    """Weeks until `remaining` is used up, at the pace of `gained` over the last `days`."""
    if remaining is None or gained is None or remaining <= 0 or gained <= 0:
        return None
    return _weeks(remaining / (gained / (days / 7)))


def _seat_figures(e: Evidence) -> dict[str, str | None]:
    now, before = _float(e, "seats_assigned"), _float(e, "seats_assigned_90d_ago")
    purchased = _float(e, "seats_purchased")
    return {
        "seat_growth": _growth(now, before),
        "weeks_to_full": _pace_to(
            None if purchased is None or now is None else purchased - now,
            None if now is None or before is None else now - before, 90),
    }


def _tier_figures(e: Evidence) -> dict[str, str | None]:
    now, before = _float(e, "limit_utilization"), _float(e, "limit_utilization_30d_ago")
    gated = _float(e, "gated_events_30d")
    tries = None
    if gated and gated > 0:
        tries = "once" if gated == 1 else f"{number(gated)} times"
    return {
        # the share of the limits is said only at a limit level (70% and up): "4% of the
        # limits" is no argument for an upgrade fired by the feature gap
        "limit_reached": percent(now) if now is not None and e.get("limit_level") else None,
        "weeks_to_limit": _pace_to(
            None if now is None else 1 - now,
            None if now is None or before is None else now - before, 30),
        "gated_tries": tries,
    }


def _consumption_figures(e: Evidence) -> dict[str, str | None]:
    ratio = _float(e, "last_month_ratio")
    return {
        "usage_growth": _growth(_float(e, "last_month_units_used"),
                                _float(e, "units_used_3_months_before")),
        "overage": percent(ratio - 1) if ratio is not None and ratio > 1 else None,
    }


def _efficiency_figures(e: Evidence) -> dict[str, str | None]:
    """The prices as the evidence sentence says them (evidence.money), so the alert's two
    lines never disagree on a digit."""
    now, before = _float(e, "effective_unit_price"), _float(e, "effective_unit_price_before")
    digits = price_digits(now, before) if now is not None and before is not None else 4

    def said(key: str) -> str | None:
        value = _float(e, key)
        return None if value is None else money(value, digits)

    return {
        "usage_growth": _growth(_float(e, "last_month_units_used"),
                                _float(e, "units_used_3_months_before")),
        **{key: said(key) for key in ("effective_unit_price", "effective_unit_price_before",
                                      "unit_price", "overage_unit_price")},
    }


def _tenure_figures(e: Evidence) -> dict[str, str | None]:
    days = _float(e, "tenure_days")
    months = int(days // 30) if days is not None and days >= 30 else None
    return {"tenure_months": number(months) if months else None}


DERIVED: dict[str, Callable[[Evidence], dict[str, str | None]]] = {
    "seat_expansion": _seat_figures,
    "tier_upgrade": _tier_figures,
    "consumption_commit": _consumption_figures,
    "usage_efficiency": _efficiency_figures,
    "bu_rollout": _tenure_figures,
}
DERIVED_NAMES = frozenset({
    "seat_growth", "weeks_to_full", "weeks_to_limit", "limit_reached", "gated_tries",
    "usage_growth", "overage", "tenure_months",
})
KNOWN_NAMES = EVIDENCE_NAMES | DERIVED_NAMES | {"account_name", "product"}


def _said(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict):
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, int | float) and key.endswith(PERCENT_SUFFIXES):
        return percent(value)
    text = number(value)
    return text if text.strip() else None


def talk_values(row: SignalRow) -> dict[str, str]:
    """Every figure a talk track of this signal can name, as it is said; missing ones absent."""
    evidence = parse_evidence(row.evidence)
    values: dict[str, str | None] = {k: _said(k, v) for k, v in evidence.items()}
    values.update(DERIVED.get(row.play_id, lambda _: {})(evidence))
    values["account_name"] = row.account_name or None
    values["product"] = row.product or None
    return {k: v for k, v in values.items() if v is not None}


def render(template: str, values: dict[str, str]) -> str:
    """The template's sentences whose every name has a value, filled in; '' when none has."""
    kept = []
    for sentence in SENTENCE_END.split(template.strip()):
        names = PLACEHOLDER.findall(sentence)
        if sentence and all(name in values for name in names):
            kept.append(PLACEHOLDER.sub(lambda m: values[m.group(1)], sentence))
    return " ".join(kept)


def talk_track(row: SignalRow, play: Play | None) -> str | None:
    """What the seller can say about this signal, or None when the play has no talk track."""
    if play is None or not (play.talk_track or "").strip():
        return None
    return render(play.talk_track or "", talk_values(row)) or None


def unknown_names(template: str | None) -> list[str]:
    """Names in a talk track that no signal can have (typos), in order of appearance."""
    seen = []
    for name in PLACEHOLDER.findall(template or ""):
        if name not in KNOWN_NAMES and name not in seen:
            seen.append(name)
    return seen
