"""Helpers for Google Sheets: Make's rows (``{"0": …, "1": …, "__ROW_NUMBER__": 2}``) to and
from the Sheets API's value ranges, A1 ranges, and Make's row filter."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from engine.filters import OPERATORS
from engine.mapping.functions.registry import FunctionError
from engine.mapping.values import CoercionError
from modules.apps.functions import helper

_A1 = re.compile(r"^([A-Za-z]*)(\d*)$")


def column_number(letters: str) -> int:
    """``A`` → 0, ``Z`` → 25, ``AA`` → 26."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + (ord(letter) - 64)
    return number - 1


def column_letters(index: int) -> str:
    """0 → ``A``, 26 → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _quoted(sheet: Any) -> str:
    return "'" + str(sheet or "").replace("'", "''") + "'"


def _columns(table_first_row: Any) -> tuple[str, str, int]:
    """First and last column letters and the row of a header range such as ``A1:Z1``."""
    start, _, end = str(table_first_row or "A1:Z1").partition(":")
    first = _A1.match(start.strip())
    last = _A1.match((end or start).strip())
    if not first or not last or not first.group(1):
        raise FunctionError(f"'{table_first_row}' is not a range of columns such as A1:Z1")
    last_letters = last.group(1) or first.group(1)
    return first.group(1).upper(), last_letters.upper(), int(first.group(2) or 1)


@helper("sheetDataRange", (2, 3))
def sheet_data_range(ctx: Any, sheet: Any, table_first_row: Any, headers: Any = True) -> str:
    """The range of a sheet's data rows: ``'Sheet1'!A2:Z`` for headers in ``A1:Z1``."""
    first, last, row = _columns(table_first_row)
    start = row + 1 if _yes(headers) else row
    return f"{_quoted(sheet)}!{first}{start}:{last}"


@helper("sheetDataStart", (1, 2))
def sheet_data_start(ctx: Any, table_first_row: Any, headers: Any = True) -> int:
    """The row number of a sheet's first data row (after the headers when it has them)."""
    _, _, row = _columns(table_first_row)
    return row + 1 if _yes(headers) else row


@helper("sheetRowRange", (2, 3))
def sheet_row_range(ctx: Any, sheet: Any, row: Any, width: Any = 26) -> str:
    """The A1 range of one whole row: ``'Sheet1'!A5:Z5``."""
    number = int(float(row))
    return f"{_quoted(sheet)}!A{number}:{column_letters(max(int(width or 1), 1) - 1)}{number}"


@helper("sheetTable", (1, 1))
def sheet_table(ctx: Any, sheet: Any) -> str:
    """The range a new row is appended to: the whole sheet, ``'Sheet1'``."""
    return _quoted(sheet)


@helper("sheetRow", (1, 2))
def sheet_row(ctx: Any, values: Any, headers: Any = None) -> list[Any]:
    """Make's ``values`` collection (keys are column indexes ``"0"``…, or header names when
    ``headers`` lists them) as one row of cells; a column not given is ``null``, which the
    Sheets API leaves as it is."""
    if values in (None, ""):
        return []
    if not isinstance(values, Mapping):
        raise FunctionError("values is a collection of columns")
    positions: dict[int, Any] = {}
    names = {str(name): index for index, name in enumerate(headers or [])}
    for key, value in values.items():
        text = str(key)
        index = int(text) if text.isdigit() else names.get(text)
        if index is None:
            raise FunctionError(f"no column is called '{key}'")
        positions[index] = _cell(value)
    width = max(positions) + 1 if positions else 0
    return [positions.get(index) for index in range(width)]


def _cell(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@helper("sheetRows", (4, 4))
def sheet_rows(ctx: Any, values: Any, first_row: Any, spreadsheet: Any, sheet: Any) -> list[Any]:
    """A value range's rows as Make's bundles: cells by column index, ``__ROW_NUMBER__``,
    ``__SPREADSHEET_ID__`` and ``__SHEET__``; empty rows are left out."""
    rows: list[Any] = []
    start = int(float(first_row or 1))
    for offset, cells in enumerate(values or []):
        if not any(cell not in (None, "") for cell in cells):
            continue
        bundle: dict[str, Any] = {
            "__ROW_NUMBER__": start + offset,
            "__SPREADSHEET_ID__": spreadsheet,
            "__SHEET__": sheet,
        }
        bundle.update({str(index): cell for index, cell in enumerate(cells)})
        rows.append(bundle)
    return rows


@helper("sheetFilter", (2, 2))
def sheet_filter(ctx: Any, rows: Any, conditions: Any) -> list[Any]:
    """The rows that pass Make's filter: groups joined by OR, conditions in a group by AND;
    each condition names a column by its letter (``a``), an operator (``o``) and a value."""
    if not conditions:
        return list(rows or [])
    groups = [group for group in conditions if group]
    return [row for row in rows or [] if any(_passes(row, group, ctx) for group in groups)]


def _passes(row: Mapping[str, Any], group: list[Any], ctx: Any) -> bool:
    for condition in group:
        letters = str(condition.get("a") or "")
        code = str(condition.get("o") or "text:equal")
        operator = OPERATORS.get(code)
        if operator is None:
            raise FunctionError(f"'{code}' is not a filter operator")
        cell = row.get(str(column_number(letters))) if letters.isalpha() else None
        try:
            if not operator(cell, condition.get("b"), ctx):
                return False
        except CoercionError:
            return False
    return True


@helper("sheetSort", (3, 3))
def sheet_sort(ctx: Any, rows: Any, column: Any, order: Any) -> list[Any]:
    """Rows ordered by a column (by letter; none: sheet order), ``desc`` reversed."""
    ordered = list(rows or [])
    if column not in (None, ""):
        key = str(column_number(str(column)))
        ordered.sort(key=lambda row: str(row.get(key) or ""))
    return list(reversed(ordered)) if str(order or "asc").lower() == "desc" else ordered


@helper("sheetRowNumber", (1, 1))
def sheet_row_number(ctx: Any, updated_range: Any) -> int | None:
    """The row of a range such as ``Sheet1!A5:H5`` (the row an append wrote)."""
    match = re.search(r"!?[A-Za-z]+(\d+)", str(updated_range or "").rpartition("!")[2])
    return int(match.group(1)) if match else None


def _yes(value: Any) -> bool:
    return value not in (False, "false", "False", 0, "0", "no")
