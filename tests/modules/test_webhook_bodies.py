"""What a webhook body becomes: multipart forms as Make parses them (text fields as text, files
as ``{name, mime, data}``), and JSON that no store could keep refused with its path."""

from __future__ import annotations

import pytest
import requests

from engine.webhooks import UnreadableBody, request_to_bundle


def bundle_of(content_type: str, body: bytes) -> dict:
    return request_to_bundle(
        method="POST", headers={"Content-Type": content_type}, query={"from": "query"}, body=body
    )


def multipart(fields: dict, files: list) -> tuple[str, bytes]:
    prepared = requests.Request("POST", "http://x/", data=fields, files=files).prepare()
    return prepared.headers["Content-Type"], prepared.body


def test_a_multipart_form_gives_its_fields_and_files():
    # The body used to reach the bundle as one raw text ``value``, boundaries and all.
    picture = bytes(range(256)) + b"\r\n--not-the-boundary\r\n" * 3
    content_type, body = multipart(
        {"name": "Zoë", "n": "7"},
        [
            ("photo", ("me.png", picture, "image/png")),
            ("notes", ("a.txt", b"first\r\n", "text/plain")),
            ("notes", ("b.txt", b"second", "text/plain")),
        ],
    )
    assert bundle_of(content_type, body) == {
        "from": "query",
        "name": "Zoë",
        "n": "7",
        "photo": {"name": "me.png", "mime": "image/png", "data": picture},
        "notes": [  # a name sent twice: every value, in order
            {"name": "a.txt", "mime": "text/plain", "data": b"first\r\n"},
            {"name": "b.txt", "mime": "text/plain", "data": b"second"},
        ],
    }


def test_a_multipart_form_as_browsers_send_it():
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="caf\xc3\xa9"; '
        b'filename="r\xc3\xa9sum\xc3\xa9.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"hi\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="latin"\r\n'
        b"Content-Type: text/plain; charset=latin-1\r\n\r\n"
        b"\xe9t\xe9\r\n"
        b"--XyZ--\r\n"
    )
    assert bundle_of("multipart/form-data; boundary=XyZ", body) == {
        "from": "query",
        "café": {"name": "résumé.txt", "mime": "text/plain", "data": b"hi"},
        "latin": "été",
    }


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=elsewhere"]
)
def test_a_multipart_body_without_its_boundary_stays_text(content_type):
    assert bundle_of(content_type, b"just text") == {"from": "query", "value": "just text"}


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (b'{"s": "\\ud800"}', "s", "lone surrogate (\\ud800)"),
        (b'{"a": [1, {"\\udfff": 1}]}', "a[1].\\udfff", "is a key that holds a lone surrogate"),
        (b'{"a": {"b": NaN}}', "a.b", "is NaN"),
        (b'{"big": 1e999}', "big", "beyond ±1.8e308"),
        (b'{"list": [-Infinity]}', "list[0]", "is -Infinity"),
        (b"Infinity", "", "the JSON request body is Infinity"),
    ],
)
def test_json_no_store_could_keep_is_refused_naming_its_path(body, path, reason):
    # NaN and 1e999 silently became null; a lone surrogate made the run's record unstorable.
    with pytest.raises(UnreadableBody) as refused:
        bundle_of("application/json", body)
    assert refused.value.path == path
    assert reason in refused.value.message
    assert refused.value.message.startswith("the JSON request body")


def test_json_with_nul_and_astral_characters_is_kept():
    body = b'{"nul": "a\\u0000b", "emoji": "\\ud83d\\ude00", "big": 1e308, "int": 1e2}'
    assert bundle_of("application/json", body) == {
        "from": "query",
        "nul": "a\x00b",
        "emoji": "\U0001f600",  # a surrogate pair is one character
        "big": 1e308,
        "int": 100.0,
    }


@pytest.mark.parametrize(
    "text",
    [
        b'{"big": 123456789012345678901234567890, "n": 9223372036854775807}',  # past 64 bits
        b'{"neg": -98765432109876543210, "f": 1.5e300, "z": -0.0}',
        b"\xef\xbb\xbf" + b'{"bom": true}',  # a byte order mark: json reads it, orjson not
        '{"utf16": "é"}'.encode("utf-16"),
        b"[" * 199 + b"1" + b"]" * 199,  # as deep as may be
        b'{"s": "\\u00e9\\ud83d\\ude00\\u0000", "dup": 1, "dup": 2}',
    ],
)
def test_json_bodies_read_as_the_standard_library_reads_them(text):
    # The fast reader (orjson) stands in for json.loads only where both read the same value.
    import json

    bundle = bundle_of("application/json", text)
    expected = json.loads(text)
    expected = expected if isinstance(expected, dict) else {"value": expected}
    assert repr(bundle) == repr({"from": "query", **expected})


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b'{"a": [1, "\\udc00"]}', "a[1]"),
        (b'{"a": {"b": NaN}}', "a.b"),
        (b'{"a": [-1e999]}', "a[0]"),
        (b"[" * 200 + b"1" + b"]" * 200, None),
    ],
)
def test_json_bodies_refused_still_say_where(text, path):
    with pytest.raises(UnreadableBody) as refused:
        bundle_of("application/json", text)
    if path is not None:
        assert refused.value.path == path
