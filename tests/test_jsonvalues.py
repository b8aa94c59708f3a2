"""``engine.jsonvalues``: the test for integers orjson reads otherwise (``has_long_number``), and
the nesting measure that lets a body of many objects take orjson's way (``nesting``)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidJSON
from engine.jsonvalues import (
    _CHECK,
    _read_fast,
    has_long_number,
    load_json,
    load_trusted,
    nesting,
)

LONG_NUMBER = re.compile(r"[0-9]{19}")
TEXT = st.text(alphabet=st.sampled_from("0123456789 ,.-eé٣\U0001f600"), max_size=80)


@given(TEXT)
def test_has_long_number_is_the_regular_expression(text: str) -> None:
    assert has_long_number(text) is (LONG_NUMBER.search(text) is not None)
    encoded = text.encode("utf-8")
    assert has_long_number(encoded) is (re.search(rb"[0-9]{19}", encoded) is not None)


def test_a_19_digit_run_is_found_wherever_it_stands() -> None:
    assert has_long_number("1234567890123456789")
    assert has_long_number(b'{"n":[1,12345678901234567890]}')
    assert has_long_number('{"é":1234567890123456789}')  # not ASCII: the expression's way
    assert not has_long_number("123456789012345678 123456789012345678")
    assert not has_long_number("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩")  # Arabic-Indic digits are not [0-9]


def test_integers_past_64_bits_read_back_exactly() -> None:
    text = '{"n": 1180591620717411303425, "s": "é"}'
    assert load_trusted(text) == {"n": 2**70 + 1, "s": "é"}
    assert load_trusted(text.encode()) == {"n": 2**70 + 1, "s": "é"}
    assert load_json(text.encode()) == {"n": 2**70 + 1, "s": "é"}


def _depth(value: object) -> int:
    """How deep ``value``'s arrays and objects nest, walked."""
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


BRACKETY_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\\\/ aé\U0001f600\n'), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | BRACKETY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(BRACKETY_TEXT, inner, max_size=4),
    max_leaves=30,
)


@given(JSON_VALUES, st.booleans())
def test_nesting_is_the_depth_of_the_value_whatever_its_strings_hold(
    value: object, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert nesting(text, 1000) == _depth(value)
    assert nesting(text.encode(), 1000) == _depth(value)
    assert nesting(text, 2) == min(2, _depth(value))


def test_a_body_of_many_objects_is_refused_at_max_depth_and_read_below_it() -> None:
    """More brackets than ``max_depth`` take ``nesting``'s measure: the depth decides."""
    lines = [{"sku": 'a]]]\\"]', "n": [i]} for i in range(300)]

    def body(depth: int) -> bytes:
        value: object = lines
        for _ in range(depth - 3):  # the list, each line, its ``n``: 3 levels
            value = {"a": value}
        return json.dumps(value).encode()

    assert _depth(json.loads(body(200))) == 200
    assert load_json(body(199)) == json.loads(body(199))
    assert _read_fast(body(199), 200) == json.loads(body(199))  # orjson's way, no walk
    assert _read_fast(body(200), 200) is _CHECK
    with pytest.raises(InvalidJSON, match="nested more than 200 levels deep"):
        load_json(body(200))
    assert load_json(body(200), max_depth=201) == json.loads(body(200))
