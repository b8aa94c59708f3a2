"""Make's HTTP app: make a request (v4), and the classic "make a request" modules (v3)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.errors import InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, choice
from modules.http.request import DEFAULT_TIMEOUT_SECONDS, HttpRequest, send

_LAX = ConfigDict(extra="allow", populate_by_name=True)


class NameValue(BaseModel):
    model_config = _LAX

    name: Any = ""
    value: Any = ""

    def pair(self) -> tuple[str, str]:
        return _text(self.name), _text(self.value)


class HttpOutput(BaseModel):
    statusCode: int
    headers: list[NameValue]
    data: Any = None
    fileSize: int = 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


METHODS = {
    "get": "GET",
    "post": "POST",
    "put": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "head": "HEAD",
    "options": "OPTIONS",
}
"""The methods Make's HTTP modules offer (its values, lower case; the labels it shows)."""

_TIMEOUT_HELP = f"seconds, at most {DEFAULT_TIMEOUT_SECONDS:g} (the default)"


def _timeout(value: Any) -> float:
    if value in (None, ""):
        return DEFAULT_TIMEOUT_SECONDS
    return max(1.0, min(float(value), DEFAULT_TIMEOUT_SECONDS))


class MakeRequestInput(BaseModel):
    """``http:MakeRequest`` v4 mapper."""

    model_config = _LAX

    # Titles are the labels Make shows (from its exports' metadata.expect).
    url: str = Field(title="URL")
    method: str = choice("get", METHODS, title="Method")
    headers: list[NameValue] = Field(default_factory=list, title="Headers")
    queryParameters: list[NameValue] = Field(default_factory=list, title="Query parameters")
    contentType: str | None = choice(
        None,
        {
            "json": "application/json",
            "urlencoded": "application/x-www-form-urlencoded",
            "multipart": "multipart/form-data",
            "custom": "Custom",
        },
        title="Body content type",
    )
    inputMethod: str | None = choice(
        None, {"jsonString": "JSON string", "dataStructure": "Data structure"},
        title="Body input method",
    )  # fmt: skip
    jsonStringBodyContent: Any = Field(default=None, title="Body content")
    dataStructureBodyContent: Any = Field(default=None, title="Body content (data structure)")
    urlEncodedBodyContent: list[NameValue] = Field(
        default_factory=list, title="Fields (x-www-form-urlencoded)"
    )
    multipartBodyContent: list[NameValue] = Field(
        default_factory=list, title="Fields (multipart/form-data)"
    )
    customBodyContent: Any = Field(default=None, title="Body content (custom)")
    customContentType: str | None = Field(default=None, title="Content type (custom)")
    parseResponse: bool = Field(default=False, title="Parse response")
    stopOnHttpError: bool = Field(default=True, title="Return error if HTTP request fails")
    allowRedirects: bool = Field(default=True, title="Allow redirects")
    timeout: Any = Field(default=None, title="Timeout", description=_TIMEOUT_HELP)

    @field_validator(
        "headers", "queryParameters", "urlEncodedBodyContent", "multipartBodyContent", mode="before"
    )
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value in (None, "") else value


def _v4_body(data: MakeRequestInput) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The body arguments and content-type header for a v4 request."""
    kind = (data.contentType or "").lower()
    if kind == "json":
        body = data.jsonStringBodyContent
        if data.inputMethod == "dataStructure":
            import json

            body = json.dumps(data.dataStructureBodyContent)
        return {"body": _text(body) if body is not None else None}, [
            ("content-type", "application/json")
        ]
    if kind in ("urlencoded", "x-www-form-urlencoded"):
        return {"form": [p.pair() for p in data.urlEncodedBodyContent]}, []
    if kind in ("multipart", "multipart/form-data"):
        files = [
            (name, (None, value, None))
            for name, value in (p.pair() for p in data.multipartBodyContent)
        ]
        return {"files": files}, []
    if kind == "custom":
        content_type = data.customContentType or "text/plain"
        return {"body": _text(data.customBodyContent)}, [("content-type", content_type)]
    return {}, []


def _auth_headers(
    call: ModuleCall, default: str = "noAuth"
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], Any]:
    """Headers, query parameters and basic auth from the module's connection, if any."""
    parameters = call.parameters.model_dump()
    kind = parameters.get("authenticationType") or default
    if kind in (None, "", "noAuth"):
        return [], [], None
    if kind not in ("apiKey", "basicAuth", "oAuth"):
        raise InvalidConfigurationError(
            f"authentication type '{kind}' is not supported by this installation's HTTP module "
            "(use noAuth, apiKey, basicAuth or oAuth)"
        )
    keychain = parameters.get("apiKeyKeychain") or parameters.get("basicAuthKeychain")
    keychain = keychain or parameters.get("oAuthKeychain") or parameters.get("connection")
    keychain = keychain or parameters.get("auth")
    credentials = call.context.connection(keychain) if keychain else None
    if credentials is None:
        raise InvalidConfigurationError(f"authentication '{kind}' needs a connection (keychain)")
    if kind == "oAuth":
        return [_bearer(credentials, keychain)], [], None
    data = credentials if isinstance(credentials, Mapping) else getattr(credentials, "data", {})
    if kind == "basicAuth":
        return [], [], (str(data.get("username", "")), str(data.get("password", "")))
    pair = (str(data.get("name", "x-api-key")), str(data.get("key", "")))
    return ([pair], [], None) if data.get("placement", "header") == "header" else ([], [pair], None)


def _bearer(credentials: Any, keychain: Any) -> tuple[str, str]:
    """``Authorization: Bearer`` with the connection's access token, refreshed by the run's
    connections before it expires; any app's OAuth2 connection will do."""
    token = getattr(credentials, "access_token", None)
    if getattr(credentials, "auth", None) != "oauth2" or not token:
        raise InvalidConfigurationError(
            f"connection {keychain} is not an authorized OAuth 2.0 connection; choose one "
            "(Xero, QuickBooks, Zoho CRM or an app's OAuth 2.0 connection) or authorize it"
        )
    return "authorization", f"Bearer {token}"


def make_request(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(MakeRequestInput)
    body, body_headers = _v4_body(data)
    auth_headers, auth_params, basic = _auth_headers(call)
    request = HttpRequest(
        method=data.method,
        url=data.url,
        headers=[*body_headers, *auth_headers, *(p.pair() for p in data.headers)],
        params=[*auth_params, *(p.pair() for p in data.queryParameters)],
        auth=basic,
        credentials=[name for name, _ in (*auth_headers, *auth_params)],
        timeout=_timeout(data.timeout),
        follow_redirects=data.allowRedirects,
        parse_response=data.parseResponse,
        status_errors=data.stopOnHttpError,
        **body,
    )
    yield _send(call, request)


class SendDataInput(BaseModel):
    """``http:ActionSendData`` v3 mapper (and its auth variants)."""

    model_config = _LAX

    url: str = Field(title="URL")
    method: str = choice("get", METHODS, title="Method")
    headers: list[NameValue] = Field(default_factory=list, title="Headers")
    qs: list[NameValue] = Field(default_factory=list, title="Query string")
    bodyType: str | None = choice(
        None,
        {
            "raw": "Raw",
            "x_www_form_urlencoded": "application/x-www-form-urlencoded",
            "multipart_form_data": "multipart/form-data",
        },
        title="Body type",
    )
    contentType: str | None = choice(
        None,
        {
            "text/plain": "Text (text/plain)",
            "application/json": "JSON (application/json)",
            "application/xml": "XML (application/xml)",
            "text/xml": "XML (text/xml)",
            "text/html": "HTML (text/html)",
        },
        title="Content type",
    )
    data: Any = Field(default=None, title="Request content")
    parseResponse: bool = Field(default=False, title="Parse response")
    authUser: str | None = Field(default=None, title="User name")
    authPass: str | None = Field(default=None, title="Password")
    timeout: Any = Field(default=None, title="Timeout", description=_TIMEOUT_HELP)
    followRedirect: bool = Field(default=True, title="Follow redirect")

    @field_validator("headers", "qs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value in (None, "") else value


def _v3_body(data: SendDataInput) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    kind = (data.bodyType or "").lower()
    if kind == "raw":
        headers = [("content-type", data.contentType)] if data.contentType else []
        return {"body": _text(data.data)}, headers
    if kind in ("x_www_form_urlencoded", "urlencoded"):
        fields = data.data if isinstance(data.data, list) else []
        return {"form": [NameValue.model_validate(f).pair() for f in fields]}, []
    if kind in ("multipart_form_data", "multipart"):
        fields = data.data if isinstance(data.data, list) else []
        pairs = [NameValue.model_validate(f).pair() for f in fields]
        return {"files": [(name, (None, value, None)) for name, value in pairs]}, []
    return {}, []


def send_data(call: ModuleCall, auth: str = "noAuth") -> Iterator[Bundle]:
    data = call.input_as(SendDataInput)
    body, body_headers = _v3_body(data)
    auth_headers, auth_params, basic = _auth_headers(call, auth)
    if data.authUser or data.authPass:
        basic = (data.authUser or "", data.authPass or "")
    handle_errors = bool(call.parameters.model_dump().get("handleErrors", False))
    request = HttpRequest(
        method=data.method,
        url=data.url,
        headers=[*body_headers, *auth_headers, *(p.pair() for p in data.headers)],
        params=[*auth_params, *(p.pair() for p in data.qs)],
        auth=basic,
        credentials=[name for name, _ in (*auth_headers, *auth_params)],
        timeout=_timeout(data.timeout),
        follow_redirects=data.followRedirect,
        parse_response=data.parseResponse,
        status_errors=handle_errors,
        **body,
    )
    yield _send(call, request)


def _send(call: ModuleCall, request: HttpRequest) -> dict[str, Any]:
    run = call.context.run
    return send(run.http, request, allow_private_network=run.allow_private_network)


class HttpParameters(BaseModel):
    """``parameters`` of the HTTP modules: error handling and the connection (keychain)."""

    model_config = _LAX

    handleErrors: bool = Field(
        default=False, title="Evaluate all states as errors (except for 2xx and 3xx)"
    )
    authenticationType: str | None = choice(
        None,
        {"noAuth": "No authentication", "apiKey": "API key", "basicAuth": "Basic auth",
         "oAuth": "OAuth 2.0"},
        title="Authentication type",
    )  # fmt: skip
    apiKeyKeychain: Any = Field(default=None, title="Credentials (API key)")
    basicAuthKeychain: Any = Field(default=None, title="Credentials (basic auth)")
    oAuthKeychain: Any = Field(default=None, title="Credentials (OAuth 2.0)")
    connection: Any = Field(default=None, alias="__IMTCONN__")
    auth: Any = Field(default=None, title="Credentials")


_SYSTEM_CAS = (
    "requests are always verified against the system's certificate authorities; custom CAs, "
    "client certificates and unverified TLS are not offered"
)
_COMPRESSION = "responses are always asked for compressed and decompressed by the HTTP client"
IGNORED_HTTP_KEYS: Mapping[str, str] = {
    "useNewZLibDeCompress": _COMPRESSION,
    "gzip": _COMPRESSION,
    "requestCompressedContent": _COMPRESSION,
    "ca": _SYSTEM_CAS,
    "useMtls": _SYSTEM_CAS,
    "tlsType": _SYSTEM_CAS,
    "rejectUnauthorized": _SYSTEM_CAS,
    "shareCookies": "the run's HTTP session keeps the cookies of every request of the run",
    "serializeUrl": "the URL is sent as mapped; the HTTP client quotes what must be quoted",
    "useQuerystring": "query parameters with one name are sent as repeated pairs either way",
    "followAllRedirects": (
        "followRedirect decides for every method; the SSRF guard checks each redirect hop"
    ),
    "proxyKeychain": "requests go out directly; proxies are not supported",
}
"""Settings of Make's HTTP modules that Switchboard accepts and deliberately does not apply."""


def _spec(
    module_id: str,
    label: str,
    input_model: type[BaseModel],
    run: Any,
    version: int,
    superseded_by: str | None = None,
) -> ModuleSpec:
    return ModuleSpec(
        id=module_id,
        kind=ModuleKind.ACTION,
        label=label,
        version=version,
        parameters=HttpParameters,
        input=input_model,
        output=HttpOutput,
        run=run,
        ignored_keys=IGNORED_HTTP_KEYS,
        effect=Effect.CALL,  # GET or POST, to anywhere: the request decides, not the module
        superseded_by=superseded_by,
    )


HTTP_MODULES: tuple[ModuleSpec, ...] = (
    _spec("http:MakeRequest", "Make a request", MakeRequestInput, make_request, 4),
    _spec(
        "http:ActionSendData",
        "Make a request (v3)",
        SendDataInput,
        send_data,
        3,
        superseded_by="http:MakeRequest",
    ),
    _spec(
        "http:ActionSendDataAPIKeyAuth",
        "Make an API Key Auth request",
        SendDataInput,
        partial(send_data, auth="apiKey"),
        3,
    ),
    _spec(
        "http:ActionSendDataBasicAuth",
        "Make a Basic Auth request",
        SendDataInput,
        partial(send_data, auth="basicAuth"),
        3,
    ),
    _spec(
        "http:ActionSendDataOAuth",
        "Make an OAuth 2.0 request",
        SendDataInput,
        partial(send_data, auth="oAuth"),
        3,
    ),
)
