"""``engine.jsonvalues``: the test for integers orjson reads otherwise (``has_long_number``)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from engine.jsonvalues import has_long_number, load_json, load_trusted

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
