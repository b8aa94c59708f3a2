"""App webhook signatures (Xero ``x-xero-signature``, QuickBooks ``intuit-signature``): the
right signature of the raw body is accepted, anything else is 401, and the comparison is
``hmac.compare_digest`` (constant time), never ``==``."""

from __future__ import annotations

import base64
import hmac

import pytest

from modules.quickbooks.webhooks import intuit_signature, intuit_webhook_status
from modules.xero.webhooks import xero_signature, xero_webhook_status

KEY = "webhook-key-Zt0p"
BODY = b'{"events": [{"resourceId": "abc"}], "firstEventSequence": 1}'

APPS = {
    "xero": (xero_signature, xero_webhook_status),
    "quickbooks": (intuit_signature, intuit_webhook_status),
}


@pytest.fixture(params=sorted(APPS))
def app(request):
    return APPS[request.param]


def test_the_right_signature_is_accepted(app):
    sign, status = app
    assert status(KEY, BODY, sign(KEY, BODY)) == 200
    assert status(KEY, b"", sign(KEY, b"")) == 200  # Xero's intent-to-receive payload


def wrong_signatures(sign) -> list[str | None]:
    right = sign(KEY, BODY)
    raw = base64.b64decode(right)
    return [
        None,
        "",
        " ",
        right[:-4],
        right + "A",
        right.lower() if right != right.lower() else right.upper(),
        sign(KEY, BODY + b" "),
        sign(KEY + "x", BODY),
        sign("", BODY),
        raw.hex(),
        base64.urlsafe_b64encode(bytes(b ^ 1 for b in raw)).decode(),
        "\x00" * len(right),
    ]


def test_wrong_or_missing_signatures_are_401(app):
    sign, status = app
    for signature in wrong_signatures(sign):
        assert status(KEY, BODY, signature) == 401, signature


@pytest.mark.parametrize(
    "name",
    [
        "xero",
        "quickbooks",
    ],
)
def test_a_non_ascii_signature_is_401(name):
    # Werkzeug decodes header bytes as Latin-1, so a caller can send any of these.
    sign, status = APPS[name]
    right = sign(KEY, BODY)
    for signature in ["é" * len(right), right[:-1] + "é", "\u2603"]:
        assert status(KEY, BODY, signature) == 401


def test_an_empty_key_accepts_nothing(app):
    sign, status = app
    assert status("", BODY, sign("", BODY)) == 401


def test_the_comparison_is_constant_time(app, monkeypatch):
    sign, status = app
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    right = sign(KEY, BODY)
    assert status(KEY, BODY, right) == 200
    assert status(KEY, BODY, right[:-2] + "AA") == 401
    assert len(calls) == 2
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    assert status(KEY, BODY, right) == 401  # the verdict comes from compare_digest alone
