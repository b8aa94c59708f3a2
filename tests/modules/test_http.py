"""HTTP modules: requests built from Make's mapper, answers turned into bundles, errors typed."""

from __future__ import annotations

import json

import pytest
import responses

from engine.connections import ResolvedConnection
from engine.errors import (
    ConnectionError,
    DataError,
    InvalidConfigurationError,
    ModuleTimeoutError,
    RateLimitError,
)
from engine.registry import default_registry
from modules.http.guard import BlockedAddressError, check_url
from tests.modules.helpers import call_module, http_context

REGISTRY = default_registry()
MAKE_REQUEST = REGISTRY["http:MakeRequest"]
SEND_DATA = REGISTRY["http:ActionSendData"]
PUBLIC = "https://93.184.216.34"  # a literal public address: the guard needs no DNS


@responses.activate
def test_make_request_sends_json_and_parses_the_answer():
    responses.post(
        f"{PUBLIC}/leads",
        json={"id": 9},
        match=[
            responses.matchers.json_params_matcher({"email": "a@b.c"}),
            responses.matchers.query_param_matcher({"source": "web"}),
            responses.matchers.header_matcher({"x-token": "t", "content-type": "application/json"}),
        ],
    )
    [bundle] = call_module(
        MAKE_REQUEST,
        {
            "url": f"{PUBLIC}/leads",
            "method": "post",
            "headers": [{"name": "x-token", "value": "t"}],
            "queryParameters": [{"name": "source", "value": "web"}],
            "contentType": "json",
            "inputMethod": "jsonString",
            "jsonStringBodyContent": '{"email": "a@b.c"}',
            "parseResponse": True,
        },
        {"authenticationType": "noAuth"},
        run_context=http_context(),
    )
    assert bundle["statusCode"] == 200
    assert bundle["data"] == {"id": 9}
    assert {"name": "content-type", "value": "application/json"} in bundle["headers"]


@responses.activate
def test_unparsed_answers_stay_text():
    responses.get(f"{PUBLIC}/x", body='{"a": 1}', content_type="application/json")
    [bundle] = call_module(MAKE_REQUEST, {"url": f"{PUBLIC}/x"}, run_context=http_context())
    assert bundle["data"] == '{"a": 1}'


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, DataError), (404, DataError), (429, RateLimitError), (500, ConnectionError)],
)
@responses.activate
def test_error_statuses_become_make_errors(status, error_type):
    responses.get(f"{PUBLIC}/x", body="nope", status=status, headers={"retry-after": "30"})
    with pytest.raises(error_type) as caught:
        call_module(MAKE_REQUEST, {"url": f"{PUBLIC}/x"}, run_context=http_context())
    assert caught.value.message == f"[{status}] nope"
    if status == 429:
        assert caught.value.retry_after == 30


@responses.activate
def test_error_statuses_pass_when_not_stopping_on_them():
    responses.get(f"{PUBLIC}/x", body="gone", status=410)
    [bundle] = call_module(
        MAKE_REQUEST, {"url": f"{PUBLIC}/x", "stopOnHttpError": False}, run_context=http_context()
    )
    assert (bundle["statusCode"], bundle["data"]) == (410, "gone")


@responses.activate
def test_timeouts_and_refused_connections_are_typed():
    import requests

    responses.get(f"{PUBLIC}/slow", body=requests.ReadTimeout("slow"))
    responses.get(f"{PUBLIC}/down", body=requests.ConnectionError("refused"))
    with pytest.raises(ModuleTimeoutError, match="did not answer within 5 seconds"):
        call_module(
            MAKE_REQUEST, {"url": f"{PUBLIC}/slow", "timeout": "5"}, run_context=http_context()
        )
    with pytest.raises(ConnectionError, match="cannot reach"):
        call_module(MAKE_REQUEST, {"url": f"{PUBLIC}/down"}, run_context=http_context())


@responses.activate
def test_send_data_v3_raw_body_basic_auth_and_handle_errors():
    responses.put(
        f"{PUBLIC}/items/1",
        json={"ok": True},
        match=[responses.matchers.header_matcher({"content-type": "application/xml"})],
    )
    [bundle] = call_module(
        SEND_DATA,
        {
            "url": f"{PUBLIC}/items/1",
            "method": "put",
            "bodyType": "raw",
            "contentType": "application/xml",
            "data": "<a/>",
            "authUser": "ann",
            "authPass": "secret",
            "parseResponse": True,
        },
        {"handleErrors": True},
        run_context=http_context(),
    )
    sent = responses.calls[0].request
    assert sent.body == "<a/>"
    assert sent.headers["authorization"].startswith("Basic ")
    assert bundle["data"] == {"ok": True}


@responses.activate
def test_form_bodies():
    responses.post(
        f"{PUBLIC}/form",
        body="ok",
        match=[responses.matchers.urlencoded_params_matcher({"a": "1", "b": "two"})],
    )
    call_module(
        MAKE_REQUEST,
        {
            "url": f"{PUBLIC}/form",
            "method": "post",
            "contentType": "urlEncoded",
            "urlEncodedBodyContent": [{"name": "a", "value": 1}, {"name": "b", "value": "two"}],
        },
        run_context=http_context(),
    )
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://localhost/admin",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_the_ssrf_guard_refuses_internal_addresses(url):
    with pytest.raises(BlockedAddressError, match="private, loopback or link-local"):
        check_url(url, allow_private_network=False)
    check_url(url, allow_private_network=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x", "ftp://example.com/"])
def test_the_ssrf_guard_refuses_other_schemes(url):
    with pytest.raises(BlockedAddressError, match="only http and https"):
        check_url(url, allow_private_network=True)


@responses.activate
def test_redirects_to_internal_addresses_are_refused():
    responses.get(f"{PUBLIC}/r", status=302, headers={"location": "http://127.0.0.1:5432/"})
    with pytest.raises(BlockedAddressError):
        call_module(MAKE_REQUEST, {"url": f"{PUBLIC}/r"}, run_context=http_context())


@responses.activate
def test_redirects_are_followed_and_checked():
    responses.get(f"{PUBLIC}/r", status=301, headers={"location": "/final"})
    responses.get(f"{PUBLIC}/final", json={"done": True})
    [bundle] = call_module(
        MAKE_REQUEST, {"url": f"{PUBLIC}/r", "parseResponse": True}, run_context=http_context()
    )
    assert bundle["data"] == {"done": True}


def test_loopback_is_refused_before_any_request_is_sent():
    with pytest.raises(BlockedAddressError):
        call_module(MAKE_REQUEST, {"url": "http://127.0.0.1:1/"}, run_context=http_context())


def test_create_json_and_parse_json_round_trip():
    create, parse = REGISTRY["json:CreateJSON"], REGISTRY["json:ParseJSON"]
    [made] = call_module(create, {"name": "Ann", "tags": ["a"], "n": 1})
    assert json.loads(made["json"]) == {"name": "Ann", "tags": ["a"], "n": 1}
    assert call_module(parse, {"json": made["json"]}) == [{"name": "Ann", "tags": ["a"], "n": 1}]
    assert call_module(parse, {"json": "[1, 2]"}) == [
        {"value": 1, "__IMTINDEX__": 1, "__IMTLENGTH__": 2},
        {"value": 2, "__IMTINDEX__": 2, "__IMTLENGTH__": 2},
    ]
    with pytest.raises(DataError, match="not valid JSON"):
        call_module(parse, {"json": "{oops"})


def test_unsupported_authentication_is_a_clear_configuration_error():
    from engine.errors import InvalidConfigurationError

    with pytest.raises(InvalidConfigurationError, match="authentication type 'clientCert'"):
        call_module(
            MAKE_REQUEST,
            {"url": f"{PUBLIC}/x"},
            {"authenticationType": "clientCert"},
            run_context=http_context(),
        )


@responses.activate
def test_api_key_from_a_connection_goes_in_a_header_or_the_query():
    from datetime import UTC, datetime

    import requests

    from engine.runtime import RunContext

    class Keys:
        def __init__(self, placement):
            self.placement = placement

        def get(self, connection_id):
            return {"name": "x-key", "key": f"k{connection_id}", "placement": self.placement}

    responses.get(f"{PUBLIC}/h", match=[responses.matchers.header_matcher({"x-key": "k5"})])
    responses.get(f"{PUBLIC}/q", match=[responses.matchers.query_param_matcher({"x-key": "k5"})])
    for placement, path in (("header", "h"), ("query", "q")):
        context = RunContext(
            clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
            http=requests.Session(),
            connections=Keys(placement),
        )
        call_module(
            MAKE_REQUEST,
            {"url": f"{PUBLIC}/{path}"},
            {"authenticationType": "apiKey", "apiKeyKeychain": 5},
            run_context=context,
        )
    assert len(responses.calls) == 2


class _OAuthConnections:
    """What the run's connections give for an app's OAuth 2.0 connection (refreshed already)."""

    def __init__(self, auth="oauth2", token="tok-123"):
        self.connection = ResolvedConnection(
            id=5,
            app="xero",
            auth=auth,
            name="Books",
            data={},
            secrets={"access_token": token} if token else {},
            revision=1,
        )

    def get(self, connection_id):
        assert connection_id == 5
        return self.connection


@responses.activate
def test_oauth_request_sends_the_connections_bearer_token():
    responses.post(
        f"{PUBLIC}/api/Contacts",
        json={"Contacts": [{"ContactID": "c1"}]},
        match=[
            responses.matchers.header_matcher({"authorization": "Bearer tok-123"}),
            responses.matchers.json_params_matcher({"Name": "Ann"}),
        ],
    )
    [bundle] = call_module(
        REGISTRY["http:ActionSendDataOAuth"],
        {
            "url": f"{PUBLIC}/api/Contacts",
            "method": "post",
            "bodyType": "raw",
            "contentType": "application/json",
            "data": '{"Name": "Ann"}',
            "parseResponse": True,
        },
        {"__IMTCONN__": 5, "handleErrors": True},
        run_context=http_context(connections=_OAuthConnections()),
    )
    assert bundle["data"] == {"Contacts": [{"ContactID": "c1"}]}


@pytest.mark.parametrize(("auth", "token"), [("basic", "x"), ("oauth2", None)])
def test_oauth_request_needs_an_authorized_oauth_connection(auth, token):
    with pytest.raises(InvalidConfigurationError, match="not an authorized OAuth"):
        call_module(
            REGISTRY["http:ActionSendDataOAuth"],
            {"url": f"{PUBLIC}/x"},
            {"__IMTCONN__": 5},
            run_context=http_context(connections=_OAuthConnections(auth, token)),
        )
