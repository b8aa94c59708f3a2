"""The app definition format: what one app defined as data declares.

The sections follow Make's Custom Apps (base, connection, modules with communication /
parameters / expect / interface, RPCs, webhooks), so a Make custom app imports as it is
(``modules.apps.loader`` reads both a single JSON/YAML file and a Make local-development folder);
a few keys of Switchboard's own sit beside them (``ignored``, ``theme`` …). The models here check
the shape; ``modules.apps.compile`` then compiles every template and checks every directive.

A broken definition is an ``AppDefinitionError`` naming the file, the JSON path and the field.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import UserError

APP_NAME_PATTERN = r"^(app#)?[a-z][a-z0-9-]{0,63}$"
MODULE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,127}$"


class AppDefinitionError(UserError):
    """An app definition that cannot be loaded.

    Attributes:
        source: the file (or folder) the definition came from.
        path: the JSON path of the problem inside it (``modules.addRow.communication.url``).
        reason: what is wrong there.
    """

    def __init__(self, source: str | Path, path: str, reason: str) -> None:
        self.source = str(source)
        self.path = path
        self.reason = reason
        where = f"{self.source}: {path}" if path else self.source
        super().__init__(f"{where}: {reason}")


def json_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """``("modules", "addRow", "expect", 0, "name")`` → ``modules.addRow.expect[0].name``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def definition_error(source: str | Path, error: ValidationError) -> AppDefinitionError:
    """The first problem of a pydantic validation of a definition, as an ``AppDefinitionError``
    (the others follow in its message)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    reason = first["msg"]
    if len(problems) > 1:
        rest = "; ".join(f"{json_path(p['loc'])}: {p['msg']}" for p in problems[1:4])
        reason += f" (also {rest})"
    return AppDefinitionError(source, json_path(first["loc"]), reason)


class _Strict(BaseModel):
    """A section of Switchboard's own: an unknown key is a typo, refused with its path."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ModuleType(StrEnum):
    """Make's module types (``moduleType`` in a local-development ``makecomapp.json``)."""

    ACTION = "action"
    SEARCH = "search"
    TRIGGER = "trigger"
    INSTANT_TRIGGER = "instant_trigger"
    RESPONDER = "responder"
    UNIVERSAL = "universal"


class ActionCrud(StrEnum):
    """What an action does to its records: Make's module action (``actionCrud`` in a
    local-development ``makecomapp.json``)."""

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"


class ConnectionType(StrEnum):
    """How a connection authenticates: Make's ``basic`` (any key or login checked by a test
    request) and ``oauth`` (OAuth 2 authorization code); ``api-key`` is ``basic`` by name."""

    BASIC = "basic"
    API_KEY = "api-key"
    OAUTH = "oauth"


Parameters = list[dict[str, Any]]
"""Make parameter specs (``{"name", "type", "label", "required", "options", "spec", …}``);
checked by ``modules.apps.params``."""

Communication = dict[str, Any] | list[dict[str, Any]]
"""One request specification or several, run in order; checked by ``modules.apps.compile``."""


class ConnectionDefinition(_Strict):
    """One connection of the app (Make's Connection section).

    Attributes:
        type: ``basic`` (Make's name for every non-OAuth connection) or ``oauth``.
        parameters: the connection form; ``password`` fields are stored encrypted.
        communication: ``basic``: the request that tests the connection; ``oauth``: the
            ``authorize``, ``token``, ``refresh``, ``info`` and ``invalidate`` requests.
        scope: the scopes every connection asks for (Make's default scope).
        scopes: the scopes the app knows, scope → label (Make's scope list).
        common: the app's common data (client id and secret of an OAuth app).
    """

    label: str = ""
    type: ConnectionType = ConnectionType.BASIC
    parameters: Parameters = Field(default_factory=list)
    communication: dict[str, Any] = Field(default_factory=dict)
    scope: list[str] = Field(default_factory=list)
    scopes: dict[str, str] = Field(default_factory=dict)
    common: dict[str, Any] = Field(default_factory=dict)


class ModuleDefinition(_Strict):
    """One module of the app.

    Attributes:
        label, description: what the catalogue shows.
        type: Make's module type.
        crud: actions: what the action does to records (create, read, update, delete); none for
            an action that stores nothing the sync log would call written (an API call, a
            completion).
        version: the module version exports carry (informational).
        connection: the connection the module uses (``None``: none; default: the app's).
        webhook: instant triggers: the webhook that feeds them.
        parameters: static parameters (Make's ``parameters``/``static-params``).
        expect: mappable parameters (Make's ``expect``/``mappable-params``).
        interface: the output bundle's fields.
        communication: the requests and the response handling.
        epoch: triggers: the "choose where to start" request (accepted; Switchboard offers its
            own choices).
        scope: OAuth scopes this module needs.
        samples: sample output (shown, never run).
        ignored: Switchboard's own: settings exports carry that the module accepts and does not
            apply, each with its reason (the corpus audit reads them).
    """

    label: str
    description: str = ""
    type: ModuleType
    crud: ActionCrud | None = None
    version: int = 1
    connection: str | bool | None = True
    webhook: str | None = None
    parameters: Parameters = Field(default_factory=list)
    expect: Parameters = Field(default_factory=list)
    interface: Parameters = Field(default_factory=list)
    communication: Communication = Field(default_factory=dict)
    epoch: dict[str, Any] = Field(default_factory=dict)
    scope: list[str] = Field(default_factory=list)
    samples: dict[str, Any] | list[Any] = Field(default_factory=dict)
    ignored: dict[str, str] = Field(default_factory=dict)

    @field_validator("ignored")
    @classmethod
    def _reasons(cls, value: dict[str, str]) -> dict[str, str]:
        for key, reason in value.items():
            if len(reason.strip()) < 10:
                raise ValueError(f"ignored key '{key}' needs its reason")
        return value


class RpcDefinition(_Strict):
    """A remote procedure: a request whose items fill a field's choices (``rpc://name``)."""

    label: str = ""
    connection: str | bool | None = True
    parameters: Parameters = Field(default_factory=list)
    communication: Communication = Field(default_factory=dict)


class WebhookType(StrEnum):
    WEB = "web"  # one address per scenario, registered by attach or by hand
    SHARED = "web-shared"  # one address for every connection (not supported: see the docs)


class WebhookDefinition(_Strict):
    """A webhook feeding instant triggers.

    Attributes:
        communication: how a request becomes bundles (``iterate``, ``output``, ``condition``;
            ``respond`` and ``verification`` are accepted and answered by the ingress as usual).
        attach: the request that registers the webhook's address in the app.
        detach: the request that removes it.
    """

    label: str = ""
    type: WebhookType = WebhookType.WEB
    connection: str | bool | None = True
    parameters: Parameters = Field(default_factory=list)
    communication: dict[str, Any] = Field(default_factory=dict)
    attach: dict[str, Any] | None = None
    detach: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    scope: list[str] = Field(default_factory=list)


class AppDefinition(_Strict):
    """A whole app.

    Attributes:
        name: the app id, the prefix of its module ids (``slack`` → ``slack:CreateMessage``).
        label, description, theme, icon: what the catalogue shows.
        version: the app's version (informational).
        base: what every request inherits (``baseUrl``, ``headers``, ``qs``, ``body``,
            ``response``).
        common: the app's common data (``{{common.x}}``).
        connections: by name; the first is the app's connection kind.
        modules, rpcs, webhooks: by name.
        functions: Make's custom IML functions are JavaScript, which Switchboard does not run:
            a definition that has any is refused with the functions' names.
    """

    name: str = Field(pattern=APP_NAME_PATTERN)
    label: str
    description: str = ""
    version: int = 1
    theme: str = Field(default="#6d6d6d", pattern=r"^#[0-9a-f]{6}$")
    icon: str = "module"
    base: dict[str, Any] = Field(default_factory=dict)
    common: dict[str, Any] = Field(default_factory=dict)
    connections: dict[str, ConnectionDefinition] = Field(default_factory=dict)
    modules: dict[str, ModuleDefinition] = Field(default_factory=dict)
    rpcs: dict[str, RpcDefinition] = Field(default_factory=dict)
    webhooks: dict[str, WebhookDefinition] = Field(default_factory=dict)
    functions: dict[str, Any] = Field(default_factory=dict)

    @field_validator("modules")
    @classmethod
    def _module_names(cls, value: dict[str, ModuleDefinition]) -> dict[str, ModuleDefinition]:
        import re

        for name in value:
            if not re.match(MODULE_NAME_PATTERN, name):
                raise ValueError(f"module name '{name}' must be letters, digits and _")
        return value

    @field_validator("functions")
    @classmethod
    def _no_javascript(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value:
            names = ", ".join(sorted(value))
            raise ValueError(
                f"custom IML functions are JavaScript, which Switchboard does not run ({names}); "
                "replace their calls with built-in functions"
            )
        return value

    @property
    def connection_name(self) -> str | None:
        """The connection the app's connection kind is made of (the first one)."""
        return next(iter(self.connections), None)
