"""The report's HTML page: one self-contained file, from the rows report_data reads.

Pure rendering, no I/O: `render(ReportData) -> str`. No script, no font, no
image and no stylesheet from elsewhere, so the page opens offline, prints, and
can be mailed. Each section has an id and a heading; each chart is inline SVG
(charts.py) with its numbers also in a table under "The numbers".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from expansion_signals import charts, formats
from expansion_signals.markup import Markup, join, tag
from expansion_signals.report_data import (
    ACCOUNTS_SHOWN,
    Backtest,
    EfficiencyQuarter,
    NrrMonth,
    PlayFunnel,
    PlayPerformance,
    ReadyAccount,
    ReportData,
    SignalWeek,
    SweepRow,
)

# The benchmarks the page reads the marts against (the specification's, DECISIONLOG "The
# report"): they are not model thresholds, so they live here and not in dbt_project.yml.
NRR_REFERENCES = ((1.0, "100%"), (1.2, "120%"))
MIX_TARGET = {"seat": 0.40, "consumption": 0.30, "cross_sell": 0.20, "tier": 0.10}
LOGO_PCT_TARGET = (0.15, 0.25)
DAYS_TO_FIRST_EXPANSION_TARGET = 180  # fewer than this
LIFT_REFERENCE = 1.0

MOTIONS = (  # key, label, colour; the order of the stacks
    ("seat", "Seat", charts.BLUE),
    ("consumption", "Consumption", charts.SKY),
    ("cross_sell", "Cross-sell", charts.GREEN),
    ("tier", "Tier", charts.ORANGE),
    ("bu_rollout", "BU rollout", charts.PURPLE),
)
URGENCIES = (("high", "High", charts.VERMILLION), ("medium", "Medium", charts.ORANGE),
             ("low", "Low", charts.SKY))
NO_BACKTEST = "Run `expansion backtest` to see the threshold curves."

SECTIONS = (  # id, heading
    ("nrr", "Net revenue retention"),
    ("mix", "Expansion mix by motion"),
    ("efficiency", "Expansion efficiency"),
    ("funnel", "Play funnel"),
    ("lift", "Lift per play"),
    ("thresholds", "Threshold curves"),
    ("signal-volume", "Signal volume and urgency"),
    ("accounts", f"Top {ACCOUNTS_SHOWN} expansion-ready accounts"),
)
HEADINGS = dict(SECTIONS)


def label(identifier: str | None) -> str:
    """A play or parameter id as words: seat_expansion -> Seat expansion, bu_rollout -> BU
    rollout."""
    if not identifier:
        return formats.MISSING
    words = ["BU" if word == "bu" else word for word in identifier.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def code(text: str) -> Markup:
    """`expansion backtest` in a sentence as <code>."""
    parts = text.split("`")
    return join(tag("code", {}, part) if i % 2 else part for i, part in enumerate(parts))


# --- tables -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    content: object
    css: str = ""
    data: dict[str, object] = field(default_factory=dict)


NUMERIC = "num"


def table(headers: Sequence[str | Cell], rows: Sequence[Sequence[object]], *,
          css: str = "", caption: str | None = None) -> Markup:
    def cell(name: str, value: object) -> Markup:
        if isinstance(value, Cell):
            attrs = {"class": value.css or None,
                     **{f"data-{k}": v for k, v in value.data.items()}}
            return tag(name, attrs, value.content)
        return tag(name, {}, value)

    head = tag("thead", {}, tag("tr", {}, *[cell("th", h) for h in headers]))
    body = tag("tbody", {}, *[tag("tr", {}, *[cell("td", v) for v in row]) for row in rows])
    return tag("table", {"class": css or None},
               tag("caption", {}, caption) if caption else None, head, body)


def numbers(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Markup:
    """A chart's figures, folded away under the chart."""
    def numeric(value: object) -> Cell:
        if isinstance(value, Cell):
            return Cell(value.content, f"{NUMERIC} {value.css}".strip(), value.data)
        return Cell(value, NUMERIC)

    return tag("details", {"class": "numbers"}, tag("summary", {}, "The numbers"),
               table([Cell(h, NUMERIC if i else "") for i, h in enumerate(headers)],
                     [[numeric(v) if i else v for i, v in enumerate(row)] for row in rows]))


def figure(chart: Markup, caption: Markup | str, figures: Markup | None = None) -> Markup:
    return tag("figure", {}, chart, tag("figcaption", {}, caption), figures)


def empty(text: str) -> Markup:
    return tag("p", {"class": "empty"}, code(text))


def section(section_id: str, *body: object) -> Markup:
    return tag("section", {"id": section_id, "aria-labelledby": f"{section_id}-heading"},
               tag("h2", {"id": f"{section_id}-heading"}, HEADINGS[section_id]), *body)


# --- NRR and the mix ----------------------------------------------------------------------

def _latest_nrr(months: Sequence[NrrMonth]) -> NrrMonth | None:
    return next((m for m in reversed(months) if m.nrr is not None), None)


def kpi(key: str, name: str, value: float | None, shown: str, note: str) -> Markup:
    return tag("div", {"class": "kpi", "data-kpi": key, "data-value": charts.exact(value)},
               tag("span", {"class": "kpi-name"}, name),
               tag("span", {"class": "kpi-value"}, shown),
               tag("span", {"class": "kpi-note"}, note))


def nrr_section(months: Sequence[NrrMonth]) -> Markup:
    if not any(m.nrr is not None or m.grr is not None for m in months):
        return section("nrr", empty("No complete month in the history yet."))
    latest = _latest_nrr(months)
    tiles = []
    if latest:
        window = f"12 months to {formats.month(latest.month)}"
        tiles = [
            kpi("nrr", "NRR", latest.nrr, formats.percent(latest.nrr, 1), window),
            kpi("grr", "GRR", latest.grr, formats.percent(latest.grr, 1), window),
            kpi("expansion_arr", "Expansion ARR", latest.expansion_arr,
                formats.money(latest.expansion_arr), f"{formats.count(latest.cohort_accounts)}"
                " accounts in the cohort"),
            kpi("ending_arr", "Ending ARR", latest.ending_arr, formats.money(latest.ending_arr),
                f"from {formats.money(latest.starting_arr)}"),
        ]
    keys = [m.month.isoformat() for m in months]
    chart = charts.line_chart(
        chart_id="nrr", title="NRR and GRR by month",
        description="Net and gross revenue retention over the trailing 12 months ending each "
                    "month, with reference lines at 100% and 120%.",
        x_keys=keys, x_titles=[formats.month(m.month) for m in months],
        x_labels_shown=[formats.short_month(m.month) for m in months],
        series=[charts.Series("nrr", "NRR", [m.nrr for m in months], charts.BLUE),
                charts.Series("grr", "GRR", [m.grr for m in months], charts.GREY, dashed=True)],
        fmt=formats.percent,
        references=[charts.Reference(v, text) for v, text in NRR_REFERENCES])
    rows = [[formats.month(m.month), formats.money(m.starting_arr),
             formats.money(m.expansion_arr), formats.money(m.contraction_arr),
             formats.money(m.churned_arr), formats.money(m.ending_arr),
             Cell(formats.percent(m.nrr, 1), data={"value": charts.exact(m.nrr)}),
             formats.percent(m.grr, 1)] for m in months]
    return section(
        "nrr",
        tag("div", {"class": "kpis"}, *tiles),
        figure(chart, "Each month's cohort is the accounts active 12 months earlier: NRR is "
                      "(starting + expansion − contraction − churn) / starting ARR, GRR leaves "
                      "expansion out. Above 120% is best in class; under 100% the base shrinks.",
               numbers(["Month (12 months to)", "Starting ARR", "Expansion", "Contraction",
                        "Churn", "Ending ARR", "NRR", "GRR"], rows)))


def mix_section(months: Sequence[NrrMonth]) -> Markup:
    if not any(m.seat_share is not None for m in months):
        return section("mix", empty("No expansion by motion in the history yet."))
    shares = {key: [getattr(m, f"{key}_share") for m in months] for key, _, _ in MOTIONS}
    target = "/".join(f"{round(v * 100)}" for v in MIX_TARGET.values())
    chart = charts.stacked_bars(
        chart_id="mix", title="Expansion mix by motion, by month",
        description=f"Each motion's share of the expansion ARR of the trailing 12 months, with "
                    f"the {target} target as the last bar.",
        x_keys=[m.month.isoformat() for m in months],
        x_titles=[formats.month(m.month) for m in months],
        x_labels_shown=[formats.short_month(m.month) for m in months],
        stacks=[charts.Stack(key, name, colour, shares[key]) for key, name, colour in MOTIONS],
        fmt=formats.percent, y_max=1.0,
        extra=charts.ExtraBar("target", "Target", dict(MIX_TARGET)))
    latest = next((m for m in reversed(months) if m.seat_share is not None), None)
    against = ""
    if latest:
        against = f" In the 12 months to {formats.month(latest.month)}: " + ", ".join(
            f"{name if name.isupper() or name.startswith('BU') else name.lower()} "
            f"{formats.percent(getattr(latest, f'{key}_share'))}"
            + (f" (target {formats.percent(MIX_TARGET[key])})" if key in MIX_TARGET else "")
            for key, name, _ in MOTIONS) + "."
    rows = [[formats.month(m.month), *[formats.percent(getattr(m, f"{key}_share"))
                                       for key, _, _ in MOTIONS],
             formats.money(m.price_expansion_arr)] for m in months]
    return section("mix", figure(
        chart,
        f"Shares of the five motions' expansion ARR (price uplifts are in NRR but sell no "
        f"play, so they are left out), against the {target} seat / consumption / cross-sell / "
        f"tier mix of companies above 120% NRR.{against}",
        numbers(["Month", *[name for _, name, _ in MOTIONS], "Price uplift ARR"], rows)))


# --- efficiency ---------------------------------------------------------------------------

def _logo_cell(value: float | None) -> Cell:
    low, high = LOGO_PCT_TARGET
    if value is None:
        return Cell(formats.MISSING, NUMERIC)
    flag = "below target" if value < low else "above target" if value > high else "on target"
    css = "on-target" if flag == "on target" else "off-target"
    return Cell(join([formats.percent(value), tag("span", {"class": "flag"}, flag)]),
                f"{NUMERIC} {css}", {"value": charts.exact(value), "flag": flag})


def _days_cell(value: float | None) -> Cell:
    if value is None:
        return Cell(formats.MISSING, NUMERIC)
    on = value < DAYS_TO_FIRST_EXPANSION_TARGET
    flag = "on target" if on else "over target"
    return Cell(join([formats.count(value), tag("span", {"class": "flag"}, flag)]),
                f"{NUMERIC} {'on-target' if on else 'off-target'}",
                {"value": charts.exact(value), "flag": flag})


def efficiency_section(quarters: Sequence[EfficiencyQuarter]) -> Markup:
    if not quarters:
        return section("efficiency", empty("No complete quarter in the history yet."))
    low, high = LOGO_PCT_TARGET
    headers = ["Quarter", "Active accounts", "Expanded",
               f"Expansion logo % (target {formats.percent(low)}–{formats.percent(high)})",
               f"Median days to first expansion (target < {DAYS_TO_FIRST_EXPANSION_TARGET})",
               "Multi-expansion %", "Expansion ARR", "Signal-led ARR, 12 months",
               "Expansion-driven NDR", "ARR per owner", "ARR per play hour"]
    rows = [[Cell(formats.quarter(q.quarter), data={"quarter": q.quarter.isoformat()}),
             Cell(formats.count(q.active_accounts), NUMERIC),
             Cell(formats.count(q.expanded_accounts), NUMERIC),
             _logo_cell(q.expansion_logo_pct),
             _days_cell(q.median_days_to_first_expansion),
             Cell(formats.percent(q.multi_expansion_pct), NUMERIC),
             Cell(formats.money(q.expansion_arr), NUMERIC),
             Cell(formats.money(q.signal_led_expansion_arr_12m), NUMERIC),
             Cell(formats.percent(q.expansion_driven_ndr, 1), NUMERIC),
             Cell(formats.money(q.expansion_arr_per_owner), NUMERIC),
             Cell(formats.money(q.expansion_arr_per_hour), NUMERIC)] for q in quarters]
    return section(
        "efficiency",
        table([Cell(h, NUMERIC if i else "") for i, h in enumerate(headers)], rows,
              css="efficiency"),
        tag("p", {"class": "note"},
            "Won expansion opportunities per quarter. Logo %: accounts active in the quarter "
            "that expanded in it. Signal-led: won expansions a signal preceded. "
            "Expansion-driven NDR counts only those as expansion. ARR per play hour: what the "
            "quarter's episodes won over the hours their plays take (the plays seed's "
            "effort_hours)."))


# --- plays --------------------------------------------------------------------------------

FUNNEL_STAGES = (("fired", "Fired"), ("alerted", "Alerted"), ("opportunities", "Opportunity"),
                 ("won", "Won"))


def _sla(row: PlayFunnel) -> str:
    if row.sla_compliance is None:
        return "nothing tracked"
    return (f"{formats.percent(row.sla_compliance)} "
            f"({formats.count(row.sla_met)}/{formats.count(row.sla_tracked)})")


def funnel_section(funnel: Sequence[PlayFunnel]) -> Markup:
    if not any(r.fired for r in funnel):
        return section("funnel", empty("No play has fired in the history yet."))
    ordered = sorted(funnel, key=lambda r: (-r.fired, r.play_id))
    chart = charts.funnel_chart(
        chart_id="funnel", title="Play funnel: fired, alerted, opportunity, won",
        description="Per play, the episodes that fired, were alerted by the sync, had an "
                    "expansion opportunity of their own and were won, each as a share of those "
                    "that fired, with the share that met the SLA.",
        stage_keys=[k for k, _ in FUNNEL_STAGES], stage_labels=[n for _, n in FUNNEL_STAGES],
        note_label="SLA met",
        rows=[charts.FunnelRow(
            r.play_id, label(r.play_id), [r.fired, r.alerted, r.opportunities, r.won],
            ["", "sync never ran", "", ""], _sla(r)) for r in ordered])
    never_synced = all(r.alerted is None for r in funnel)
    rows = [[label(r.play_id), formats.count(r.fired), formats.count(r.alerted),
             formats.count(r.opportunities), formats.count(r.won),
             formats.count(r.sla_tracked), formats.count(r.sla_met),
             formats.percent(r.sla_compliance)] for r in ordered]
    caption = ("Episodes over the history window; bars are shares of those that fired. "
               "Opportunity: an expansion opportunity of the play's motion belonging to the "
               "episode, at any stage. SLA met: of the episodes whose SLA date has passed, those "
               "whose account had a CRM activity by then.")
    if never_synced:
        caption += " Alerted is empty: the sync has never run against this warehouse."
    return section("funnel", figure(chart, caption, numbers(
        ["Play", "Fired", "Alerted", "Opportunities", "Won", "SLA tracked", "SLA met",
         "SLA compliance"], rows)))


def _lift(play: PlayPerformance) -> str:
    """The lift as read; a null lift is over a baseline that never converted: infinite when
    the play converted, undefined (n/a) when it did not either."""
    if play.lift is not None:
        return formats.ratio(play.lift)
    return "∞" if play.conversions else "n/a"


def _interval_note(play: PlayPerformance) -> str:
    estimate = _lift(play)
    if play.lift_lower is None and play.lift_upper is None:
        return f"{estimate} (no interval)"
    low = formats.ratio(play.lift_lower)
    high = formats.ratio(play.lift_upper) if play.lift_upper is not None else "∞"
    return f"{estimate} ({low} – {high})"


def lift_section(plays: Sequence[PlayPerformance]) -> Markup:
    if not plays:
        return section("lift", empty("No play has fired in the history yet."))
    if all(p.lift is None and p.lift_lower is None and p.lift_upper is None for p in plays):
        return section("lift", empty("No play has a lift to show yet: no episode has had the "
                                     "conversion window to convert in."))

    def strength(play: PlayPerformance) -> tuple:
        infinite = float("inf")
        return (-(play.lift_lower or 0.0),
                -(play.lift if play.lift is not None else infinite), play.play_id)

    ordered = sorted(plays, key=strength)
    chart = charts.interval_chart(
        chart_id="lift", title="Lift per play with its 95% interval",
        description="Each play's conversion rate over the rate of accounts where it never "
                    "fired, with Katz's 95% interval, on a log scale; 1× is no lift.",
        rows=[charts.Interval(p.play_id, label(p.play_id), p.lift, p.lift_lower, p.lift_upper,
                              _interval_note(p)) for p in ordered],
        reference=LIFT_REFERENCE)
    rows = [[label(p.play_id), formats.count(p.matured_episodes), formats.count(p.conversions),
             formats.percent(p.conversion_rate, 1), formats.percent(p.baseline_conversion_rate, 1),
             _lift(p), formats.ratio(p.lift_lower),
             formats.ratio(p.lift_upper) if p.lift_upper is not None else "unbounded",
             formats.percent(p.recall), formats.money(p.expansion_arr_per_hour)]
            for p in ordered]
    return section("lift", figure(
        chart,
        "Coloured: the whole interval is above 1×, a lift the data supports. An arrow to the "
        "left edge is a lower bound of 0; to the right edge, no upper bound (the baseline never "
        "converted). ∞: the play converted and the baseline never did; n/a: neither did.",
        numbers(["Play", "Matured episodes", "Conversions", "Conversion rate", "Baseline rate",
                 "Lift", "Lower 95%", "Upper 95%", "Recall", "ARR per play hour"], rows)))


# --- thresholds ---------------------------------------------------------------------------

def _sweep_summary(rows: Sequence[SweepRow]) -> str:
    def said(row: SweepRow, which: str) -> str:
        return (f"{which} {formats.number(row.value)}: {formats.money(row.won_arr_per_alert)} "
                f"won per alert, precision {formats.percent(row.precision)}, "
                f"{formats.count(row.alerts)} alerts "
                f"({row.alerts_per_owner_per_week or 0:.1f} per owner a week)")

    default = next((r for r in rows if r.is_default), None)
    best = next((r for r in rows if r.is_best), None)
    parts = []
    if default:
        parts.append(said(default, "Default"))
    if best and best is not default:
        parts.append(said(best, "Best"))
    elif best:
        parts[-1] += ", also the best value"
    return "; ".join(parts) + "." if parts else ""


def threshold_section(backtest: Backtest | None) -> Markup:
    if backtest is None:
        return section("thresholds", empty(NO_BACKTEST))
    figures = []
    for index, ((parameter, play_id), group) in enumerate(groupby(
            sorted(backtest.sweep, key=lambda r: (r.parameter, r.play_id or "", r.value)),
            key=lambda r: (r.parameter, r.play_id))):
        rows = list(group)
        name = parameter + (f" · {label(play_id)}" if play_id else "")
        chart = charts.sweep_chart(
            chart_id=f"sweep-{index}", title=f"Threshold curve: {name}",
            description=f"Won ARR per alert and precision of {name} at each value tried; the "
                        "default and the best value marked.",
            points=[charts.SweepPoint(r.value, r.won_arr_per_alert, r.precision, r.alerts,
                                      bool(r.within_budget), bool(r.is_default),
                                      bool(r.is_best)) for r in rows])
        figures.append(tag(
            "div", {"class": "sweep", "data-parameter": parameter, "data-play": play_id or ""},
            tag("h3", {}, tag("code", {}, parameter), f" · {label(play_id)}" if play_id else ""),
            figure(chart, _sweep_summary(rows), numbers(
                ["Value", "Alerts", "Per owner a week", "Episodes", "Conversions", "Precision",
                 "Recall", "Won ARR", "Won ARR per alert", "Within budget"],
                [[formats.number(r.value) + (" (default)" if r.is_default else "")
                  + (" (best)" if r.is_best else ""), formats.count(r.alerts),
                  formats.number(round(r.alerts_per_owner_per_week, 2))
                  if r.alerts_per_owner_per_week is not None else formats.MISSING,
                  formats.count(r.episodes), formats.count(r.conversions),
                  formats.percent(r.precision), formats.percent(r.recall),
                  formats.money(r.won_arr), formats.money(r.won_arr_per_alert),
                  "yes" if r.within_budget else "no"] for r in rows]))))
    finished = backtest.finished_at
    when = finished.strftime("%Y-%m-%d %H:%M") if hasattr(finished, "strftime") else finished
    return section(
        "thresholds",
        tag("p", {"class": "note", "data-run": str(backtest.run_id)},
            f"Backtest run {backtest.run_id}, finished {when}. Each dbt var was tried at the "
            "values shown, the others at their defaults. Hollow points alert more than the "
            "owners' budget allows; the best value is the one with the most won ARR per alert "
            "within it."),
        tag("p", {"class": "apply"}, "To apply the best values: ",
            tag("code", {}, f"expansion build {backtest.vars_line}"))
        if backtest.vars_line and backtest.vars_line.startswith("--vars") else None,
        tag("div", {"class": "sweeps"}, *figures))


# --- signals and accounts -----------------------------------------------------------------

def volume_section(weeks: Sequence[SignalWeek]) -> Markup:
    if not any(w.firing_signals for w in weeks):
        return section("signal-volume", empty("No signal in the history yet."))
    keys = [w.week_start.isoformat() for w in weeks]
    titles = [f"Week of {formats.day(w.week_start)}" for w in weeks]
    shown = [formats.week(w.week_start) for w in weeks]
    new = charts.stacked_bars(
        chart_id="new-signals", title="New signals per week by urgency",
        description="Episodes that began in each week, stacked by urgency.",
        x_keys=keys, x_titles=titles, x_labels_shown=shown,
        stacks=[charts.Stack(key, name, colour, [getattr(w, f"new_{key}") for w in weeks])
                for key, name, colour in URGENCIES],
        fmt=formats.count)
    firing = charts.line_chart(
        chart_id="firing-signals", title="Signals firing per week",
        description="Signal keys that fired on some day of each week.",
        x_keys=keys, x_titles=titles, x_labels_shown=shown,
        series=[charts.Series("firing_signals", "Firing", [w.firing_signals for w in weeks],
                              charts.BLUE)],
        fmt=formats.count, include_zero=True, height=200)
    rows = [[formats.day(w.week_start), formats.count(w.firing_signals),
             formats.count(w.new_signals), formats.count(w.new_high),
             formats.count(w.new_medium), formats.count(w.new_low),
             formats.count(w.new_signal_accounts)] for w in weeks]
    return section(
        "signal-volume",
        figure(new, "New signals: episodes that began in the week (new alerts), by urgency: "
                    "the one a build recorded, else replayed without the compound rule, so "
                    "weeks before the first scheduled run can show less high. A sudden step "
                    "is most often a threshold or a source change, not demand.",
               numbers(["Week of", "Firing", "New", "High", "Medium", "Low", "Accounts"], rows)),
        figure(firing, "Signals firing: the signal keys that fired on some day of the week, "
                       "the open work the owners carry."))


def _owner(email: str | None) -> str:
    return email or "(fallback channel)"


def accounts_section(accounts: Sequence[ReadyAccount]) -> Markup:
    if not accounts:
        return section("accounts", empty("No expansion-ready account: no play fires on this "
                                          "date."))
    headers = ["#", "Account", "Expected value", "Signals", "Categories", "Urgency", "Plays",
               "Owner"]
    rows = [[Cell(formats.count(a.overall_rank), NUMERIC),
             Cell(a.account_name or a.account_id, "account",
                  {"account-id": a.account_id}),
             Cell(formats.money(a.expected_value), NUMERIC,
                  {"value": charts.exact(a.expected_value)}),
             Cell(formats.count(a.signals), NUMERIC),
             Cell(f"{a.signal_categories}{' ★' if a.compound else ''}", NUMERIC),
             Cell(a.strongest_urgency, f"urgency-{a.strongest_urgency}"),
             Cell(", ".join(label(p.strip()) for p in (a.plays or "").split(",") if p.strip())),
             Cell(_owner(a.owner_email), "owner")] for a in accounts]
    return section(
        "accounts",
        table([Cell(h, NUMERIC if h in ("#", "Expected value", "Signals", "Categories") else "")
               for h in headers], rows, css="accounts"),
        tag("p", {"class": "note"},
            code("The work queue of `expansion show`, by expected value: the sum over the "
                 "account's signals of conversion probability × amount, learned from your own "
                 "history. ★ compound: 3+ signals from 3+ categories.")))


# --- the page -----------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; --ink: #222; --muted: #6b6b6b; --rule: #e3e3e3;
        --good: #00795a; --bad: #b34700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
header, main, footer { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; border-bottom: 1px solid var(--rule); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 8px; border-top: 1px solid var(--rule); }
h3 { font-size: 15px; margin: 24px 0 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; padding-bottom: 12px; }
nav a { color: #0060a0; text-decoration: none; }
nav a:hover { text-decoration: underline; }
figure { margin: 8px 0 16px; }
figcaption, .note, .empty { color: var(--muted); max-width: 80ch; }
.empty { padding: 16px; background: #f6f6f6; border-radius: 4px; color: var(--ink); }
svg.chart { display: block; width: 100%; height: auto; font-family: inherit; }
.sweeps { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr));
          gap: 0 28px; }
.sweeps figcaption { font-size: 12px; }
.apply code { overflow-wrap: anywhere; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 12px; }
.kpi { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.kpi-name { display: block; color: var(--muted); font-size: 12px; }
.kpi-value { display: block; font-size: 24px; font-weight: 600;
             font-variant-numeric: tabular-nums; }
.kpi-note { display: block; color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--rule); text-align: left;
         vertical-align: top; }
th { font-weight: 600; font-size: 12px; color: var(--muted); }
th.num, td.num { text-align: right; }
table.efficiency td:first-child { white-space: nowrap; }
.flag { display: block; font-size: 11px; }
td.on-target { color: var(--good); }
td.off-target { color: var(--bad); font-weight: 600; }
td.urgency-high { color: #b34700; font-weight: 600; }
details.numbers summary { cursor: pointer; color: #0060a0; margin-top: 4px; }
details.numbers table { font-size: 12px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.95em; }
footer { color: var(--muted); border-top: 1px solid var(--rule); margin-top: 40px;
         padding-top: 12px; padding-bottom: 32px; font-size: 12px; }
@media print {
  nav, details.numbers summary { display: none; }
  section, figure, table { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


def render(data: ReportData) -> str:
    as_of = formats.day(data.as_of) if data.as_of else "no as_of (the marts are empty)"
    header = tag(
        "header", {},
        tag("h1", {}, "Expansion report"),
        tag("p", {"class": "meta"}, "As of ",
            tag("time", {"datetime": data.as_of.isoformat() if data.as_of else None,
                         "id": "as-of"}, as_of),
            " · read from ", tag("span", {"id": "warehouse"}, data.warehouse)),
        tag("nav", {"aria-label": "Sections"},
            *[tag("a", {"href": f"#{sid}"}, heading) for sid, heading in SECTIONS]))
    sections: list[Callable[[], Markup]] = [
        lambda: nrr_section(data.nrr),
        lambda: mix_section(data.nrr),
        lambda: efficiency_section(data.efficiency),
        lambda: funnel_section(data.funnel),
        lambda: lift_section(data.plays),
        lambda: threshold_section(data.backtest),
        lambda: volume_section(data.signal_weeks),
        lambda: accounts_section(data.accounts),
    ]
    body = tag("body", {}, header, tag("main", {}, *[make() for make in sections]),
               tag("footer", {}, "Written by ", tag("code", {}, "expansion report"),
                   " from the marts nrr_by_motion, expansion_efficiency, play_funnel, "
                   "play_performance, signal_volume and expansion_ready_accounts, and the "
                   "backtest's threshold_sweep. Self-contained: no script, nothing loaded from "
                   "the network."))
    title = f"Expansion report · {as_of}"
    head = tag("head", {}, tag("meta", {"charset": "utf-8"}),
               tag("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
               tag("title", {}, title), tag("style", {}, Markup(STYLE)))
    return "<!doctype html>\n" + tag("html", {"lang": "en"}, head, body) + "\n"
