"""The QuickBooks Online query language subset, parsed and evaluated without I/O.

Grammar (keywords case-insensitive, as Intuit's "Data queries" page describes)::

    SELECT ( * | COUNT(*) ) FROM Entity
        [ WHERE Condition { AND Condition } ]
        [ ORDERBY Field [ASC | DESC] {, Field [ASC | DESC]} ]
        [ STARTPOSITION n ] [ MAXRESULTS n ]
    Condition := Field ( = | < | > | <= | >= ) Value | Field IN ( Value {, Value} )
               | Field LIKE 'text with %'
    Value := 'single-quoted, \\' escapes a quote' | number | true | false

There is no OR, no parentheses around conditions, no projection (the answer always has every
property) and no joins, as in QuickBooks (vendor/quickbooks/NOTES.md §3); the entity name is
case-sensitive (checked by the caller). Fields may be dotted (``MetaData.LastUpdatedTime``); a
reference field (``CustomerRef``) compares its ``value``, an e-mail/phone field its
``Address``/``FreeFormNumber``. String comparisons are case-insensitive; dates and date-times
compare as instants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

MAX_RESULTS_LIMIT = 1000
DEFAULT_MAX_RESULTS = 100
COMPARISONS = ("=", "<", ">", "<=", ">=")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<word>[A-Za-z_$][\w.]*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "and",
        "or",
        "in",
        "like",
        "orderby",
        "asc",
        "desc",
        "startposition",
        "maxresults",
        "count",
    }
)
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


class QueryError(Exception):
    """A query QuickBooks would refuse; ``parse`` → code 4000, otherwise code 4001."""

    def __init__(self, detail: str, *, parse: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parse = parse


@dataclass(frozen=True)
class Token:
    kind: str  # string | number | word | keyword | op | punct | end
    text: str
    column: int

    def is_(self, kind: str, text: str | None = None) -> bool:
        """Whether this token has ``kind`` (and, when given, the case-insensitive ``text``)."""
        return self.kind == kind and (text is None or self.text.lower() == text)


@dataclass(frozen=True)
class Condition:
    """``field op values``; ``values`` has one literal except for IN."""

    field: str
    op: str  # one of COMPARISONS, "in" or "like"
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query (``SELECT *`` or ``SELECT COUNT(*)``); ``start`` is 1-based."""

    entity: str
    count: bool
    conditions: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    start: int
    max_results: int

    def mentions(self, field: str) -> bool:
        """Whether a WHERE condition uses ``field`` (case-insensitive)."""
        return any(c.field.lower() == field.lower() for c in self.conditions)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens (columns are 1-based) ending with an ``end`` token."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QueryError(_encountered(text[position], position + 1))
        kind = match.lastgroup or "space"
        if kind != "space":
            word = match.group()
            if kind == "word" and word.lower() in _KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, word, position + 1))
        position = match.end()
    tokens.append(Token("end", "<EOF>", len(text) + 1))
    return tokens


def _encountered(text: str, column: int) -> str:
    return f'QueryParserError: Encountered " {text} " at line 1, column {column}.'


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def fail(self, expecting: str) -> QueryError:
        token = self.current
        return QueryError(f"{_encountered(token.text, token.column)} Was expecting: {expecting}")

    def expect(self, kind: str, text: str | None = None) -> Token:
        if not self.current.is_(kind, text):
            raise self.fail(text.upper() if text else kind)
        return self.take()

    def accept(self, kind: str, text: str | None = None) -> bool:
        if self.current.is_(kind, text):
            self.index += 1
            return True
        return False

    def parse(self) -> Query:
        self.expect("keyword", "select")
        count = self.projection()
        self.expect("keyword", "from")
        entity = self.expect("word").text
        conditions = self.where() if self.accept("keyword", "where") else ()
        order = self.order_by() if self.accept("keyword", "orderby") else ()
        start, max_results = self.paging()
        if not self.current.is_("end"):
            raise self.fail("<EOF>")
        return Query(entity, count, conditions, order, start, max_results)

    def projection(self) -> bool:
        """``*`` (False) or ``COUNT(*)`` (True): QuickBooks selects no single properties."""
        if self.accept("punct", "*"):
            return False
        if self.accept("keyword", "count"):
            self.expect("punct", "(")
            self.expect("punct", "*")
            self.expect("punct", ")")
            return True
        raise self.fail('"*", "COUNT"')

    def where(self) -> tuple[Condition, ...]:
        conditions = [self.condition()]
        while self.accept("keyword", "and"):
            conditions.append(self.condition())
        return tuple(conditions)

    def condition(self) -> Condition:
        field = self.expect("word").text
        if self.accept("keyword", "in"):
            self.expect("punct", "(")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.expect("punct", ")")
            return Condition(field, "in", tuple(values))
        if self.accept("keyword", "like"):
            token = self.expect("string")
            return Condition(field, "like", (unquote(token.text),))
        op = self.current
        if not (op.kind == "op" and op.text in COMPARISONS):
            raise self.fail('"=", "<", ">", "<=", ">=", "IN", "LIKE"')
        self.take()
        return Condition(field, op.text, (self.literal(),))

    def literal(self) -> Any:
        token = self.current
        if token.kind == "string":
            self.take()
            return unquote(token.text)
        if token.kind == "number":
            self.take()
            return Decimal(token.text)
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            self.take()
            return token.text.lower() == "true"
        raise self.fail("<STRING>")

    def order_by(self) -> tuple[tuple[str, bool], ...]:
        order = []
        while True:
            field = self.expect("word").text
            descending = False
            if self.accept("keyword", "desc"):
                descending = True
            else:
                self.accept("keyword", "asc")
            order.append((field, descending))
            if not self.accept("punct", ","):
                return tuple(order)

    def paging(self) -> tuple[int, int]:
        start, max_results = 1, DEFAULT_MAX_RESULTS
        for _ in range(2):
            if self.accept("keyword", "startposition"):
                start = max(1, int(self.expect("number").text))
            elif self.accept("keyword", "maxresults"):
                max_results = int(self.expect("number").text)
        return start, max(0, min(max_results, MAX_RESULTS_LIMIT))


def unquote(literal: str) -> str:
    """``'O\\'Brien'`` → ``O'Brien``: strip the quotes, a backslash escapes the next char."""
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def parse_query(text: str) -> Query:
    """Parse one query.

    Raises:
        QueryError: with a ``QueryParserError: ...`` detail (code 4000).
    """
    return _Parser(text.strip()).parse()


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """Walk a dotted ``path`` case-insensitively; None when any step is missing."""
    value: Any = record
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        key = next((k for k in value if k.lower() == step.lower()), None)
        value = value.get(key) if key is not None else None
    return value


def scalar(value: Any) -> Any:
    """The comparable part of a value: a ref's ``value``, an address's ``Address`` ..."""
    if isinstance(value, Mapping):
        for key in ("value", "Address", "FreeFormNumber", "URI"):
            if key in value:
                return value[key]
        return None
    return value


def to_instant(text: str) -> datetime | None:
    """Parse an ISO date or date-time (naive values are UTC); None when it is not one."""
    if not _ISO_DATE.match(text):
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def comparable(actual: Any, literal: Any) -> tuple[Any, Any] | None:
    """Coerce a record value and a literal to one comparable type; None when they can't be."""
    actual = scalar(actual)
    if actual is None:
        return None
    if isinstance(actual, bool):
        wanted = literal if isinstance(literal, bool) else str(literal).lower() == "true"
        return actual, wanted
    if isinstance(actual, int | float | Decimal):
        number = _number(literal)
        return (Decimal(str(actual)), number) if number is not None else None
    text, other = str(actual), str(literal)
    moments = to_instant(text), to_instant(other)
    if moments[0] is not None and moments[1] is not None:
        return moments
    numbers = _number(text), _number(other)
    if numbers[0] is not None and numbers[1] is not None:
        return numbers  # Id > '9' and TotalAmt > '100.00' compare as numbers
    return text.casefold(), other.casefold()


def like_pattern(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (only ``%`` is a wildcard) as a case-insensitive regex."""
    parts = (re.escape(part) for part in pattern.split("%"))
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def matches(record: Mapping[str, Any], condition: Condition) -> bool:
    """Whether ``record`` satisfies one condition."""
    actual = field_value(record, condition.field)
    if condition.op == "like":
        value = scalar(actual)
        return value is not None and bool(like_pattern(condition.values[0]).match(str(value)))
    if condition.op == "in":
        return any(_holds("=", actual, literal) for literal in condition.values)
    return _holds(condition.op, actual, condition.values[0])


def _holds(op: str, actual: Any, literal: Any) -> bool:
    pair = comparable(actual, literal)
    if pair is None:
        return False
    try:
        return _COMPARE[op](*pair)
    except TypeError:
        return False


def _sort_key(value: Any) -> tuple[int, Any]:
    value = scalar(value)
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float):
        return (1, Decimal(str(value)))
    moment = to_instant(str(value))
    if moment is not None:
        return (2, moment)
    number = _number(value)
    return (1, number) if number is not None else (3, str(value).casefold())


def _field_sort_key(field: str, record: dict[str, Any]) -> Any:
    return _sort_key(field_value(record, field))


def order_records(records: list[dict[str, Any]], order: Iterable[tuple[str, bool]]) -> None:
    """Sort ``records`` in place by ``order`` (stable, last key applied first)."""
    for field, descending in reversed(tuple(order)):
        records.sort(key=partial(_field_sort_key, field), reverse=descending)


def run_query(query: Query, records: Iterable[dict[str, Any]]) -> tuple[list[dict], int]:
    """Filter, order and page ``records``; return (the page, total matches)."""
    found = [r for r in records if all(matches(r, c) for c in query.conditions)]
    order_records(found, query.order or (("Id", False),))
    page = found[query.start - 1 : query.start - 1 + query.max_results]
    return page, len(found)
