"""Make's CSV app: Parse CSV, and Create CSV's text read back by Parse CSV."""

from __future__ import annotations

import pytest

from engine.errors import DataError, InvalidConfigurationError
from engine.registry import default_registry
from modules.builtin.csv_tools import create_csv
from tests.modules.helpers import call_module

REGISTRY = default_registry()


def parse(text, **parameters):
    rows = call_module(REGISTRY["csv:ParseCSV"], {"csv": text}, parameters)
    return [{k: v for k, v in row.items() if not k.startswith("__")} for row in rows]


def test_parse_csv_skips_the_header_row_and_names_columns():
    text = 'name,city\r\nAnn,"Utrecht, NL"\r\n"Bo ""B""",Delft\r\n'
    assert parse(text, containsHeaders=True, columns=2) == [
        {"col1": "Ann", "col2": "Utrecht, NL"},
        {"col1": 'Bo "B"', "col2": "Delft"},
    ]


def test_parse_csv_numbers_rows_and_pads_short_ones():
    rows = call_module(REGISTRY["csv:ParseCSV"], {"csv": "a;b;c\nd\n\n"}, {"delimiterType": ";"})
    assert rows == [
        {"col1": "a", "col2": "b", "col3": "c", "__IMTINDEX__": 1, "__IMTLENGTH__": 2},
        {"col1": "d", "__IMTINDEX__": 2, "__IMTLENGTH__": 2},
    ]
    assert parse("a;b;c\nd", delimiterType="semicolon", columns=3)[1] == {
        "col1": "d",
        "col2": "",
        "col3": "",
    }


@pytest.mark.parametrize(
    ("parameters", "text", "expected"),
    [
        ({"delimiterType": "tab"}, "a\tb", [{"col1": "a", "col2": "b"}]),
        ({"delimiterType": "other", "delimiter": "#"}, "a#b", [{"col1": "a", "col2": "b"}]),
        ({"skipEmptyLines": False}, "a\n\nb", [{"col1": "a"}, {}, {"col1": "b"}]),
    ],
)
def test_parse_csv_delimiters_and_empty_lines(parameters, text, expected):
    assert parse(text, **parameters) == expected


def test_parse_csv_refuses_a_delimiter_of_several_characters():
    with pytest.raises(InvalidConfigurationError, match="one character"):
        parse("a", delimiterType="other", delimiter="::")


def test_parse_csv_reports_a_broken_quote():
    with pytest.raises(DataError, match="cannot be read"):
        parse('a,"b\n')


def test_create_csv_text_parses_back():
    items = [{"id": 1, "tags": ["a", "b"], "ok": True}, {"id": 2, "note": "x,y", "ok": None}]
    text = create_csv(items, {"feeder": 1, "includeHeaders": True, "newline": "crlf"})["text"]
    assert text == 'id,tags,ok,note\r\n1,"[""a"",""b""]",true,\r\n2,,,"x,y"'
    assert parse(text, containsHeaders=True) == [
        {"col1": "1", "col2": '["a","b"]', "col3": "true", "col4": ""},
        {"col1": "2", "col2": "", "col3": "", "col4": "x,y"},
    ]
