"""Route handlers of the Google Sheets sandbox: a spreadsheet's grid read, appended to and
written as the Sheets API v4 ``values`` methods do (``spreadsheets.values.get``, ``append``,
``update``). A spreadsheet is a record of the ``spreadsheets`` collection::

    {"id": "sheet-1", "title": "Orders", "sheets": {"Sheet1": [["Name", "Email"], ["Ada", …]]}}

Ranges are A1 notation (``'Sheet 1'!A2:Z``, ``Sheet1!A5:H5``, ``'Sheet1'``); a write with a
``null`` cell leaves the cell as it is, as the API does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import flask

from modules.apps.functions.sheets import column_letters, column_number
from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.sandboxing import json_response

_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


def _error(status: int, message: str) -> flask.Response:
    reason = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}.get(status, "FAILED_PRECONDITION")
    return json_response({"error": {"code": status, "message": message, "status": reason}}, status)


def _range(text: str) -> tuple[str, int, int | None, int, int | None]:
    """``(sheet, first column, last column, first row, last row)`` of an A1 range (0-based
    columns, 1-based rows; ``None``: to the end)."""
    text = unquote(text)
    sheet, _, cells = text.rpartition("!") if "!" in text else (text, "", "")
    sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
    start, _, end = cells.partition(":")
    first = _CELL.match(start or "A1") or _CELL.match("A1")
    last = _CELL.match(end) if end else None
    assert first is not None
    first_col = column_number(first.group(1)) if first.group(1) else 0
    first_row = int(first.group(2) or 1)
    last_col = column_number(last.group(1)) if last and last.group(1) else None
    last_row = int(last.group(2)) if last and last.group(2) else None
    if not cells:
        last_col = None
    elif last is None:
        last_col, last_row = first_col, first_row
    return sheet, first_col, last_col, first_row, last_row


def _grid(sandbox: AppSandbox, request: SandboxRequest) -> tuple[Any, list[list[Any]] | None]:
    spreadsheet = sandbox.state.records["spreadsheets"].get(str(request.path.get("spreadsheet")))
    if spreadsheet is None:
        return _error(404, "Requested entity was not found."), None
    sheet = _range(request.path["range"])[0]
    grid = spreadsheet["sheets"].get(sheet)
    if grid is None:
        return _error(400, f"Unable to parse range: {request.path['range']}"), None
    return spreadsheet, grid


def get_values(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    spreadsheet, grid = _grid(sandbox, request)
    if grid is None:
        return spreadsheet
    sheet, first_col, last_col, first_row, last_row = _range(request.path["range"])
    bottom = len(grid) if last_row is None else min(last_row, len(grid))
    rows = []
    for row in grid[first_row - 1 : bottom]:
        end = len(row) if last_col is None else last_col + 1
        rows.append([cell for cell in row[first_col:end]])
    while rows and not any(cell not in (None, "") for cell in rows[-1]):
        rows.pop()
    body: dict[str, Any] = {
        "range": f"{_quote(sheet)}!{column_letters(first_col)}{first_row}:"
        f"{column_letters(last_col if last_col is not None else 25)}{max(bottom, first_row)}",
        "majorDimension": "ROWS",
    }
    if rows:
        body["values"] = [_trimmed(row) for row in rows]
    return json_response(body)


def append_values(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    spreadsheet, grid = _grid(sandbox, request)
    if grid is None:
        return spreadsheet
    sheet = _range(request.path["range"])[0]
    values = (request.body or {}).get("values") or []
    start = len(grid) + 1
    for row in values:
        grid.append([_written(cell) for cell in row])
    width = max((len(row) for row in values), default=1)
    written = f"{_quote(sheet)}!A{start}:{column_letters(width - 1)}{start + len(values) - 1}"
    return json_response(
        {
            "spreadsheetId": spreadsheet["id"],
            "tableRange": f"{_quote(sheet)}!A1:{column_letters(width - 1)}{start - 1}",
            "updates": {
                "spreadsheetId": spreadsheet["id"],
                "updatedRange": written,
                "updatedRows": len(values),
                "updatedColumns": width,
                "updatedCells": sum(1 for row in values for cell in row if cell is not None),
            },
        }
    )


def update_values(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    spreadsheet, grid = _grid(sandbox, request)
    if grid is None:
        return spreadsheet
    sheet, first_col, _, first_row, _ = _range(request.path["range"])
    values = (request.body or {}).get("values") or []
    cells = 0
    for offset, row in enumerate(values):
        number = first_row + offset
        while len(grid) < number:
            grid.append([])
        target = grid[number - 1]
        for index, cell in enumerate(row):
            if cell is None:
                continue  # the API skips null cells
            column = first_col + index
            while len(target) <= column:
                target.append("")
            target[column] = _written(cell)
            cells += 1
    width = max((len(row) for row in values), default=1)
    return json_response(
        {
            "spreadsheetId": spreadsheet["id"],
            "updatedRange": f"{_quote(sheet)}!{column_letters(first_col)}{first_row}:"
            f"{column_letters(first_col + width - 1)}{first_row + len(values) - 1}",
            "updatedRows": len(values),
            "updatedColumns": width,
            "updatedCells": cells,
        }
    )


def _written(cell: Any) -> Any:
    return "" if cell is None else cell


def _trimmed(row: list[Any]) -> list[Any]:
    cells = ["" if cell is None else cell for cell in row]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'" if " " in sheet or "'" in sheet else sheet
