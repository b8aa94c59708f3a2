"""Google Sheets defined as data, against its sandbox: Make's v2 rows (cells by column index,
``__ROW_NUMBER__``) to and from the Sheets API's value ranges."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes

SHEET = {
    "id": "orders",
    "title": "Orders",
    "sheets": {
        "Form Responses 1": [
            ["Order", "Customer", "Status"],
            ["A-1", "Ada", "new"],
            ["A-2", "Grace", "paid"],
            ["A-3", "Alan", "new"],
        ]
    },
}


@pytest.fixture
def sheets():
    with AppSandboxes(["google-sheets"]) as sandboxes:
        sandboxes.seed({"spreadsheets": [SHEET]})
        yield sandboxes


def _flow(*modules):
    return {"name": "t", "flow": list(modules), "metadata": {}}


def _module(id_, name, mapper=None, parameters=None):
    return {
        "id": id_,
        "module": f"google-sheets:{name}",
        "version": 2,
        "mapper": mapper or {},
        "parameters": parameters or {},
    }


def _outputs(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    assert module["errors"] == 0, module["calls"][-1]["error"]
    return [bundle for call in module["calls"] for bundle in call["output"]]


def _grid(sandbox):
    [sheet] = [s for s in sandbox.records("spreadsheets") if s["id"] == "orders"]
    return sheet["sheets"]["Form Responses 1"]


WHERE = {
    "mode": "select",
    "from": "drive",
    "spreadsheetId": "/folder/orders",
    "sheetId": "Form Responses 1",
    "includesHeaders": True,
}


def test_add_row_appends_cells_by_column_and_says_which_row(sheets):
    mapper = {
        **WHERE,
        "values": {"0": "A-4", "2": "new"},
        "useColumnHeaders": False,
        "valueInputOption": "USER_ENTERED",
        "insertDataOption": "INSERT_ROWS",
        "insertUnformatted": False,
    }
    record = sheets.run(_flow(_module(1, "addRow", mapper)))
    [added] = _outputs(record, 1)
    assert added["rowNumber"] == 5 and added["spreadsheetId"] == "orders"
    assert _grid(sheets)[4] == ["A-4", "", "new"]
    [sent] = sheets.requests()
    assert sent["query"]["valueInputOption"] == ["USER_ENTERED"]
    assert sent["json"]["values"] == [["A-4", None, "new"]]


def test_add_row_by_column_headers_reads_the_header_row_first(sheets):
    mapper = {**WHERE, "useColumnHeaders": True, "values": {"Status": "new", "Order": "A-9"}}
    record = sheets.run(_flow(_module(1, "addRow", mapper)))
    assert _outputs(record, 1)[0]["rowNumber"] == 5
    assert _grid(sheets)[4] == ["A-9", "", "new"]


def test_update_row_writes_the_cells_given_and_keeps_the_others(sheets):
    mapper = {**WHERE, "rowNumber": "3", "values": {"2": "shipped"}}
    record = sheets.run(_flow(_module(1, "updateRow", mapper)))
    assert _outputs(record, 1)[0]["updatedCells"] == 1
    assert _grid(sheets)[2] == ["A-2", "Grace", "shipped"]


def test_search_rows_filters_by_column_letter_and_sorts(sheets):
    mapper = {
        **WHERE,
        "tableFirstRow": "A1:CZ1",
        "sortOrder": "desc",
        "filter": [[{"a": "C", "b": "NEW", "o": "text:equal:ci"}]],
    }
    record = sheets.run(_flow(_module(1, "filterRows", mapper)))
    found = _outputs(record, 1)
    assert [(r["0"], r["__ROW_NUMBER__"]) for r in found] == [("A-3", 4), ("A-1", 2)]
    assert found[0]["__SHEET__"] == "Form Responses 1" and found[0]["__IMTLENGTH__"] == 2
    record = sheets.run(_flow(_module(1, "filterRows", {**WHERE, "limit": "1"})))
    assert [r["0"] for r in _outputs(record, 1)] == ["A-1"]


def test_watch_rows_outputs_rows_added_since_the_last_run(sheets):
    trigger = _flow(
        _module(1, "watchRows", parameters={**WHERE, "tableFirstRow": "A1:Z1", "limit": 2})
    )
    cursors = {}
    record = sheets.run(trigger, starts={1: {"type": "all"}}, commit_cursor=cursors.__setitem__)
    assert [r["1"] for r in _outputs(record, 1)] == ["Ada", "Grace"]
    assert cursors == {1: {"lastId": 3, "lastDate": None}}
    _grid(sheets)  # the sandbox's grid grows through the API, as a user's sheet does
    sheets.run(_flow(_module(2, "addRow", {**WHERE, "values": {"0": "A-4", "1": "Edsger"}})))
    record = sheets.run(trigger, cursors=dict(cursors), commit_cursor=cursors.__setitem__)
    assert [r["1"] for r in _outputs(record, 1)] == ["Alan", "Edsger"]
    assert cursors[1]["lastId"] == 5


def test_an_unknown_spreadsheet_is_a_data_error_with_googles_message(sheets):
    record = sheets.run(_flow(_module(1, "filterRows", {**WHERE, "spreadsheetId": "nope"})))
    [module] = record["modules"]
    error = module["calls"][0]["error"]
    assert error["type"] == "DataError"
    assert error["message"] == "Google Sheets: Requested entity was not found."
