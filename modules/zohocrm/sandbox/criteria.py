"""Zoho CRM search criteria, parsed and evaluated without I/O.

Grammar (the ``/search?criteria=`` syntax, unchanged up to v8)::

    criteria  := group | "(" criteria ( ("and" | "or") criteria )* ")"
    group     := "(" Field ":" operator ":" value ")"

``value`` may list several comma-separated values (``equals``/``in``: any of them;
``between``: two bounds); ``\\(``, ``\\)``, ``\\,`` and ``\\\\`` escape those characters.
Operators: ``equals``, ``not_equal``, ``starts_with``, ``in``, ``greater_than``,
``greater_equal``, ``less_than``, ``less_equal``, ``between``. Text compares
case-insensitively; a lookup field (``Account_Name``) matches its name or id. ``equals`` on
text matches a value that *contains* the wanted text, as the v8 Search API does
(``(Company:equals:ABC)`` also finds "ABC Inc", vendor/zoho/NOTES.md §4): a caller must check
an exact match itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATORS = frozenset(
    {
        "equals",
        "not_equal",
        "starts_with",
        "in",
        "greater_than",
        "greater_equal",
        "less_than",
        "less_equal",
        "between",
    }
)


class CriteriaError(Exception):
    """Invalid criteria; ``details`` go into the ``INVALID_QUERY`` answer."""

    def __init__(self, reason: str, **details: str) -> None:
        super().__init__(reason)
        self.details = {**details, "reason": reason}


@dataclass(frozen=True)
class Group:
    """One ``(Field:operator:values)``."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Combined:
    """``left and right`` / ``left or right``."""

    joiner: str
    parts: tuple[Group | Combined, ...]


Node = Group | Combined


def _split_unescaped(text: str, separator: str, limit: int = -1) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator and limit != 0:
            parts.append(current)
            current = ""
            limit -= 1
        else:
            current += char
    return [*parts, current]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.position = text.strip(), 0

    def fail(self) -> CriteriaError:
        return CriteriaError("invalid criteria", criteria=self.text)

    def parse(self) -> Node:
        node = self.node()
        if self.position != len(self.text):
            raise self.fail()
        return node

    def node(self) -> Node:
        if not self.text.startswith("(", self.position):
            raise self.fail()
        if self.text.startswith("((", self.position):
            self.position += 1
            parts, joiner = [self.node()], None
            while not self.text.startswith(")", self.position):
                word = re.match(r"\s*(and|or)\s*", self.text[self.position :], re.IGNORECASE)
                if word is None or (joiner and joiner != word.group(1).lower()):
                    raise self.fail()
                joiner = word.group(1).lower()
                self.position += word.end()
                parts.append(self.node())
            self.position += 1
            return parts[0] if len(parts) == 1 else Combined(joiner or "and", tuple(parts))
        return self.group()

    def group(self) -> Group:
        end, escaped = self.position + 1, False
        while end < len(self.text):
            char = self.text[end]
            if not escaped and char == ")":
                break
            escaped = not escaped and char == "\\"
            end += 1
        else:
            raise self.fail()
        body = self.text[self.position + 1 : end]
        self.position = end + 1
        pieces = _split_unescaped(body, ":", limit=2)
        if len(pieces) != 3 or not pieces[0].strip():
            raise self.fail()
        field, operator = pieces[0].strip(), pieces[1].strip().lower()
        if operator not in OPERATORS:
            raise CriteriaError("invalid operator found", api_name=field, operator=operator)
        values = tuple(_unescape(v) for v in _split_unescaped(pieces[2], ","))
        if operator == "between" and len(values) != 2:
            raise CriteriaError("between needs two values", api_name=field)
        return Group(field, operator, values)


def parse_criteria(text: str) -> Node:
    """Parse ``criteria``.

    Raises:
        CriteriaError: malformed text or an unknown operator.
    """
    return _Parser(text).parse()


def fields_of(node: Node) -> list[str]:
    """Every field the criteria use (to check they exist)."""
    if isinstance(node, Group):
        return [node.field]
    return [f for part in node.parts for f in fields_of(part)]


def _candidates(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [value.get("name"), value.get("id")]
    if isinstance(value, list):
        return value
    return [value]


def _as_number(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def _instant(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ordered(actual: Any, wanted: str) -> tuple[Any, Any]:
    numbers = _as_number(actual), _as_number(wanted)
    if isinstance(actual, int | float) and numbers[1] is not None:
        return numbers
    moments = _instant(actual), _instant(wanted)
    if moments[0] is not None and moments[1] is not None:
        return moments  # date-times with different offsets compare as instants
    return str(actual), wanted


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "greater_than": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b,
    "less_than": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b,
}


def _group_holds(group: Group, record: Mapping[str, Any]) -> bool:
    values = [v for v in _candidates(record.get(group.field)) if v is not None]
    wanted = [w.casefold() for w in group.values]
    texts = [str(v).casefold() if not isinstance(v, bool) else str(v).lower() for v in values]
    if group.operator == "equals":
        return any(_contains(v, t, w) for v, t in zip(values, texts, strict=True) for w in wanted)
    if group.operator == "in":
        return any(_same(v, t, w) for v, t in zip(values, texts, strict=True) for w in wanted)
    if group.operator == "not_equal":
        return not any(_same(v, t, w) for v, t in zip(values, texts, strict=True) for w in wanted)
    if group.operator == "starts_with":
        return any(t.startswith(w) for t in texts for w in wanted)
    if not values:
        return False
    if group.operator == "between":
        low, high = (_ordered(values[0], w)[1] for w in group.values)
        current = _ordered(values[0], group.values[0])[0]
        return low <= current <= high
    try:
        return _ORDER[group.operator](*_ordered(values[0], group.values[0]))
    except TypeError:
        return False


def _contains(value: Any, text: str, wanted: str) -> bool:
    """``equals`` in the Search API: numbers and booleans exactly, text as a substring."""
    if isinstance(value, bool | int | float):
        return _same(value, text, wanted)
    return wanted in text


def _same(value: Any, text: str, wanted: str) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = _as_number(wanted)
        return number is not None and Decimal(str(value)) == number
    return text == wanted


def matches(node: Node, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies the criteria."""
    if isinstance(node, Group):
        return _group_holds(node, record)
    results = (matches(part, record) for part in node.parts)
    return all(results) if node.joiner == "and" else any(results)
