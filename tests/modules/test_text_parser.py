"""Make's Text parser modules: Replace, HTML to text, Get elements from HTML."""

from __future__ import annotations

import pytest

from engine.errors import BundleValidationError
from engine.registry import default_registry
from tests.modules.helpers import call_module

REGISTRY = default_registry()


def replace(text, pattern, value, **flags):
    mapped = {"text": text, "pattern": pattern, "value": value, **flags}
    return call_module(REGISTRY["regexp:Replace"], mapped)


def test_replace_changes_the_first_match_unless_global():
    assert replace("a1 b2 c3", r"(\w)(\d)", "$2$1") == [{"text": "1a b2 c3"}]
    assert replace("a1 b2 c3", r"(\w)(\d)", "$2$1", **{"global": True}) == [{"text": "1a 2b 3c"}]


def test_replace_honours_case_multiline_and_singleline():
    text = "One\ntwo\nTHREE"
    assert replace(text, "^t", "T", **{"global": True, "multiline": True, "sensitive": False}) == [
        {"text": "One\nTwo\nTHREE"}
    ]
    assert replace(text, "e.t", "E_T", singleline=True) == [{"text": "OnE_Two\nTHREE"}]
    assert replace(text, "e.t", "E_T") == [{"text": text}]


def test_replace_with_named_groups_and_the_whole_match():
    assert replace("2026-04-01", r"(?<y>\d+)-(?<m>\d+)-(?<d>\d+)", "$<d>.$<m>.$<y> ($&)") == [
        {"text": "01.04.2026 (2026-04-01)"}
    ]


def test_replace_as_a_corpus_blueprint_configures_it():
    """geekalyssa's 01_enrich: strip escaped newlines and citation marks, case-insensitive."""
    pattern = r"(\\n+|\\+|[\n+])|(\[\d\]|(\s{2,})|(\"{2,}))"
    flags = {"global": True, "multiline": True, "sensitive": False, "singleline": False}
    text = 'Lead\\n\\nsummary [1]  with ""quotes""\nand a line'
    assert replace(text, pattern, "", **flags) == [{"text": "Leadsummary with quotesand a line"}]


HTML = """<html><head><title>T</title><style>p {}</style></head><body>
<h1>Order   shipped</h1>
<p>Hello <b>Ann</b>, track it <a href="https://t.example/1">here</a> or at
<a href="https://t.example/1">https://t.example/1</a>.</p>
<p>Line one<br>line two &amp; more</p>
<ul><li>pen</li><li>ink</li></ul><ol><li>pay</li><li>ship</li></ol>
<img src="https://img.example/a.png" alt="logo"><iframe src="https://v.example/e"></iframe>
<script>track()</script></body></html>"""


def test_html_to_text_writes_blocks_links_and_lists():
    [out] = call_module(REGISTRY["regexp:HTMLToText"], {"html": HTML})
    assert out["text"] == (
        "ORDER SHIPPED\n\n"
        "Hello Ann, track it here [https://t.example/1] or at https://t.example/1.\n\n"
        "Line one\nline two & more\n\n"
        " * pen\n * ink\n\n"
        "1. pay\n2. ship"
    )


@pytest.mark.parametrize(("newline", "ending"), [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")])
def test_html_to_text_line_endings_and_headings_as_written(newline, ending):
    mapped = {"html": "<h2>Title</h2><p>a<br>b</p>", "newline": newline}
    mapped["uppercaseHeadings"] = False
    [out] = call_module(REGISTRY["regexp:HTMLToText"], mapped)
    assert out["text"] == f"Title{ending}{ending}a{ending}b"


def test_get_elements_from_html_by_type():
    module = REGISTRY["regexp:HTMLParser"]
    links = call_module(module, {"html": HTML, "type": "a"})
    assert [(link["href"], link["text"]) for link in links] == [
        ("https://t.example/1", "here"),
        ("https://t.example/1", "https://t.example/1"),
    ]
    assert links[0]["__IMTLENGTH__"] == 2
    [image] = call_module(module, {"html": HTML, "type": "img"})
    assert (image["src"], image["alt"]) == ("https://img.example/a.png", "logo")
    [frame] = call_module(module, {"html": HTML, "type": "iframe"})
    assert frame["src"] == "https://v.example/e"


def advanced(text, pattern, **flags):
    mapped = {"text": text, "pattern": pattern, **flags}
    return call_module(REGISTRY["regexp:AdvancedParser"], mapped)


def test_advanced_parser_takes_its_pattern_from_the_mapper():
    # The pattern may be built from data (here: a JSON object inside a model's answer).
    answer = 'Sure! Here it is: {"name": "Ann"} Anything else?'
    assert advanced(answer, r"(?<json>\{.*\})") == [
        {"$1": '{"name": "Ann"}', "json": '{"name": "Ann"}', "__IMTMATCH__": 1}
    ]
    assert advanced("a1 b2", r"(\w)(\d)", **{"global": True}) == [
        {"$1": "a", "$2": "1", "__IMTMATCH__": 1},
        {"$1": "b", "$2": "2", "__IMTMATCH__": 2},
    ]
    assert advanced("ABC", "b", sensitive=False) == [{"__IMTMATCH__": 1}]
    assert advanced("nothing here", r"\d") == []


def test_advanced_parser_names_a_broken_mapped_pattern():
    with pytest.raises(BundleValidationError, match=r"regexp:AdvancedParser\): mapper.pattern"):
        advanced("text", "(unclosed")
