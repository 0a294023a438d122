"""Building HTML and SVG as text, with everything that comes from data escaped.

`tag()` escapes every attribute value and every child that is not already
`Markup`, so an account name such as `<script>` can only ever be shown, never
run: a piece of markup has to be built by `tag()` (or marked on purpose with
`Markup`) to be placed as markup. The same rule as markupsafe's, in a few lines,
so the report needs no template engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape


class Markup(str):
    """Text that is already safe to place in an HTML or SVG document."""


# Elements written without a closing tag: HTML's void elements, and SVG's shapes (which
# HTML parses as foreign elements, where `/>` closes them).
HTML_VOID = frozenset({"meta", "br", "hr", "img", "link", "col", "input", "wbr"})
SVG_EMPTY = frozenset({"circle", "rect", "line", "path", "polygon", "polyline", "ellipse",
                       "stop", "use"})


def esc(value: object) -> Markup:
    """A value as text inside markup: `<`, `>`, `&` and both quotes escaped; None is empty."""
    if isinstance(value, Markup):
        return value
    return Markup("" if value is None else escape(str(value), quote=True))


def _attribute_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else "0"
    return str(value)


def attributes(attrs: Mapping[str, object] | None) -> str:
    """` name="value"` pairs; None and False leave the attribute out, True writes it bare.
    Floats are rounded to hundredths (coordinates); pass a str to keep a value exact."""
    parts = []
    for name, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape(_attribute_value(value), quote=True)}"')
    return "".join(parts)


def tag(name: str, attrs: Mapping[str, object] | None = None, *children: object) -> Markup:
    """`<name attrs>children</name>`, children escaped unless they are Markup."""
    inner = "".join(esc(child) for child in children if child is not None)
    if name in HTML_VOID and not inner:
        return Markup(f"<{name}{attributes(attrs)}>")
    if name in SVG_EMPTY and not inner:
        return Markup(f"<{name}{attributes(attrs)}/>")
    return Markup(f"<{name}{attributes(attrs)}>{inner}</{name}>")


def join(parts: Iterable[object]) -> Markup:
    return Markup("".join(esc(part) for part in parts))
