"""Numbers and dates as a person reads them: $1.2M, 23%, 1,234, 10.6x, Oct 2026.

Every function takes None (a null in the mart) and returns an em dash, so a
missing value is shown as missing, never as 0.
"""

from __future__ import annotations

import math
from datetime import date

MISSING = "—"
MINUS = "−"  # a true minus sign, as wide as a digit in tabular figures


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None) -> str:
    """$950, $12.3K, $123K, $1.2M, $3.4B: whole dollars below a thousand."""
    if _missing(value):
        return MISSING
    amount = abs(float(value))  # type: ignore[arg-type]
    if amount < 999.5:
        sign = MINUS if float(value) < 0 and amount >= 0.5 else ""  # type: ignore[arg-type]
        return f"{sign}${amount:,.0f}"
    sign = MINUS if float(value) < 0 else ""  # type: ignore[arg-type]
    for suffix, size in (("K", 1e3), ("M", 1e6), ("B", 1e9)):
        scaled = amount / size
        text = f"{scaled:.1f}" if scaled < 99.95 else f"{scaled:,.0f}"
        # 999,600 would read $1000K: say $1.0M instead
        if float(text.replace(",", "")) < 999.5 or suffix == "B":
            return f"{sign}${text}{suffix}"
    raise AssertionError("unreachable")


def percent(value: float | None, digits: int = 0) -> str:
    """A fraction as a percentage: 0.234 -> 23%; digits after the point on request."""
    if _missing(value):
        return MISSING
    shown = f"{abs(float(value)) * 100:,.{digits}f}"  # type: ignore[arg-type]
    negative = float(value) < 0 and float(shown.replace(",", "")) != 0  # type: ignore[arg-type]
    return f"{MINUS if negative else ''}{shown}%"


def count(value: float | None) -> str:
    """A whole number with thousands separators: 1,234."""
    if _missing(value):
        return MISSING
    rounded = round(float(value))  # type: ignore[arg-type]
    return f"{MINUS if rounded < 0 else ''}{abs(rounded):,}"


def ratio(value: float | None) -> str:
    """A rate ratio such as a lift: 0×, 0.52×, 4.5×, 10.6×, 89×."""
    if _missing(value):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    if number == 0:
        return "0×"
    if number >= 99.5:
        return f"{number:,.0f}×"
    return f"{number:.1f}×" if number >= 0.995 else f"{number:.2f}×"


def days(value: float | None) -> str:
    if _missing(value):
        return MISSING
    number = round(float(value))  # type: ignore[arg-type]
    return f"{number:,} day" + ("" if number == 1 else "s")


def number(value: float | None) -> str:
    """A parameter value as written in dbt_project.yml: 0.85, 14, 1.3 (no trailing zeros)."""
    if _missing(value):
        return MISSING
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")  # type: ignore[arg-type]
    return "0" if text in ("-0", "") else text


def month(value: date) -> str:
    return value.strftime("%b %Y")


def short_month(value: date) -> str:
    return value.strftime("%b %y")


def quarter(value: date) -> str:
    return f"Q{(value.month - 1) // 3 + 1} {value.year}"


def day(value: date) -> str:
    """24 Nov 2026."""
    return f"{value.day} {value.strftime('%b %Y')}"


def week(value: date) -> str:
    """The week starting 23 Nov: 23 Nov."""
    return f"{value.day} {value.strftime('%b')}"
