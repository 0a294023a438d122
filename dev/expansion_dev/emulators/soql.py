"""The SOQL subset a sync needs, parsed and evaluated against the emulated org.

    SELECT f1, f2 | COUNT() FROM Obj
    [WHERE cond {AND|OR cond}]
        cond: f = v | f != v | f < v ... | f LIKE 'x%' | f [NOT] IN (v, ...) | NOT cond | (cond)
    [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]

Values: 'escaped strings' (the escapes `format_soql` emits), numbers, true,
false, null, YYYY-MM-DD dates and dateTimes (YYYY-MM-DDThh:mm:ss[.sss] with Z,
+hh:mm or +hhmm). Text comparison is case-insensitive, as in Salesforce; dates
and dateTimes compare as such (2026-01-01T01:00:00+01:00 is midnight UTC), and
only on a field of their own type, unquoted, as Salesforce requires (else
INVALID_FIELD). Anything else (relationship paths, functions, date literals such
as TODAY, GROUP BY) is rejected with MALFORMED_QUERY rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from expansion_dev.emulators import sf_ids
from expansion_dev.emulators.schema import (
    DATE,
    DATETIME,
    ID,
    REFERENCE,
    TEXT_TYPES,
    FieldSpec,
    ObjectSpec,
    lookup_object,
)
from expansion_dev.emulators.sf_errors import ApiError

TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?(?![\w-]))
      | (?P<date>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
DATETIME_LITERAL = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})$"
)
TEMPORAL_TYPES = frozenset({DATE, DATETIME})
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "order",
    "by",
    "limit",
    "offset",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "true",
    "false",
    "null",
    "count",
}

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Query:
    sobject: ObjectSpec
    fields: list[FieldSpec]  # empty for COUNT()
    count_only: bool
    where: Predicate | None
    order_by: tuple[FieldSpec, bool] | None  # (field, descending)
    limit: int | None
    offset: int

    def run(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [r for r in records if self.where is None or self.where(r)]
        if self.order_by is not None:
            fspec, descending = self.order_by
            # Salesforce sorts nulls first ascending; a tuple key keeps None comparable.
            rows.sort(
                key=lambda r: (r.get(fspec.name) is not None, _sort_key(r.get(fspec.name))),
                reverse=descending,
            )
        rows = rows[self.offset :]
        if self.limit is not None:
            rows = rows[: self.limit]
        return rows


def malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


def _sort_key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def tokenize(soql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = soql.strip()
    while pos < len(text):
        match = TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise malformed(f"unexpected token: '{text[pos : pos + 20]}'")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def unescape(literal: str) -> str:
    body = literal[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(ESCAPES.get(nxt, "\\" + nxt))  # \_ and \% stay escaped for LIKE
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.pos = 0
        self.spec: ObjectSpec | None = None

    # --- token helpers -------------------------------------------------------------------

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise malformed("unexpected end of query")
        self.pos += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in words

    def keyword(self, word: str) -> None:
        kind, value = self.next()
        if kind != "word" or value.lower() != word:
            raise malformed(f"unexpected token: '{value}', expected {word.upper()}")

    def punct(self, char: str) -> None:
        kind, value = self.next()
        if value != char:
            raise malformed(f"unexpected token: '{value}', expected '{char}'")

    # --- grammar -------------------------------------------------------------------------

    def parse(self) -> Query:
        self.keyword("select")
        count_only = False
        names: list[str] = []
        if self.at_keyword("count"):
            self.next()
            self.punct("(")
            self.punct(")")
            count_only = True
        else:
            names.append(self.identifier())
            while self.peek() == ("punct", ","):
                self.next()
                names.append(self.identifier())
        self.keyword("from")
        object_name = self.identifier()
        self.spec = lookup_object(object_name)
        if self.spec is None:
            raise ApiError(
                400,
                "INVALID_TYPE",
                f"sObject type '{object_name}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        fields = [self.field(n) for n in names]
        where = None
        if self.at_keyword("where"):
            self.next()
            where = self.expression()
        order_by = None
        if self.at_keyword("order"):
            self.next()
            self.keyword("by")
            fspec = self.field(self.identifier())
            descending = False
            if self.at_keyword("asc", "desc"):
                descending = self.next()[1].lower() == "desc"
            order_by = (fspec, descending)
        limit = self.integer_clause("limit")
        offset = self.integer_clause("offset") or 0
        leftover = self.peek()
        if leftover is not None:
            raise malformed(f"unexpected token: '{leftover[1]}'")
        return Query(self.spec, fields, count_only, where, order_by, limit, offset)

    def integer_clause(self, word: str) -> int | None:
        if not self.at_keyword(word):
            return None
        self.next()
        kind, value = self.next()
        if kind != "number" or "." in value:
            raise malformed(
                f"unexpected token: '{value}', expected an integer after {word.upper()}"
            )
        return int(value)

    def identifier(self) -> str:
        kind, value = self.next()
        if kind != "word" or value.lower() in KEYWORDS:
            raise malformed(f"unexpected token: '{value}'")
        if "." in value:
            raise malformed(f"relationship queries are not supported by the emulator: '{value}'")
        return value

    def field(self, name: str) -> FieldSpec:
        assert self.spec is not None
        fspec = self.spec.field(name)
        if fspec is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{self.spec.name}'. If you are attempting "
                "to use a custom field, be sure to append the '__c' after the custom field "
                "name. Please reference your WSDL or the describe call for the appropriate names.",
            )
        return fspec

    def expression(self) -> Predicate:
        left = self.term()
        while self.at_keyword("or"):
            self.next()
            right = self.term()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self.at_keyword("and"):
            self.next()
            right = self.factor()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def factor(self) -> Predicate:
        if self.at_keyword("not"):
            self.next()
            inner = self.factor()
            return lambda r: not inner(r)
        if self.peek() == ("punct", "("):
            self.next()
            inner = self.expression()
            self.punct(")")
            return inner
        fspec = self.field(self.identifier())
        if self.at_keyword("not", "in"):
            negate = self.next()[1].lower() == "not"
            if negate:
                self.keyword("in")
            values = self.value_list(fspec)
            test = lambda r: _normal(fspec, r.get(fspec.name)) in values  # noqa: E731
            return (lambda r: not test(r)) if negate else test
        if self.at_keyword("like"):
            self.next()
            kind, raw = self.next()
            if kind != "string":
                raise malformed("LIKE needs a string")
            pattern = _like_regex(unescape(raw))
            return lambda r: bool(pattern.match(str(r.get(fspec.name) or "")))
        kind, op = self.next()
        if kind != "op":
            raise malformed(f"unexpected token: '{op}', expected an operator")
        literal = self.value(fspec)
        return _comparison(fspec, op, literal)

    def value_list(self, fspec: FieldSpec) -> set[Any]:
        self.punct("(")
        values = {self.value(fspec)}
        while self.peek() == ("punct", ","):
            self.next()
            values.add(self.value(fspec))
        self.punct(")")
        return values

    def value(self, fspec: FieldSpec) -> Any:
        kind, raw = self.next()
        if kind == "date":
            return _temporal(fspec, raw)
        if fspec.type in TEMPORAL_TYPES and kind in ("string", "number"):
            raise _wrong_filter_type(fspec)
        if kind == "string":
            return _normal(fspec, unescape(raw))
        if kind == "number":
            return float(raw)
        if kind == "word" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "word" and raw.lower() == "null":
            return None
        raise malformed(f"unexpected token: '{raw}', expected a value")


def _wrong_filter_type(fspec: FieldSpec) -> ApiError:
    kind = {DATE: "date", DATETIME: "dateTime"}.get(fspec.type, fspec.type)
    quoted = "should not" if fspec.type in TEMPORAL_TYPES else "should"
    return ApiError(
        400,
        "INVALID_FIELD",
        f"value of filter criterion for field '{fspec.name}' must be of type {kind} and "
        f"{quoted} be enclosed in quotes",
    )


def _temporal(fspec: FieldSpec, raw: str) -> date | datetime:
    """A date or dateTime literal, for a field of its own type only."""
    is_datetime = "T" in raw
    if fspec.type not in TEMPORAL_TYPES or is_datetime != (fspec.type == DATETIME):
        raise _wrong_filter_type(fspec)
    if is_datetime and not DATETIME_LITERAL.match(raw):
        raise malformed(f"invalid dateTime literal: '{raw}'")
    try:
        return _normal(fspec, raw)
    except ValueError:
        raise malformed(f"invalid date literal: '{raw}'") from None


def _normal(fspec: FieldSpec, value: Any) -> Any:
    """Comparable form: ids in 18-character form, text lower-cased, dates and dateTimes
    (the org keeps dateTimes as text like 2026-01-02T03:04:05.000+0000) as such."""
    if value is None:
        return None
    if fspec.type == DATETIME and isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(UTC)
    if fspec.type == DATE and isinstance(value, str):
        return date.fromisoformat(value[:10])
    if fspec.type in (ID, REFERENCE):
        return (sf_ids.normalize(value) or str(value)).lower()
    if fspec.type in TEXT_TYPES and isinstance(value, str):
        return value.lower()
    return value


def _comparison(fspec: FieldSpec, op: str, literal: Any) -> Predicate:
    def test(record: dict[str, Any]) -> bool:
        value = _normal(fspec, record.get(fspec.name))
        if op == "=":
            return value == literal
        if op in ("!=", "<>"):
            return value != literal
        if value is None or literal is None:
            return False
        try:
            return {
                "<": value < literal,
                ">": value > literal,
                "<=": value <= literal,
                ">=": value >= literal,
            }[op]
        except TypeError:
            return False

    return test


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def parse(soql: str) -> Query:
    if not soql or not soql.strip():
        raise malformed("empty query")
    return _Parser(soql).parse()
