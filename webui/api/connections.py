"""Connections: the kinds the installed apps offer, stored connections (never their secrets),
and "Test connection"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

from flask import Response, request

from engine.errors import ModuleError
from engine.spec import AuthType
from engine.store import Connection
from webui.api.models import (
    ConnectionIn,
    ConnectionKindOut,
    ConnectionOut,
    ConnectionTestOut,
    FieldOut,
)
from webui.api.routing import answer, json_body, no_content, route
from webui.app import current_service


def _kinds() -> Mapping[str, Any]:
    # ``connection_kinds`` arrives with the connectors; before that there are none.
    return getattr(current_service().registry, "connection_kinds", {})


AUTH_NAMES: dict[AuthType, Literal["basic", "oauth2", "api_key"]] = {
    AuthType.BASIC: "basic",
    AuthType.OAUTH2: "oauth2",
    AuthType.API_KEY: "api_key",
}
"""A connection kind's auth as the API names it (an identifier: ``api_key``, not ``api-key``)."""


def kind_out(kind: Any) -> ConnectionKindOut:
    return ConnectionKindOut(
        id=kind.id,
        app=kind.id,
        label=kind.label,
        auth=AUTH_NAMES[kind.auth],
        fields=[
            FieldOut(
                name=f.name,
                label=f.label,
                secret=f.secret,
                required=f.required,
                default=f.default,
                advanced=f.advanced,
                help=f.help,
            )
            for f in kind.fields
        ],
    )


def connection_out(connection: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        app=connection.app,
        kind=connection.kind,
        name=connection.name,
        data=connection.data,
        created_at=connection.created_at,
    )


@route("/connection-kinds", "GET", answer=list[ConnectionKindOut])
def list_connection_kinds() -> Response:
    """The connection forms of the installed apps."""
    return answer([kind_out(kind) for kind in _kinds().values()])


@route("/connections", "GET", answer=list[ConnectionOut])
def list_connections() -> Response:
    """Every connection, without secrets."""
    return answer([connection_out(c) for c in current_service().list_connections()])


@route("/connections", "POST", body=ConnectionIn, answer=ConnectionOut, status=201)
def create_connection() -> Response:
    """Store a connection of a kind: public fields in ``data``, secret ones in ``secrets``."""
    given = json_body(ConnectionIn)
    connection = current_service().create_connection(
        given.kind, given.name, given.data, given.secrets
    )
    return answer(connection_out(connection), 201)


@route("/connections/<int:connection_id>", "DELETE", status=204)
def delete_connection(connection_id: int) -> Response:
    """Delete a connection."""
    current_service().delete_connection(connection_id)
    return no_content()


@route("/connections/<int:connection_id>/test", "POST", answer=ConnectionTestOut)
def test_connection(connection_id: int) -> Response:
    """Run the app's connection test; a failure is an answer (``ok: false``), not an error."""
    try:
        facts = current_service().test_connection(connection_id)
    except ModuleError as error:
        return answer(ConnectionTestOut(ok=False, message=error.message))
    detail = ", ".join(f"{key}: {value}" for key, value in facts.items())
    return answer(ConnectionTestOut(ok=True, message=detail or "the connection works"))


@route("/oauth/<kind>/authorize", "GET", status=302)
def authorize_connection(kind: str) -> Response:
    """Start the OAuth2 pop-up flow for a connection kind (``?name=``): redirects to the
    connectors' ``/oauth/<kind>/authorize``, which sends the browser to the app's consent page.
    """
    query = request.query_string.decode("ascii")
    target = f"/oauth/{quote(kind, safe='')}/authorize" + (f"?{query}" if query else "")
    return Response(status=302, headers={"Location": target})
