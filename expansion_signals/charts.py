"""The report's charts as inline SVG: lines, stacked bars, a funnel, intervals, sweeps.

No JavaScript and no dependency: each function takes plain numbers and
returns one `<svg>` element (Markup). Every drawn value is a shape of class
`mark` carrying its numbers in `data-*` attributes (exact, as read from the
mart) and a `<title>` a browser shows on hover; each chart has a `<title>`,
a `<desc>` and an aria-label, so a screen reader, a print-out and a test all
read the same figures. Colours are the Okabe-Ito palette, which people with
the common colour-vision deficiencies tell apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from expansion_signals import formats
from expansion_signals.markup import Markup, tag

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 760
SMALL_WIDTH = 480  # charts shown two abreast
INK, MUTED, GRID, TRACK = "#222222", "#6b6b6b", "#e3e3e3", "#f0f0f0"
BLUE, SKY, GREEN, ORANGE, VERMILLION, PURPLE, GREY = (
    "#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#8c8c8c")
MAX_X_LABELS = 12

Format = Callable[[float | None], str]


# --- scales and ticks ---------------------------------------------------------------------

@dataclass(frozen=True)
class Linear:
    low: float
    high: float
    start: float  # pixel of low
    end: float  # pixel of high

    def __call__(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


@dataclass(frozen=True)
class Log:
    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = math.log(self.high / self.low) or 1.0
        return self.start + math.log(value / self.low) / span * (self.end - self.start)


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(round((last - first) / step) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks within [low, high], thinned to powers of ten when there are many."""
    ticks = []
    for power in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1, 2, 5):
            value = m * 10.0 ** power
            if low <= value * 1.0001 and value <= high * 1.0001:
                ticks.append(round(value, 10))
    if len(ticks) > 8:
        ticks = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
    return ticks


def money_tick(value: float | None) -> str:
    """$3K rather than $3.0K on an axis, where every tick is round."""
    return formats.money(value).replace(".0K", "K").replace(".0M", "M").replace(".0B", "B")


def exact(value: float | None) -> str:
    """A number for a data-* attribute: as read, so a test compares it exactly."""
    return "" if value is None else repr(float(value))


def every_nth(count: int, most: int = MAX_X_LABELS) -> int:
    return max(1, math.ceil(count / most))


# --- frame --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    height: int
    left: int = 56
    right: int = 24
    top: int = 28
    bottom: int = 34
    width: int = WIDTH

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:  # the bottom of the plot
        return self.height - self.bottom

    @property
    def y1(self) -> float:  # the top of the plot
        return self.top

    def band(self, count: int) -> tuple[float, Callable[[int], float]]:
        """Width of one of `count` equal bands across the plot, and the centre of band i."""
        step = (self.x1 - self.x0) / max(count, 1)
        return step, lambda i: self.x0 + (i + 0.5) * step


def svg(chart_id: str, title: str, description: str, frame: Frame, *body: Markup) -> Markup:
    return tag(
        "svg",
        {"xmlns": SVG_NS, "class": "chart", "id": f"chart-{chart_id}", "data-chart": chart_id,
         "viewBox": f"0 0 {frame.width} {frame.height}", "role": "img",
         "aria-label": f"{title}. {description}", "font-size": "11"},
        tag("title", {}, title),
        tag("desc", {}, description),
        *body,
    )


def text(x: float, y: float, content: str, anchor: str = "start", **attrs: object) -> Markup:
    return tag("text", {"x": x, "y": y, "text-anchor": anchor, "fill": attrs.pop("fill", MUTED),
                        **attrs}, content)


def y_axis(frame: Frame, scale: Linear, ticks: Sequence[float], fmt: Format) -> Markup:
    parts = []
    for value in ticks:
        y = scale(value)
        parts.append(tag("line", {"x1": frame.x0, "x2": frame.x1, "y1": y, "y2": y,
                                  "stroke": GRID, "stroke-width": 1}))
        parts.append(text(frame.x0 - 6, y + 4, fmt(value), "end"))
    return tag("g", {"class": "axis y-axis"}, *parts)


def x_labels(frame: Frame, labels: Sequence[str], centre: Callable[[int], float]) -> Markup:
    nth = every_nth(len(labels))
    parts = [text(centre(i), frame.y0 + 16, label, "middle")
             for i, label in enumerate(labels) if i % nth == 0]
    return tag("g", {"class": "axis x-axis"}, *parts)


def legend(frame: Frame, items: Sequence[tuple[str, str, bool]]) -> Markup:
    """Swatches along the top: (label, colour, dashed line instead of a square)."""
    parts, x = [], frame.x0
    for label, colour, dashed in items:
        if dashed:
            parts.append(tag("line", {"x1": x, "x2": x + 14, "y1": 12, "y2": 12, "stroke": colour,
                                      "stroke-width": 2, "stroke-dasharray": "4 3"}))
        else:
            parts.append(tag("rect", {"x": x, "y": 6, "width": 12, "height": 12, "rx": 2,
                                      "fill": colour}))
        parts.append(text(x + 18, 16, label, fill=INK))
        x += 26 + 6.5 * len(label)
    return tag("g", {"class": "legend"}, *parts)


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """An SVG path through the points, broken where a point is None (a null month)."""
    commands, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(commands)


# --- line chart ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[float | None]
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Reference:
    value: float
    label: str


def line_chart(*, chart_id: str, title: str, description: str, x_keys: Sequence[str],
               x_titles: Sequence[str], x_labels_shown: Sequence[str], series: Sequence[Series],
               fmt: Format, references: Sequence[Reference] = (), include_zero: bool = False,
               height: int = 260) -> Markup:
    """Lines over categories (months, weeks), a dot per value, with labelled reference lines."""
    frame = Frame(height=height, right=56 if references else 24)
    values = [v for s in series for v in s.values if v is not None]
    values += [r.value for r in references]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    ticks = nice_ticks(0.0 if include_zero else low, high)
    scale = Linear(ticks[0], ticks[-1], frame.y0, frame.y1)
    _, centre = frame.band(len(x_keys))
    parts = [y_axis(frame, scale, ticks, fmt)]
    for reference in references:
        y = scale(reference.value)
        parts.append(tag("g", {"class": "reference", "data-value": exact(reference.value)},
                         tag("line", {"x1": frame.x0, "x2": frame.x1, "y1": y, "y2": y,
                                      "stroke": INK, "stroke-width": 1,
                                      "stroke-dasharray": "2 3"}),
                         text(frame.x1 + 4, y + 4, reference.label, fill=INK)))
    for line in series:
        points = [None if v is None else (centre(i), scale(v)) for i, v in enumerate(line.values)]
        marks = [tag("path", {"class": "mark line", "data-series": line.key,
                              "d": _path(points), "fill": "none", "stroke": line.colour,
                              "stroke-width": 2, "stroke-dasharray": "5 4" if line.dashed else None,
                              "stroke-linejoin": "round"})]
        for i, value in enumerate(line.values):
            if value is None:
                continue
            marks.append(tag("circle", {"class": "mark point", "data-series": line.key,
                                        "data-x": x_keys[i], "data-value": exact(value),
                                        "cx": centre(i), "cy": scale(value), "r": 3.2,
                                        "fill": line.colour},
                             tag("title", {}, f"{x_titles[i]}: {line.label} {fmt(value)}")))
        parts.append(tag("g", {"class": "series", "data-series": line.key}, *marks))
    parts.append(x_labels(frame, x_labels_shown, centre))
    parts.append(legend(frame, [(s.label, s.colour, s.dashed) for s in series]))
    return svg(chart_id, title, description, frame, *parts)


# --- stacked bars -------------------------------------------------------------------------

@dataclass(frozen=True)
class Stack:
    key: str
    label: str
    colour: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class ExtraBar:
    """A bar after the others, set apart: a target to read the bars against."""
    key: str
    label: str
    values: dict[str, float]  # stack key -> value


def stacked_bars(*, chart_id: str, title: str, description: str, x_keys: Sequence[str],
                 x_titles: Sequence[str], x_labels_shown: Sequence[str], stacks: Sequence[Stack],
                 fmt: Format, extra: ExtraBar | None = None, y_max: float | None = None,
                 height: int = 260) -> Markup:
    """Bars of stacked segments per category (null segments left out), plus an extra bar."""
    frame = Frame(height=height)
    count = len(x_keys) + (2 if extra else 0)  # the extra bar sits one empty band apart
    totals = [sum(s.values[i] or 0.0 for s in stacks) for i in range(len(x_keys))]
    if extra:
        totals.append(sum(extra.values.values()))
    ticks = nice_ticks(0.0, y_max if y_max is not None else max(totals, default=0.0) or 1.0)
    scale = Linear(ticks[0], ticks[-1], frame.y0, frame.y1)
    step, centre = frame.band(count)
    bar = max(min(step * 0.72, 36.0), 1.0)
    parts = [y_axis(frame, scale, ticks, fmt)]

    def segments(i: int, key: str, title_x: str, values: dict[str, float | None],
                 css: str) -> Markup:
        base, drawn = 0.0, []
        for stack in stacks:
            value = values.get(stack.key)
            if value is None or value <= 0:
                continue
            top, bottom = scale(base + value), scale(base)
            drawn.append(tag("rect", {"class": f"mark {css}", "data-series": stack.key,
                                      "data-x": key, "data-value": exact(value),
                                      "x": centre(i) - bar / 2, "y": top, "width": bar,
                                      "height": max(bottom - top, 0.5), "fill": stack.colour},
                             tag("title", {}, f"{title_x}: {stack.label} {fmt(value)}")))
            base += value
        return tag("g", {"class": "bar", "data-x": key}, *drawn)

    for i, key in enumerate(x_keys):
        parts.append(segments(i, key, x_titles[i], {s.key: s.values[i] for s in stacks}, "segment"))
    labels = list(x_labels_shown)
    if extra:
        parts.append(segments(count - 1, extra.key, extra.label, dict(extra.values), "target"))
        separator = frame.x0 + (count - 1.5) * step
        parts.append(tag("line", {"x1": separator, "x2": separator, "y1": frame.y1,
                                  "y2": frame.y0, "stroke": GRID, "stroke-dasharray": "3 3"}))
        parts.append(text(centre(count - 1), frame.y0 + 16, extra.label, "middle", fill=INK,
                          **{"font-weight": "600"}))
    parts.append(x_labels(frame, labels, centre))
    parts.append(legend(frame, [(s.label, s.colour, False) for s in stacks]))
    return svg(chart_id, title, description, frame, *parts)


# --- funnel -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FunnelRow:
    key: str
    label: str
    stages: Sequence[float | None]  # the first stage is the whole: every bar is a share of it
    missing: Sequence[str]  # what to write for a None stage
    note: str  # right-hand column
    note_flag: str = ""  # class of the note: "off-target" draws attention to it


def funnel_chart(*, chart_id: str, title: str, description: str, stage_keys: Sequence[str],
                 stage_labels: Sequence[str], note_label: str,
                 rows: Sequence[FunnelRow]) -> Markup:
    """One line per row: each stage as a bar, its share of the row's first stage."""
    label_width, note_width, row_height = 170, 120, 30
    frame = Frame(height=36 + row_height * len(rows), left=label_width, right=note_width, top=36,
                  bottom=0)
    column = (frame.x1 - frame.x0) / len(stage_keys)
    track = column - 14
    parts = [text(frame.x0 + i * column, 20, label, fill=INK, **{"font-weight": "600"})
             for i, label in enumerate(stage_labels)]
    parts.append(text(frame.x1 + 10, 20, note_label, fill=INK, **{"font-weight": "600"}))
    for r, row in enumerate(rows):
        y = frame.top + r * row_height
        whole = row.stages[0] or 0.0
        cells = [text(frame.x0 - 10, y + 15, row.label, "end", fill=INK)]
        for i, (key, value) in enumerate(zip(stage_keys, row.stages, strict=True)):
            x = frame.x0 + i * column
            cells.append(tag("rect", {"x": x, "y": y + 3, "width": track, "height": 16,
                                      "fill": TRACK, "rx": 2}))
            if value is None:
                cells.append(text(x + 4, y + 15, row.missing[i], fill=MUTED))
                continue
            share = value / whole if whole else 0.0
            width = track * min(share, 1.0)
            shown = formats.count(value) + ("" if i == 0 else f" · {formats.percent(share)}")
            cells.append(tag("rect", {"class": "mark stage", "data-stage": key,
                                      "data-value": exact(value), "x": x, "y": y + 3,
                                      "width": max(width, 1.5) if value > 0 else 0, "height": 16,
                                      "fill": BLUE if i == 0 else SKY, "rx": 2},
                             tag("title", {}, f"{row.label}: {stage_labels[i]} {shown}")))
            cells.append(text(x + 4, y + 15, shown,
                              fill="#ffffff" if width > 6.2 * len(shown) + 8 else INK))
        cells.append(text(frame.x1 + 10, y + 15, row.note,
                          fill=VERMILLION if row.note_flag == "off-target" else INK))
        parts.append(tag("g", {"class": "funnel-row", "data-key": row.key}, *cells))
    return svg(chart_id, title, description, frame, *parts)


# --- intervals (dot and whisker) ----------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    key: str
    label: str
    estimate: float | None  # None: not finite (nothing to compare against)
    lower: float | None
    upper: float | None  # None: unbounded
    note: str


def ratio_tick(value: float | None) -> str:
    return f"{formats.number(value)}×"


def interval_chart(*, chart_id: str, title: str, description: str, rows: Sequence[Interval],
                   reference: float = 1.0, fmt: Format = formats.ratio,
                   tick_fmt: Format = ratio_tick) -> Markup:
    """A dot for each estimate and a whisker for its interval, on a log scale with a line at
    the reference. A zero bound runs to the left edge, an unbounded one to the right edge,
    each with an arrow; an interval wholly above the reference is drawn in colour."""
    label_width, note_width, row_height = 170, 150, 28
    frame = Frame(height=56 + row_height * len(rows), left=label_width, right=note_width,
                  top=12, bottom=44)
    positive = [v for row in rows for v in (row.estimate, row.lower, row.upper)
                if v is not None and v > 0] + [reference]
    ticks = log_ticks(min(positive) / 1.6, max(positive) * 1.6)
    low = min(min(positive) / 1.6, ticks[0])
    high = max(max(positive) * 1.6, ticks[-1])
    edge = 10  # room for the arrows
    scale = Log(low, high, frame.x0 + edge, frame.x1 - edge)
    parts = []
    for value in ticks:
        x = scale(value)
        parts.append(tag("line", {"x1": x, "x2": x, "y1": frame.y1, "y2": frame.y0,
                                  "stroke": GRID}))
        parts.append(text(x, frame.y0 + 16, tick_fmt(value), "middle"))
    x_ref = scale(reference)
    parts.append(tag("line", {"class": "reference", "x1": x_ref, "x2": x_ref, "y1": frame.y1 - 4,
                              "y2": frame.y0, "stroke": INK, "stroke-dasharray": "3 3"}))
    for r, row in enumerate(rows):
        y = frame.y1 + r * row_height + row_height / 2
        supported = row.lower is not None and row.lower > reference
        colour = BLUE if supported else GREY
        x_low = scale(row.lower) if row.lower and row.lower > 0 else frame.x0
        x_high = scale(row.upper) if row.upper is not None else frame.x1
        cells = [text(frame.x0 - 10, y + 4, row.label, "end", fill=INK),
                 text(frame.x1 + 10, y + 4, row.note, fill=INK)]
        if row.lower is not None or row.upper is not None:
            cells.append(tag("line", {"class": "mark whisker", "data-lower": exact(row.lower),
                                      "data-upper": exact(row.upper), "x1": x_low, "x2": x_high,
                                      "y1": y, "y2": y, "stroke": colour, "stroke-width": 2},
                             tag("title", {}, f"{row.label}: 95% interval {row.note}")))
            if row.lower is not None and row.lower <= 0:
                cells.append(tag("polygon", {"class": "arrow to-zero", "fill": colour,
                                             "points": f"{frame.x0 - 2},{y} {frame.x0 + 6},{y - 4} "
                                                       f"{frame.x0 + 6},{y + 4}"}))
            if row.upper is None:
                cells.append(tag("polygon", {"class": "arrow unbounded", "fill": colour,
                                             "points": f"{frame.x1 + 2},{y} {frame.x1 - 6},{y - 4} "
                                                       f"{frame.x1 - 6},{y + 4}"}))
                cells.append(text(frame.x1 - 8, y - 6, "unbounded", "end", fill=colour))
        if row.estimate is not None:
            x = scale(row.estimate) if row.estimate > 0 else frame.x0
            cells.append(tag("circle", {"class": "mark estimate", "data-value": exact(row.estimate),
                                        "cx": x, "cy": y, "r": 4.5, "fill": colour,
                                        "stroke": "#ffffff", "stroke-width": 1},
                             tag("title", {}, f"{row.label}: {fmt(row.estimate)}")))
        parts.append(tag("g", {"class": "interval-row", "data-key": row.key,
                               "data-estimate": exact(row.estimate),
                               "data-lower": exact(row.lower), "data-upper": exact(row.upper)},
                         *cells))
    parts.append(text(x_ref, frame.y0 + 34, f"{tick_fmt(reference)} = no lift", "middle",
                      fill=INK))
    return svg(chart_id, title, description, frame, *parts)


# --- a parameter sweep --------------------------------------------------------------------

@dataclass(frozen=True)
class SweepPoint:
    value: float
    won_arr_per_alert: float | None
    precision: float | None
    alerts: float | None
    within_budget: bool
    is_default: bool
    is_best: bool


def sweep_chart(*, chart_id: str, title: str, description: str,
                points: Sequence[SweepPoint]) -> Markup:
    """Won ARR per alert (top) and precision (bottom) against a threshold's value; the default
    and the best value marked; values over the alert budget drawn hollow."""
    frame = Frame(height=330, top=60, bottom=30, right=16, width=SMALL_WIDTH)
    ordered = sorted(points, key=lambda p: p.value)
    values = [p.value for p in ordered]
    low, high = min(values), max(values)
    pad = (high - low) * 0.06 or (abs(low) * 0.1 or 1.0)
    x_ticks = nice_ticks(low - pad, high + pad, 6)
    x = Linear(x_ticks[0], x_ticks[-1], frame.x0, frame.x1)
    gap = 40
    panel = (frame.y0 - frame.y1 - gap) / 2
    panels = (("won_arr_per_alert", "won ARR per alert", money_tick, frame.y1),
              ("precision", "precision", formats.percent, frame.y1 + panel + gap))
    parts = []
    for key, label, fmt, top in panels:
        series = [getattr(p, key) for p in ordered]
        known = [v for v in series if v is not None]
        ticks = nice_ticks(0.0, max(known, default=0.0) or (1.0 if key == "precision" else 1000.0),
                           3)
        y = Linear(ticks[0], ticks[-1], top + panel, top)
        sub = Frame(height=int(top + panel + frame.bottom), top=int(top), left=frame.left,
                    right=frame.right, width=frame.width)
        parts.append(y_axis(sub, y, ticks, fmt))
        parts.append(text(frame.x0 - 48, top - 12, label, fill=INK, **{"font-weight": "600"}))
        line = [None if v is None else (x(p.value), y(v)) for p, v in zip(ordered, series,
                                                                           strict=True)]
        marks = [tag("path", {"class": "mark line", "data-series": key, "d": _path(line),
                              "fill": "none", "stroke": BLUE if key != "precision" else GREEN,
                              "stroke-width": 2})]
        for point, value in zip(ordered, series, strict=True):
            if value is None:
                continue
            colour = BLUE if key != "precision" else GREEN
            marks.append(tag("circle", {
                "class": "mark point" + ("" if point.within_budget else " over-budget"),
                "data-series": key, "data-x": exact(point.value), "data-value": exact(value),
                "cx": x(point.value), "cy": y(value), "r": 3.6,
                "fill": colour if point.within_budget else "#ffffff", "stroke": colour,
                "stroke-width": 1.5},
                tag("title", {}, f"{formats.number(point.value)}: {label} {fmt(value)}, "
                                 f"{formats.count(point.alerts)} alerts"
                                 + ("" if point.within_budget else ", over the alert budget"))))
        parts.append(tag("g", {"class": "series", "data-series": key}, *marks))
    marked = [p for p in ordered if p.is_default or p.is_best]
    for level, point in enumerate(marked):
        which = " and ".join(n for n, on in (("default", point.is_default),
                                              ("best", point.is_best)) if on)
        px = x(point.value)
        colour = VERMILLION if point.is_best else INK
        label_y = frame.y1 - 44 + 13 * level  # one line each, so two labels never overlap
        left_half = px < (frame.x0 + frame.x1) / 2
        parts.append(tag("g", {"class": "marker " + which.replace(" and ", " "),
                               "data-value": exact(point.value)},
                         tag("line", {"x1": px, "x2": px, "y1": frame.y1 - 6, "y2": frame.y0,
                                      "stroke": colour,
                                      "stroke-width": 1.5 if point.is_best else 1,
                                      "stroke-dasharray": None if point.is_best else "4 3"}),
                         text(px + (4 if left_half else -4), label_y,
                              f"{which} {formats.number(point.value)}",
                              "start" if left_half else "end", fill=colour)))
    parts.append(tag("g", {"class": "axis x-axis"},
                     *[text(x(v), frame.y0 + 16, formats.number(v), "middle") for v in x_ticks]))
    return svg(chart_id, title, description, frame, *parts)
