"""Route handlers of the Airtable sandbox (Web API v0: list, get, create, update records).

Records are ``{id, base, table, createdTime, fields}`` with fields by name. A table may be
declared in ``airtable_tables`` (``{id, base, name, fields: [{id, name}]}``): writes by field
id are stored by name and an unknown field is refused as Airtable refuses it; an undeclared
table takes any field. ``filterByFormula`` understands a useful part of Airtable's formulas:
``{Field}``, text and numbers, ``= != < > <= >=``, ``&``, ``AND OR NOT``, ``BLANK()``,
``RECORD_ID()``, ``IS_AFTER``/``IS_BEFORE``, ``LOWER``/``UPPER``, ``FIND``, ``LEN``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import flask

from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.sandboxing import json_response

RECORDS = "airtable_records"
TABLES = "airtable_tables"
PAGE = 100


def _error(status: int, kind: str, message: str) -> flask.Response:
    return json_response({"error": {"type": kind, "message": message}}, status)


def _table(sandbox: AppSandbox, request: SandboxRequest) -> dict[str, Any] | None:
    base, table = str(request.path["base"]), str(request.path["table"])
    for record in sandbox.state.records[TABLES].values():
        if record.get("base") == base and table in (record.get("id"), record.get("name")):
            return record
    return None


def _names(table: dict[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any] | str:
    """Fields by name (an error text for an unknown field of a declared table)."""
    if table is None:
        return dict(fields)
    by_id = {f["id"]: f["name"] for f in table.get("fields") or []}
    names = set(by_id.values())
    result: dict[str, Any] = {}
    for key, value in fields.items():
        name = by_id.get(key, key)
        if name not in names:
            return f'Unknown field name: "{key}"'
        result[name] = value
    return result


def _shown(record: dict[str, Any], table: dict[str, Any] | None, by_id: bool) -> dict[str, Any]:
    fields = {k: v for k, v in record["fields"].items() if v not in (None, "", [])}
    if by_id and table is not None:
        ids = {f["name"]: f["id"] for f in table.get("fields") or []}
        fields = {ids.get(k, k): v for k, v in fields.items()}
    return {"id": record["id"], "createdTime": record["createdTime"], "fields": fields}


def _in_table(
    sandbox: AppSandbox, request: SandboxRequest, table: dict[str, Any] | None
) -> list[dict[str, Any]]:
    names = {str(request.path["table"])} | ({table["id"], table["name"]} if table else set())
    return [
        r
        for r in sandbox.state.records[RECORDS].values()
        if r.get("base") == request.path["base"] and r.get("table") in names
    ]


def list_records(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    table = _table(sandbox, request)
    records = _in_table(sandbox, request, table)
    formula = request.query.get("filterByFormula")
    if formula:
        try:
            test = parse_formula(str(formula))
        except ValueError as error:
            return _error(
                422,
                "INVALID_FILTER_BY_FORMULA",
                f"The formula for filtering records is invalid: {error}",
            )
        records = [r for r in records if _truthy(test(r))]
    for index in reversed(range(10)):
        field = request.query.get(f"sort[{index}][field]")
        if field:
            descending = request.query.get(f"sort[{index}][direction]") == "desc"
            records.sort(key=partial(_field_key, field), reverse=descending)
    if request.query.get("maxRecords"):
        records = records[: int(request.query["maxRecords"])]
    start = int(request.query.get("offset") or 0)
    size = min(int(request.query.get("pageSize") or PAGE), PAGE)
    page = records[start : start + size]
    by_id = request.query.get("returnFieldsByFieldId") in ("true", "1")
    body: dict[str, Any] = {"records": [_shown(r, table, by_id) for r in page]}
    if start + size < len(records):
        body["offset"] = str(start + size)
    return json_response(body)


def get_record(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    table = _table(sandbox, request)
    record = sandbox.state.records[RECORDS].get(str(request.path["id"]))
    if record is None or record not in _in_table(sandbox, request, table):
        return _error(404, "NOT_FOUND", "Could not find what you are looking for")
    return json_response(_shown(record, table, False))


def create_record(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    table = _table(sandbox, request)
    body = request.body if isinstance(request.body, Mapping) else {}
    fields = _names(table, body.get("fields") or {})
    if isinstance(fields, str):
        return _error(422, "UNKNOWN_FIELD_NAME", fields)
    number = sandbox.state.next_number(RECORDS)
    record = {
        "id": f"rec{number:014d}",
        "base": request.path["base"],
        "table": table["id"] if table else request.path["table"],
        "createdTime": sandbox.state.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "fields": fields,
    }
    sandbox.state.records[RECORDS][record["id"]] = record
    return json_response(_shown(record, table, bool(body.get("returnFieldsByFieldId"))))


def update_record(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    table = _table(sandbox, request)
    record = sandbox.state.records[RECORDS].get(str(request.path["id"]))
    if record is None or record not in _in_table(sandbox, request, table):
        return _error(404, "NOT_FOUND", "Could not find what you are looking for")
    body = request.body if isinstance(request.body, Mapping) else {}
    fields = _names(table, body.get("fields") or {})
    if isinstance(fields, str):
        return _error(422, "UNKNOWN_FIELD_NAME", fields)
    if request.method == "PUT":
        record["fields"] = fields
    else:
        record["fields"].update(fields)
    return json_response(_shown(record, table, bool(body.get("returnFieldsByFieldId"))))


def _truthy(value: Any) -> bool:
    return value not in (None, "", 0, False, [])


def _field_key(field: str, record: Mapping[str, Any]) -> tuple[int, Any]:
    return _sortable(record["fields"].get(field))


def _sortable(value: Any) -> tuple[int, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value or ""))


# -- formulas ---------------------------------------------------------------------------------

Record = dict[str, Any]
Formula = Callable[[Record], Any]

_TOKENS = re.compile(
    r"\s*(?:(?P<field>\{[^}]*\})|(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op><=|>=|!=|[=<>&(),+\-*/]))"
)


def parse_formula(text: str) -> Formula:
    """A formula as a function of a record.

    Raises:
        ValueError: not a formula this sandbox understands (the message says where).
    """
    tokens = _tokenize(text)
    parser = _FormulaParser(tokens)
    formula = parser.expression()
    if parser.position != len(tokens):
        raise ValueError(f"unexpected '{tokens[parser.position][1]}'")
    return formula


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKENS.match(text, position)
        if match is None:
            raise ValueError(f"cannot read '{text[position : position + 10]}'")
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: _same(a) == _same(b),
    "!=": lambda a, b: _same(a) != _same(b),
    "<": lambda a, b: _same(a) < _same(b),
    ">": lambda a, b: _same(a) > _same(b),
    "<=": lambda a, b: _same(a) <= _same(b),
    ">=": lambda a, b: _same(a) >= _same(b),
}


def _same(value: Any) -> Any:
    """Airtable compares a number field with a number written as text, and blank as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _date(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "AND": lambda *a: all(_truthy(x) for x in a),
    "OR": lambda *a: any(_truthy(x) for x in a),
    "NOT": lambda a: not _truthy(a),
    "BLANK": lambda: None,
    "LOWER": lambda a: str(a or "").lower(),
    "UPPER": lambda a: str(a or "").upper(),
    "LEN": lambda a: len(str(a or "")),
    "FIND": lambda needle, haystack: str(haystack or "").find(str(needle)) + 1,
    "IS_AFTER": lambda a, b: a not in (None, "") and _date(a) > _date(b),
    "IS_BEFORE": lambda a, b: a not in (None, "") and _date(a) < _date(b),
}


def _compared(left: Formula, right: Formula, compare: Callable[[Any, Any], bool]) -> Formula:
    return lambda record: compare(left(record), right(record))


def _joined(left: Formula, right: Formula) -> Formula:
    return lambda record: f"{left(record) or ''}{right(record) or ''}"


class _FormulaParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.position += 1
        return token

    def expression(self) -> Formula:
        left = self.concatenation()
        while self.peek()[1] in _COMPARE:
            compare = _COMPARE[self.take()[1]]
            right = self.concatenation()
            left = _compared(left, right, compare)
        return left

    def concatenation(self) -> Formula:
        left = self.primary()
        while self.peek()[1] == "&":
            self.take()
            right = self.primary()
            left = _joined(left, right)
        return left

    def primary(self) -> Formula:
        kind, text = self.take()
        if kind == "field":
            name = text[1:-1]
            return lambda rec: rec["fields"].get(name)
        if kind == "string":
            value = text[1:-1].replace('\\"', '"').replace("\\'", "'")
            return lambda rec: value
        if kind == "number":
            number = float(text)
            return lambda rec: number
        if kind == "name" and text.upper() in ("TRUE", "FALSE") and self.peek()[1] != "(":
            truth = text.upper() == "TRUE"
            return lambda rec: truth
        if kind == "name":
            return self.call(text.upper())
        if text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        raise ValueError(f"unexpected '{text or 'end'}'")

    def call(self, name: str) -> Formula:
        self.expect("(")
        arguments: list[Formula] = []
        if self.peek()[1] != ")":
            arguments.append(self.expression())
            while self.peek()[1] == ",":
                self.take()
                arguments.append(self.expression())
        self.expect(")")
        if name == "RECORD_ID":
            return lambda rec: rec["id"]
        function = _FUNCTIONS.get(name)
        if function is None:
            raise ValueError(f"unknown function {name}")
        return lambda rec: function(*(argument(rec) for argument in arguments))

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise ValueError(f"expected '{text}'")
