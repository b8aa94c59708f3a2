"""The module contract: what a module declares so the engine can compile, show and run it.

A module is data plus a small function. ``ModuleSpec`` carries its Make-compatible id, its kind,
its label, pydantic models for its static parameters, its mapped input and its output, and
``run``. Flow-control modules (router, iterator, aggregator, directives …) are interpreted by the
runner from their ``kind``; every other module does its work in ``run``.

A spec also states facts the engine reads instead of guessing from names: what the module does
to the records of the system it talks to (``effect``: create, update, search …) and which
fields of its output identify and name a record (``naming``). The sync log and reconciliation
rely on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict


class ModuleKind(StrEnum):
    """What a module is to the runner and to the editor."""

    TRIGGER = "trigger"  # polling: runs first, once per cycle, keeps a cursor
    INSTANT_TRIGGER = "instant_trigger"  # fed by a webhook
    SEARCH = "search"  # 0..N bundles per input, optional "continue when no results"
    ACTION = "action"  # one bundle per input (or none)
    ROUTER = "router"  # builtin:BasicRouter, If-else and Merge
    ITERATOR = "iterator"  # one bundle per array element
    AGGREGATOR = "aggregator"  # many bundles of its feeder's run into one (or one per group)
    RESPONDER = "responder"  # answers the webhook that started the run
    DIRECTIVE = "directive"  # Ignore, Resume, Commit, Rollback, Break


class Empty(BaseModel):
    """Parameters or input of a module that takes none; unknown keys are kept, not refused."""

    model_config = ConfigDict(extra="allow")


Bundle = Mapping[str, Any]


def choice(default: Any, options: Mapping[Any, str], *, title: str, **field: Any) -> Any:
    """A field the editor shows as a select of ``options`` (value → label, in order), as Make's
    ``select`` parameters: the schema carries ``enum`` (the values) and ``x-enum-labels`` (their
    labels, in the same order). Annotated ``str``, the model still accepts any value, so a
    mapped expression (``{{1.method}}``) or an older export's spelling (``GET``) keeps working;
    the module reads it as it always did. Annotated with a ``Literal`` of the same values, it
    refuses others as before and only gains the labels."""
    extra: JsonDict = {"enum": list(options), "x-enum-labels": list(options.values())}
    return Field(default, title=title, json_schema_extra=extra, **field)


class Effect(StrEnum):
    """What a module does to the records of the system it talks to.

    The sync log counts a record as written when a module with a write effect
    (``WRITE_EFFECTS``) succeeded for it; nothing reads a module's name to decide that.
    """

    WATCH = "watch"  # outputs records that are new or changed (triggers, webhooks)
    READ = "read"  # reads one record by its key
    SEARCH = "search"  # finds records by criteria: none, one or many
    CREATE = "create"  # makes a record (or an allocation, a line …)
    UPDATE = "update"  # changes a record
    UPSERT = "upsert"  # updates the record that matches, or creates it
    DELETE = "delete"  # removes a record (or all of them)
    CALL = "call"  # an arbitrary request whose effect its input decides (HTTP): not a write
    COMPUTE = "compute"  # works on its input and the run's own state only
    CONTROL = "control"  # routes, splits, collects, answers a webhook or ends an error route


WRITE_EFFECTS: frozenset[Effect] = frozenset(
    {Effect.CREATE, Effect.UPDATE, Effect.UPSERT, Effect.DELETE}
)


NamingField = str | tuple[str, ...]
"""A field, or fields whose values are written one after the other (``("prefix",
"invoice_number")`` reads ``INV-`` and ``1003`` as ``INV-1003``); such a field has a value
when its last part has one."""


@dataclass(frozen=True)
class OutputChoice:
    """An output that depends on one of the module's settings, as a 1CRM trigger's record
    fields depend on the record type it watches.

    The value of ``setting`` (in the module's parameters, else its mapper) picks a model of
    ``outputs``, compared without case and surrounding spaces; no value, an expression or a
    value ``outputs`` lacks leaves the spec's own ``output``.
    """

    setting: str
    outputs: Mapping[str, type[BaseModel]]

    def pick(self, value: Any) -> type[BaseModel] | None:
        """The model ``value`` picks, or ``None``."""
        if not isinstance(value, str):
            return None
        return self.by_key.get(value.strip().lower())

    @property
    def by_key(self) -> dict[str, type[BaseModel]]:
        """``outputs`` by their keys as compared: lower case, without surrounding spaces."""
        return {key.strip().lower(): model for key, model in self.outputs.items()}


@dataclass(frozen=True)
class RecordNaming:
    """Which output fields identify a record and which name it for people, in the order tried.

    Declared by each app's modules (Xero: ``ContactID`` … and ``Name``, ``InvoiceNumber`` …),
    so nothing outside the app knows its field names. A module without a declaration is read
    with ``GENERIC_NAMING`` (``id`` and ``name``).
    """

    key: tuple[NamingField, ...] = ()
    name: tuple[NamingField, ...] = ()

    def key_of(self, bundle: Any) -> str | None:
        """The record's key in ``bundle``, as text; ``None`` when no key field has a value."""
        return _first_value(bundle, self.key)

    def name_of(self, bundle: Any) -> str | None:
        """The record's name, number or reference in ``bundle``, as text, or ``None``."""
        return _first_value(bundle, self.name)


GENERIC_NAMING = RecordNaming(key=("id",), name=("name",))
"""How a record is named by a module that declares nothing (webhooks, tools): ``id``, ``name``."""


def _first_value(bundle: Any, fields: Sequence[NamingField]) -> str | None:
    if not isinstance(bundle, Mapping):
        return None
    for name in fields:
        parts = [name] if isinstance(name, str) else list(name)
        values = [_scalar(bundle.get(part)) for part in parts]
        if values and values[-1] is not None:
            return "".join(value for value in values if value is not None)
    return None


def _scalar(value: Any) -> str | None:
    if value in (None, "", [], {}) or isinstance(value, Mapping | list):
        return None
    return str(value)


@dataclass(frozen=True)
class ModuleCall:
    """One operation of a module: its validated settings and input, and the run's context.

    Attributes:
        module_id: the module's id in the blueprint.
        parameters: the static parameters, validated by the spec's ``parameters`` model.
        input: the mapped input for this bundle, validated by the spec's ``input`` model.
        context: the execution context (HTTP session, connections, data stores, clock …) the
            runner hands to modules; its type is the runner's ``ModuleContext``.
    """

    module_id: int
    parameters: BaseModel
    input: BaseModel
    context: Any = None

    def input_as(self, model: type[Model]) -> Model:
        """``input`` as the model the module's spec declares: the runner validated it into
        that model, so this tells the type checker what ``run`` already knows.

        Raises:
            TypeError: it is another model (the spec and its ``run`` disagree: a bug).
        """
        return as_model(self.input, model, "input")

    def parameters_as(self, model: type[Model]) -> Model:
        """``parameters`` as the spec's ``parameters`` model (see ``input_as``)."""
        return as_model(self.parameters, model, "parameters")


Model = TypeVar("Model", bound=BaseModel)


def as_model(value: BaseModel, model: type[Model], what: str = "value") -> Model:
    """``value`` typed as ``model`` (an instance of it or of a subclass).

    Raises:
        TypeError: it is another model.
    """
    if not isinstance(value, model):
        raise TypeError(f"the module's {what} is {type(value).__name__}, not {model.__name__}")
    return value


RunFunction = Callable[[ModuleCall], Iterable[Bundle]]

AggregateFunction = Callable[[Sequence[Any], Mapping[str, Any]], Mapping[str, Any]]
"""``aggregate(items, parameters)`` → an aggregator's output bundle: ``items`` are the
aggregator's evaluated mapper, one per bundle that reached it (``{}`` for an empty mapper)."""


@dataclass(frozen=True, kw_only=True)
class ModuleSpec:
    """Everything the engine knows about one module type.

    ``run`` yields the module's output bundles for one input bundle (none, one or many);
    raising a ``engine.errors.ModuleError`` hands the bundle to the module's error route.

    Attributes:
        effect: what the module does to records; ``CONTROL`` by default for routers,
            iterators, aggregators, directives and responders, else ``None``: undeclared, which
            the registry test refuses for Switchboard's own modules.
        naming: which output fields identify and name a record (``None``: ``GENERIC_NAMING``).
        output_choice: an output that depends on a setting (``output_for``); ``output`` is
            what any other value of that setting outputs.
        aggregate: for aggregators, shapes the collected items into the output bundle (the
            Array aggregator's ``array``, the Text aggregator's ``text`` …); ``None``: an array.
        free_form: the sections (``"parameters"``, ``"mapper"``) whose keys are the user's own
            names — an aggregator's fields, Create JSON's structure — rather than settings.
        ignored_keys: settings Make exports that this module accepts and deliberately ignores,
            each with the reason (shown in the module's docs; the corpus audit checks that
            every exported key is either a field of the module's models or listed here).
        superseded_by: the module the catalogue offers instead of this one (an older version
            or an alias, kept so imported blueprints run and show): the catalogue does not list
            it, as Make offers only the current "Make a request" or "Set variable".
    """

    id: str
    kind: ModuleKind
    label: str
    version: int = 1
    description: str = ""
    run: RunFunction | None = None
    parameters: type[BaseModel] = Empty
    input: type[BaseModel] = Empty
    output: type[BaseModel] | None = None
    output_choice: OutputChoice | None = None
    hooks: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    effect: Effect | None = None
    naming: RecordNaming | None = None
    aggregate: AggregateFunction | None = None
    free_form: frozenset[str] = frozenset()
    ignored_keys: Mapping[str, str] = field(default_factory=dict)
    superseded_by: str | None = None

    @property
    def app(self) -> str:
        return self.id.partition(":")[0]

    def output_for(
        self, parameters: Mapping[str, Any] | None, mapper: Mapping[str, Any] | None = None
    ) -> type[BaseModel] | None:
        """The output model of a module with these settings: ``output_choice``'s pick, else
        ``output``."""
        if self.output_choice is not None:
            name = self.output_choice.setting
            value = (parameters or {}).get(name) or (mapper or {}).get(name)
            picked = self.output_choice.pick(value)
            if picked is not None:
                return picked
        return self.output

    @property
    def writes(self) -> bool:
        """Whether the module creates, updates, upserts or deletes records."""
        return self.effect in WRITE_EFFECTS

    @property
    def record_naming(self) -> RecordNaming:
        """The declared naming, or ``GENERIC_NAMING``."""
        return self.naming or GENERIC_NAMING

    def __post_init__(self) -> None:
        app, _, name = self.id.partition(":")
        if not app or not name:
            raise ValueError(f"module id '{self.id}' must look like app:ModuleName")
        interpreted = self.kind in _INTERPRETED_KINDS
        if self.run is None and not interpreted:
            raise ValueError(f"module {self.id} of kind {self.kind} needs a run function")
        if self.effect is None and self.kind in _CONTROL_KINDS:
            # Routers, iterators, aggregators, directives and responders touch no records.
            object.__setattr__(self, "effect", Effect.CONTROL)


_INTERPRETED_KINDS = frozenset(
    {ModuleKind.ROUTER, ModuleKind.ITERATOR, ModuleKind.AGGREGATOR, ModuleKind.DIRECTIVE}
)
_CONTROL_KINDS = _INTERPRETED_KINDS | {ModuleKind.RESPONDER}
"""Kinds whose effect is ``CONTROL`` unless they declare another."""


# -- apps ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AppInfo:
    """How the catalogue shows an app whose modules a package registers (an app defined as
    data names its own; the built-in apps' are the catalogue's).

    Attributes:
        id: the app id, the prefix of its module ids.
        label, description: shown in the catalogue.
        color: the app's colour (``#rrggbb``).
        icon: the name of an icon the editor knows (``module`` when it knows none).
    """

    id: str
    label: str
    color: str = "#6d6d6d"
    icon: str = "module"
    description: str = ""


# -- connections ------------------------------------------------------------------------------


class AuthType(StrEnum):
    """How a connection authenticates; stored as the connection's ``kind`` in the store."""

    BASIC = "basic"  # username + password on every request
    OAUTH2 = "oauth2"  # authorization code grant, refreshed access tokens
    API_KEY = "api-key"  # a key in a header or the query


@dataclass(frozen=True, kw_only=True)
class ConnectionField:
    """One field of a connection form.

    Attributes:
        name: key in the connection's ``data`` (public) or ``secrets`` (when ``secret``).
        label: shown in the connection dialog.
        secret: stored encrypted, never shown again, never logged or put in an execution.
        required: the connection cannot be created without it.
        default: used when the form leaves it empty (e.g. a vendor's real API URL).
        advanced: hidden behind "Show advanced settings" (base URLs for the sandboxes …).
        help: one sentence under the field.
    """

    name: str
    label: str
    secret: bool = False
    required: bool = True
    default: Any = None
    advanced: bool = False
    help: str = ""


@dataclass(frozen=True, kw_only=True)
class OAuth2Settings:
    """An app's OAuth2 authorization-code endpoints and scopes.

    A connection's public ``data`` may override ``authorize_url`` and ``token_url`` (keys of
    the same names), which is how a connection is pointed at a local sandbox.

    Attributes:
        authorize_url: where the user's browser is sent to consent.
        token_url: where codes and refresh tokens are exchanged (client auth: HTTP Basic).
        scopes: requested scopes, joined with spaces.
        scopes_for: when set, the scopes for one connection's public ``data`` instead of
            ``scopes`` (Xero: granular scopes for apps created from 2 March 2026, the broad
            legacy ones for older apps); raises ``InvalidConfigurationError`` on a bad choice.
        rotates_refresh_token: the provider issues a new refresh token on every refresh (Xero);
            the old one dies, so two refreshes at once lose the grant unless serialised.
        extra_authorize_params: added to the authorize URL (``prompt``, ``access_type`` …).
        client_auth: how the token endpoint wants the client: ``basic`` (HTTP Basic, the
            RFC's default) or ``form`` (``client_id``/``client_secret`` in the body: Zoho).
        token_data_keys: keys of the code exchange's answer that are public connection data
            (Zoho's ``api_domain``), not secrets.
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    scopes_for: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None
    rotates_refresh_token: bool = True
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    client_auth: str = "basic"
    token_data_keys: tuple[str, ...] = ()

    def endpoints(self, data: Mapping[str, Any]) -> tuple[str, str]:
        """The (authorize, token) URLs for a connection with public ``data``."""
        return (
            str(data.get("authorize_url") or self.authorize_url),
            str(data.get("token_url") or self.token_url),
        )

    def requested_scopes(self, data: Mapping[str, Any]) -> tuple[str, ...]:
        """The scopes to ask for when a connection with public ``data`` signs in."""
        return self.scopes_for(data) if self.scopes_for is not None else self.scopes


ConnectionTest = Callable[[Any, Any], Mapping[str, Any]]
"""``test(resolved_connection, session)`` → facts to show (account name …); raises a
``ModuleError`` (``AccountValidationError`` for refused credentials) when the connection fails."""


class CheckVerdict(StrEnum):
    """How one fact about a real account sits with what the app's modules assume."""

    OK = "ok"
    WARNING = "warning"  # works, but something a user should know (a missing optional scope)
    PROBLEM = "problem"  # a module will fail or write wrong data until it is fixed


@dataclass(frozen=True, kw_only=True)
class CheckFinding:
    """One read-only observation of ``switchboard connection check``.

    Attributes:
        subject: what was looked at ("scopes", "tax rate OUTPUT2", "currency USD").
        verdict: whether the modules' assumption holds.
        expected: what the modules assume.
        found: what the account has.
        hint: what the user can do about it (empty when the verdict is ok).
    """

    subject: str
    verdict: CheckVerdict
    expected: str = ""
    found: str = ""
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "subject": self.subject,
            "verdict": self.verdict.value,
            "expected": self.expected,
            "found": self.found,
            "hint": self.hint,
        }


ConnectionCheck = Callable[[Any, Any], Sequence[CheckFinding]]
"""``check(resolved_connection, session)`` → findings about the real account, made with
read-only calls only (scopes granted, tax codes, currencies, custom fields the modules use);
raises a ``ModuleError`` when the account cannot be reached at all."""

AuthorizedHook = Callable[[Mapping[str, Any], str, Any], Mapping[str, Any]]
"""``on_authorized(data, access_token, session)`` → public data to add after a code exchange
(Xero: the tenants the grant reaches and the one selected)."""


@dataclass(frozen=True, kw_only=True)
class ConnectionKind:
    """Everything the engine knows about one app's connections (``xero``, ``onecrm`` …).

    Registered like modules (``ModuleRegistry.register_connection_kind``); a stored connection
    whose ``app`` is this ``id`` is resolved with it. The engine never imports the app's module
    package: ``test``, ``check`` and ``on_authorized`` are the app's code, called through this spec.

    Attributes:
        id: the app id, equal to the prefix of the app's module ids and the store's ``app``.
        label: shown in the UI ("Xero", "1CRM").
        auth: how the connection authenticates.
        fields: the connection form; which values are secret.
        oauth2: endpoints and scopes, for ``AuthType.OAUTH2``.
        test: the "Test connection" call.
        check: read-only calls that report where a real account differs from what the
            app's modules assume (``switchboard connection check``).
        on_authorized: runs once after the OAuth2 code exchange (tenant selection).
        callback_data: public data from the OAuth2 callback's query parameters, read before
            the code exchange (QuickBooks' ``realmId``, Zoho's data centre).
    """

    id: str
    label: str
    auth: AuthType
    fields: tuple[ConnectionField, ...] = ()
    oauth2: OAuth2Settings | None = None
    test: ConnectionTest | None = None
    check: ConnectionCheck | None = None
    on_authorized: AuthorizedHook | None = None
    callback_data: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not self.id or ":" in self.id:
            raise ValueError(f"connection kind id '{self.id}' must be a bare app id like 'xero'")
        if (self.auth is AuthType.OAUTH2) != (self.oauth2 is not None):
            raise ValueError(f"connection kind {self.id}: oauth2 settings go with auth oauth2 only")

    def split_values(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Form values (defaults filled in) split into (public data, secrets).

        Raises:
            ValueError: a required field is missing (the message names it, never its value).
        """
        data: dict[str, Any] = {}
        secrets: dict[str, Any] = {}
        for spec_field in self.fields:
            value = values.get(spec_field.name)
            if value in (None, ""):
                value = spec_field.default
            if value in (None, "") and spec_field.required:
                raise ValueError(f"{self.label} connection: '{spec_field.label}' is required")
            if value not in (None, ""):
                (secrets if spec_field.secret else data)[spec_field.name] = value
        return data, secrets
