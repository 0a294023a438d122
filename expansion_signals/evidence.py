"""The evidence of a signal in words: "46 of 50 seats assigned (92%) for 14 days".

The mart carries the numbers that made a signal fire as a JSON object whose
keys depend on the play (DECISIONLOG.md, "Plays"). People read sentences, so the
Salesforce record, the opportunity and the Slack message all use these.
Pure functions: a missing or odd value degrades to a plainer sentence, never
to an error, because one malformed row must not stop a sync.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

Evidence = dict[str, Any]


def parse_evidence(text: str | None) -> Evidence:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"evidence": str(text)}
    return value if isinstance(value, dict) else {"evidence": value}


def number(value: Any) -> str:
    """ "1,234", "70.3", "0.05": whole from 100 up (nobody reads 86,033.3 units)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 100:
        value = round(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return str(value)


def _listing(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _plural(value: Any, one: str, many: str | None = None) -> str:
    """ "1 try", "2 tries", "1,200 seats": the number and the noun that agrees with it."""
    count = len(value) if isinstance(value, list | tuple) else value
    noun = one if count == 1 else (many or one + "s")
    return f"{number(count)} {noun}"


def _within(e: Evidence) -> str:
    """" in 30 days" from the window the models counted over; nothing when unknown."""
    days = e.get("window_days")
    return f" in {number(days)} days" if days is not None else ""


def _seat(e: Evidence) -> str:
    return (
        f"{number(e['seats_assigned'])} of {_plural(e['seats_purchased'], 'seat')} assigned "
        f"({percent(e['seat_utilization'])}) for {_plural(e['sustained_days'], 'day')}"
    )


def _consumption(e: Evidence) -> str:
    return (
        f"{number(e['last_month_units_used'])} units used against "
        f"{number(e['last_month_units_committed'])} committed last month "
        f"({percent(e['last_month_ratio'])}), at least {percent(e['lowest_ratio'])} "
        f"for {_plural(e['months'], 'month')}"
    )


def _tier(e: Evidence) -> str:
    level = f" ({e['limit_level']})" if e.get("limit_level") else ""
    sentence = f"{percent(e['limit_utilization'])} of the {e['current_tier']} plan's limits{level}"
    gated = e["gated_events_30d"]
    # the gated tries are said only where the feature gap is a reason the play fired
    if e.get("feature_gap", bool(gated)):
        sentence += f" and {_plural(gated, 'try', 'tries')} of gated features{_within(e)}"
    return sentence


def _feature_attach(e: Evidence) -> str:
    return (
        f"{e['prerequisite_product']} adoption at {percent(e['feature_adoption'])} and "
        f"{_plural(e['problem_events_30d'], 'event')}{_within(e)} that the add-on solves"
    )


def _departments(e: Evidence) -> str:
    names = e.get("department_names")
    named = f": {_listing(names)}" if names else ""
    return f"{_plural(e['new_departments'], 'new department')} active{named}"


def _outcome(e: Evidence) -> str:
    owned = e.get("owned_products")
    if owned:
        names = [p.strip() for p in owned.split(",")] if isinstance(owned, str) else list(owned)
        owns = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    else:
        owns = _plural(e["active_products"], "product")
    return f"{_plural(e['outcomes_30d'], 'success outcome')}{_within(e)}, owns {owns}"


def _bu_rollout(e: Evidence) -> str:
    units = e["business_units_without_contract"]
    named = f" ({_listing(units)})" if isinstance(units, list | tuple) else ""
    return (
        f"health score {number(e['health_score'])} after {_plural(e['tenure_days'], 'day')} "
        f"as a customer; {_plural(units, 'business unit')} without a contract{named}"
    )


def _executive(e: Evidence) -> str:
    return (
        f"{_plural(e['executive_activities_14d'], 'executive activity', 'executive activities')}"
        f" and {_plural(e['feature_inquiries_14d'], 'feature inquiry', 'feature inquiries')}"
        f"{_within(e)}"
    )


def _post_renewal(e: Evidence) -> str:
    responses = _plural(e["nps_responses_180d"], "response")
    return f"NPS {number(e['nps'])} from {responses}{_within(e)}"


def price_digits(price: float, before: float) -> int:
    """Decimals that show the lower of two prices to three significant digits (0.0527,
    0.100), more when the two would read alike."""
    lowest = min((p for p in (price, before) if p > 0), default=1.0)
    first = max(2, 2 - math.floor(math.log10(lowest)))
    return next((d for d in range(first, 9) if f"{price:.{d}f}" != f"{before:.{d}f}"), 8)


def money(value: Any, digits: int) -> str:
    """A unit price to `digits` decimals, trailing zeros past the cents dropped."""
    whole, _, decimals = f"{float(value):.{digits}f}".partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def _usage_efficiency(e: Evidence) -> str:
    used, before = e["last_month_units_used"], e["units_used_3_months_before"]
    price, price_before = float(e["effective_unit_price"]), float(e["effective_unit_price_before"])
    months = e.get("months_back")
    ago = f"{_plural(months, 'month')} before" if months is not None else "before"
    digits = price_digits(price, price_before)
    return (
        f"{number(used)} units used last month, {float(used) / float(before):.2f}x the "
        f"{number(before)} {ago}; effective price per unit up from "
        f"{money(price_before, digits)} to {money(price, digits)} as overage billed at "
        f"{money(e['overage_unit_price'], digits)} outgrows the "
        f"{number(e['last_month_units_committed'])} committed at "
        f"{money(e['unit_price'], digits)}"
    )


def _seat_true_up(e: Evidence) -> str:
    return (
        f"{number(e['seats_assigned'])} of {_plural(e['seats_purchased'], 'seat')} assigned "
        f"({percent(e['seat_utilization'])})"
    )


SENTENCES: dict[str, Callable[[Evidence], str]] = {
    "seat_expansion": _seat,
    "consumption_commit": _consumption,
    "tier_upgrade": _tier,
    "feature_attach": _feature_attach,
    "departmental_expansion": _departments,
    "outcome_cross_sell": _outcome,
    "bu_rollout": _bu_rollout,
    "executive_expansion": _executive,
    "post_renewal_expansion": _post_renewal,
    "usage_efficiency": _usage_efficiency,
    "seat_true_up": _seat_true_up,
}


def _generic(e: Evidence) -> str:
    return "; ".join(f"{k.replace('_', ' ')} {_listing(v)}" for k, v in e.items())


def evidence_in_words(play_id: str, evidence: Evidence) -> str:
    """One sentence for people; the raw pairs when the play or a key is unknown."""
    if not evidence:
        return "no evidence recorded"
    sentence = SENTENCES.get(play_id)
    if sentence is not None:
        try:
            return sentence(evidence)
        except (KeyError, TypeError):
            pass  # the play's keys changed: fall back to the pairs rather than fail the row
    return _generic(evidence)
