"""``where`` filters (a subset of Xero's C#-like Dynamic LINQ expressions) and ``order``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from .errors import Record, XeroHttpError, api_exception

Expr = Callable[[Mapping[str, Any]], Any]

# A string is Dynamic LINQ's: double quotes, a quote inside written twice (``""``); a
# backslash is an ordinary character, so ``\"`` ends the string (Xero answers "Syntax error"
# to ``Name=="a\"b"``: XeroAPI/Xero-Java#347). See docs/modules/xero.md, "where strings".
_WHERE_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"]|"")*")|(?P<num>-?\d+(?:\.\d+)?)'
    r"|(?P<op>==|!=|>=|<=|&&|\|\||[<>!(),.])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
}
_STRING_METHODS: dict[str, Callable[[str, list[Any]], Any]] = {
    "contains": lambda s, args: _fold(args[0]) in s,
    "startswith": lambda s, args: s.startswith(_fold(args[0])),
    "endswith": lambda s, args: s.endswith(_fold(args[0])),
    "equals": lambda s, args: s == _fold(args[0]),
    "tolower": lambda s, args: s,
    "toupper": lambda s, args: s,
}


def _fold(value: Any) -> Any:
    """Normalise a value for comparison: strings case-folded (Xero's SQL collation is
    case-insensitive), dates as aware datetimes, numbers as Decimal."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _field(record: Mapping[str, Any], name: str) -> Any:
    """Case-insensitive field lookup (Xero accepts ``name`` for ``Name`` in filters)."""
    if name in record:
        return record[name]
    lowered = name.lower()
    for key, value in record.items():
        if key.lower() == lowered:
            return value
    return None


class WhereParser:
    """Recursive-descent parser turning a ``where`` string into a predicate over records.

    Grammar: ``or := and (("OR"|"||") and)*``, ``and := not (("AND"|"&&") not)*``,
    ``not := ("NOT"|"!") not | cmp``, ``cmp := operand (op operand)?``, ``operand`` is a
    literal (string, number, true/false/null, ``guid("…")``, ``DateTime(y,m,d[,h,m,s])``),
    a parenthesised expression, or a dotted field path with method calls
    (``Contains``, ``StartsWith``, ``EndsWith``, ``Equals``, ``ToLower``, ``ToUpper``).
    """

    def __init__(self, text: str, type_name: str, known_fields: Iterable[str]) -> None:
        self.type_name = type_name
        self.known = {name.lower() for name in known_fields}
        self.tokens = self._tokenize(text)
        self.pos = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _WHERE_TOKEN.match(text, pos)
            if match is None and text[pos:].lstrip().startswith('"'):
                raise _parse_error("Unterminated string literal")
            if match is None or match.end() == pos:
                raise _parse_error(f"Syntax error at position {pos} in '{text}'")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def parse(self) -> Callable[[Mapping[str, Any]], bool]:
        """Parse the whole string; the result is True for records the filter keeps."""
        expr = self._or()
        if self.pos != len(self.tokens):
            raise _parse_error(f"Unexpected '{self.tokens[self.pos][1]}'")
        return lambda record: bool(expr(record))

    # --- token helpers ----------------------------------------------------------------------

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _accept(self, *values: str) -> bool:
        token = self._peek()
        if token and (token[1] in values or (token[0] == "name" and token[1].upper() in values)):
            self.pos += 1
            return True
        return False

    def _expect(self, value: str) -> None:
        if not self._accept(value):
            raise _parse_error(f"'{value}' expected")

    # --- grammar ----------------------------------------------------------------------------

    def _or(self) -> Expr:
        left = self._and()
        while self._accept("OR", "||"):
            left = _either(left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._accept("AND", "&&"):
            left = _both(left, self._not())
        return left

    def _not(self) -> Expr:
        if self._accept("NOT", "!"):
            inner = self._not()
            return lambda r: not inner(r)
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._operand()
        token = self._peek()
        if token and token[0] == "op" and token[1] in _COMPARATORS:
            self.pos += 1
            compare, right = _COMPARATORS[token[1]], self._operand()
            return lambda r: compare(_fold(left(r)), _fold(right(r)))
        return left

    def _operand(self) -> Expr:
        token = self._peek()
        if token is None:
            raise _parse_error("Expression expected")
        self.pos += 1
        kind, text = token
        if kind == "op" and text == "(":
            inner = self._or()
            self._expect(")")
            return inner
        if kind == "str":
            value: Any = text[1:-1].replace('""', '"')
            return lambda r: value
        if kind == "num":
            number = Decimal(text)
            return lambda r: number
        if kind == "name":
            return self._name_operand(text)
        raise _parse_error(f"Unexpected '{text}'")

    def _name_operand(self, name: str) -> Expr:
        keyword = name.lower()
        constants = {"true": True, "false": False, "null": None}
        if keyword in constants:
            constant = constants[keyword]
            return lambda r: constant
        if keyword in ("guid", "datetime") and self._accept("("):
            args = self._literal_args()
            value = _guid_literal(args) if keyword == "guid" else _datetime_literal(args)
            return lambda r: value
        return self._path(name)

    def _literal_args(self) -> list[Any]:
        args: list[Any] = []
        while not self._accept(")"):
            if args:
                self._expect(",")
            args.append(self._operand()({}))
        return args

    def _path(self, first: str) -> Expr:
        if first.lower() not in self.known:
            raise _parse_error(f"No property or field '{first}' exists in type '{self.type_name}'")
        path = [first]
        expr: Expr = lambda r: _resolve_path(r, path)  # noqa: E731
        called = False  # once a method was called, only further calls may follow
        while self._accept("."):
            token = self._peek()
            if token is None or token[0] != "name":
                raise _parse_error("Identifier expected")
            self.pos += 1
            if self._accept("("):
                expr, called = self._method_call(expr, token[1]), True
            elif not called:
                path.append(token[1])
            else:
                raise _parse_error(f"Unexpected '{token[1]}'")
        return expr

    def _method_call(self, target: Expr, method_name: str) -> Expr:
        method = _STRING_METHODS.get(method_name.lower())
        if method is None:
            raise _parse_error(f"No applicable method '{method_name}' exists in type 'String'")
        args = self._call_args()

        def call(record: Mapping[str, Any]) -> Any:
            value = target(record)
            if value is None:
                return None if method_name.lower() in ("tolower", "toupper") else False
            return method(_fold(str(value)), [a(record) for a in args])

        return call

    def _call_args(self) -> list[Expr]:
        args: list[Expr] = []
        while not self._accept(")"):
            if args:
                self._expect(",")
            args.append(self._or())
        return args


def _resolve_path(record: Mapping[str, Any], path: list[str]) -> Any:
    value: Any = record
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = _field(value, name)
    return value


def _either(left: Expr, right: Expr) -> Expr:
    return lambda record: bool(left(record)) or bool(right(record))


def _both(left: Expr, right: Expr) -> Expr:
    return lambda record: bool(left(record)) and bool(right(record))


def _guid_literal(args: list[Any]) -> str:
    if len(args) != 1 or not isinstance(args[0], str):
        raise _parse_error("guid() takes one string")
    return args[0].lower()


def _datetime_literal(args: list[Any]) -> datetime:
    try:
        numbers = [int(a) for a in args]
        if not 3 <= len(numbers) <= 6:
            raise ValueError(len(numbers))
        year, month, day, hour, minute, second = [*numbers, 0, 0, 0][:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        raise _parse_error("DateTime() takes year, month, day[, hour, minute, second]") from None


def _order_key(path: list[str], record: Record) -> Any:
    return _fold(_resolve_path(record, path))


def _parse_error(message: str) -> XeroHttpError:
    return api_exception(16, "QueryParseException", message)


def compile_where(
    text: str, type_name: str, known_fields: Iterable[str]
) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a ``where`` query parameter.

    Raises:
        XeroHttpError: 400 ``QueryParseException`` on bad syntax or an unknown field.
    """
    return WhereParser(text, type_name, known_fields).parse()


def order_records(records: list[Record], order: str | None) -> list[Record]:
    """Sort by Xero's ``order`` parameter (``"Name ASC, UpdatedDateUTC DESC"``); stable."""
    if not order:
        return records
    for clause in reversed([c.strip() for c in order.split(",") if c.strip()]):
        parts = clause.split()
        descending = len(parts) > 1 and parts[1].upper() == "DESC"
        path = parts[0].split(".")
        present = [r for r in records if _resolve_path(r, path) is not None]
        missing = [r for r in records if _resolve_path(r, path) is None]
        present.sort(key=partial(_order_key, path), reverse=descending)
        records = present + missing
    return records
