"""A compiled app's connection as a ``ConnectionKind``: the form of its parameters (``password``
fields secret), OAuth 2 settings from its ``authorize``/``token`` requests, and its test (the
connection's ``communication``, or OAuth's ``info``) reporting the account's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.spec import AuthType, ConnectionField, ConnectionKind, OAuth2Settings
from modules.apps.app import CompiledApp, all_scopes, connection_scope, exchange_for
from modules.apps.communication import Produced, run_communication
from modules.apps.compile import Where
from modules.apps.definition import ConnectionDefinition, ConnectionType
from modules.apps.iml import evaluate
from modules.apps.params import ParameterSpec
from modules.apps.params import read_specs as _read_specs
from modules.connections import oauth2_client_fields, oauth2_endpoint_fields


def connection_kind(app: CompiledApp) -> ConnectionKind | None:
    """The connection kind of ``app`` (none for an app without connections)."""
    return _connection_kind(app) if app.connection is not None else None


def _connection_kind(app: CompiledApp) -> ConnectionKind:
    connection = app.connection
    assert connection is not None
    fields = tuple(_connection_field(spec) for spec in _read_specs(connection.parameters, ""))
    if connection.type is ConnectionType.OAUTH:
        oauth = _oauth_settings(app, connection)
        known = {f.name for f in fields}
        extra = oauth2_client_fields(app.label) + oauth2_endpoint_fields(
            oauth.authorize_url, oauth.token_url
        )
        fields = tuple(f for f in extra if f.name not in known) + fields
        auth = AuthType.OAUTH2
    else:
        oauth = None
        auth = (
            AuthType.API_KEY
            if connection.type is not ConnectionType.BASIC
            or not any(f.name in ("username", "user") for f in fields)
            else AuthType.BASIC
        )
    return ConnectionKind(
        id=app.name,
        label=connection.label or app.label,
        auth=auth,
        fields=fields,
        oauth2=oauth,
        test=_connection_tester(app) if app.connection_test else None,
    )


def _connection_field(spec: ParameterSpec) -> ConnectionField:
    return ConnectionField(
        name=spec.name,
        label=spec.label,
        secret=spec.type == "password",
        required=spec.required,
        default=spec.default,
        advanced=bool(spec.raw.get("advanced")),
        help=spec.help,
    )


def _oauth_settings(app: CompiledApp, connection: ConnectionDefinition) -> OAuth2Settings:
    communication = connection.communication
    authorize, token = communication["authorize"], communication["token"]
    common = {**dict(app.definition.common), **dict(connection.common)}
    scopes = {"common": common, "oauth": {"scope": list(all_scopes(app))}}
    where = Where(app.source, "connections")
    authorize_url = evaluate((where / "authorize.url").compile(authorize["url"]), scopes)
    token_url = evaluate((where / "token.url").compile(token["url"]), scopes)
    standard = {"client_id", "redirect_uri", "scope", "state", "response_type"}
    extra = {
        str(k): str(v)
        for k, v in (authorize.get("qs") or {}).items()
        if k not in standard and isinstance(v, str | int | bool) and "{{" not in str(v)
    }
    body = token.get("body") or {}
    form = isinstance(body, Mapping) and "client_secret" in body
    return OAuth2Settings(
        authorize_url=str(authorize_url),
        token_url=str(token_url),
        scopes=all_scopes(app),
        rotates_refresh_token=False,
        extra_authorize_params=extra,
        client_auth="form" if form else "basic",
    )


def _connection_tester(app: CompiledApp) -> Any:
    def test(connection: Mapping[str, Any], session: Any) -> Mapping[str, Any]:
        values = connection_scope(connection)
        exchange = exchange_for(app, session, connection, values)
        produced: list[Produced] = run_communication(app.connection_test, exchange)
        facts: dict[str, Any] = {}
        for spec in app.connection_test:
            if spec.response.metadata is not None and produced:
                metadata = exchange.value(spec.response.metadata, produced[-1].scopes) or {}
                if isinstance(metadata, Mapping) and metadata.get("value") not in (None, ""):
                    facts["account"] = metadata["value"]
        return facts

    return test
