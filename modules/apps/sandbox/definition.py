"""The sandbox definition format: an app's API emulated as data (``sandbox.yaml`` beside its
``app.yaml``), served by the one generic server of ``modules.apps.sandbox.server``.

::

    auth:                       # how requests prove themselves (the refusal is the API's)
      type: bearer              # none | bearer | header | query | basic | path
      tokens: [xoxb-sandbox]    # credentials accepted ("user:password" for basic)
      refuse: {status: 200, body: {ok: false, error: invalid_auth}}
    collections:                # records kept in memory, seeded, shown in /_sandbox/state
      messages: {key: ts, generate: "{{now}}"}
    routes:
      POST /api/chat.postMessage:
        - find: {collection: channels, where: "{{item.id = body.channel}}", as: channel}
          missing: {body: {ok: false, error: channel_not_found}}
        - create: {collection: messages, record: {text: "{{body.text}}"}, as: message}
        - respond: {body: {ok: true, ts: "{{vars.message.ts}}"}}

Paths take ``{name}`` parameters (``/v1/tables/{table}``; ``{name:path}`` spans slashes),
read as ``path.name``. Steps run in order; templates are the app dialect of the mapping
language and read ``body``, ``query``, ``headers``, ``path``, ``request`` (``method``,
``raw``) and ``vars`` (what earlier steps found, made or ``set``). A route may call a Python
``handler`` (``package.module:function``) where data is not enough (a spreadsheet's grid).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Reply(_Strict):
    """An answer: status, headers and body (templates), sent as JSON, text or bytes."""

    status: int | str = 200
    headers: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    type: Literal["json", "text", "binary"] = "json"


class Auth(_Strict):
    type: Literal["none", "bearer", "header", "query", "basic", "path"] = "none"
    name: str = ""
    prefix: str = ""
    tokens: list[str] = Field(default_factory=list)
    refuse: Reply = Field(default_factory=lambda: Reply(status=401, body={"error": "unauthorized"}))


class Collection(_Strict):
    """Records by key; ``generate`` makes a new record's key (``vars.next`` counts 1, 2, …)."""

    key: str = "id"
    generate: str = "{{vars.next}}"
    seed: list[dict[str, Any]] = Field(default_factory=list)


class Find(_Strict):
    collection: str
    key: Any = None
    where: Any = None
    as_: str = Field(alias="as")


class ListStep(_Strict):
    collection: str
    where: Any = None
    sort: Any = None
    descending: bool = False
    limit: Any = None
    as_: str = Field(alias="as")


class Create(_Strict):
    collection: str
    record: Any
    as_: str = Field(alias="as")


class Update(_Strict):
    collection: str
    key: Any
    merge: Any
    as_: str = Field(alias="as", default="updated")


class Delete(_Strict):
    collection: str
    key: Any


class Check(_Strict):
    condition: Any
    reply: Reply = Field(alias="else")


class Step(_Strict):
    """One step of a route: exactly one action, and the answer when it finds nothing."""

    find: Find | None = None
    list_: ListStep | None = Field(default=None, alias="list")
    create: Create | None = None
    update: Update | None = None
    delete: Delete | None = None
    check: Check | None = None
    set: dict[str, Any] | None = None
    handler: str | None = None
    respond: Reply | None = None
    missing: Reply | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [
            name
            for name in ("find", "list_", "create", "update", "delete", "check", "set", "handler")
            if getattr(self, name) is not None
        ] + (["respond"] if self.respond is not None else [])
        if len(actions) != 1:
            raise ValueError(f"a step has exactly one action, not {actions or 'none'}")
        if self.missing is not None and not (self.find or self.update or self.delete):
            raise ValueError("missing goes with find, update or delete")
        return self


class Route(_Strict):
    auth: bool = True
    steps: list[Step]


class SandboxDefinition(_Strict):
    """One app's sandbox (see the module docstring).

    Attributes:
        include: other library sandboxes served with this one (google-docs needs Drive's).
        config: config keys of this sandbox and their defaults (``/_sandbox/config``).
        connection: the values of a connection that reaches this sandbox; ``{sandbox}`` in a
            value stands for the app's base URL in the sandbox (``base_url: "{sandbox}/api"``).
        hosts: the real API's host names: a client calling them (its requests rewritten to the
            sandbox) reaches this sandbox's routes where two apps share a path.
    """

    include: list[str] = Field(default_factory=list)
    hosts: list[str] = Field(default_factory=list)
    connection: dict[str, Any] = Field(default_factory=dict)
    auth: Auth = Field(default_factory=Auth)
    collections: dict[str, Collection] = Field(default_factory=dict)
    routes: dict[str, list[Step] | Route] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)

    def connection_values(self, base_url: str) -> dict[str, Any]:
        """The values of a connection to this sandbox served at ``base_url``."""
        return {
            key: value.replace("{sandbox}", base_url.rstrip("/"))
            if isinstance(value, str)
            else value
            for key, value in self.connection.items()
        }

    def route_list(self) -> list[tuple[str, str, Route]]:
        """``(method, path, route)`` for every route, in the order written."""
        found = []
        for key, value in self.routes.items():
            method, _, path = key.partition(" ")
            route = value if isinstance(value, Route) else Route(steps=value)
            found.append((method.upper(), path.strip(), route))
        return found
