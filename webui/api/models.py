"""The pydantic models of the REST API: every request body and every answer.

``docs/api.md`` is their human summary; ``webui.openapi`` builds ``/api/openapi.json`` from
them. Request models refuse unknown keys (a typo is a 422, not a silent no-op); answers are
built from the store's records by the ``from_*`` helpers in the views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.passwords import MAX_LENGTH as PASSWORD_MAX
from engine.passwords import MIN_LENGTH as PASSWORD_MIN
from engine.passwords import RULE as PASSWORD_RULE
from webui.api.converters import INT4_MAX, INT8_MAX
from webui.auth import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX

JSON = Any

# Ids and offsets the API takes fit the database's columns (PostgreSQL ``integer`` and
# ``bigint``): larger numbers used to reach the driver and answer 500 (``OverflowError``).
DbId = Annotated[int, Field(ge=0, le=INT4_MAX)]
Offset = Annotated[int, Field(ge=0, le=INT8_MAX)]
Email = str


class Request(BaseModel):
    """Base of request bodies: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """Base of answers."""


# -- errors -----------------------------------------------------------------------------------


class ErrorDetail(Answer):
    code: str = Field(examples=["not_found"])
    message: str
    path: str | None = Field(default=None, examples=["flow[3].mapper.url"])
    problems: list[ProblemOut] | None = None


class ErrorBody(Answer):
    error: ErrorDetail


# -- accounts ---------------------------------------------------------------------------------

RoleName = Literal["owner", "editor", "viewer"]


class UserOut(Answer):
    id: int
    email: str
    name: str
    role: RoleName


class PasswordRule(Answer):
    min_length: int = Field(description="characters, not counting whitespace at either end")
    text: str = Field(description="the whole rule, to show where a password is chosen")


class AuthState(Answer):
    needs_setup: bool
    user: UserOut | None
    csrf_token: str | None = Field(
        description="send it as X-CSRF-Token on cookie-authenticated writes"
    )
    password_rule: PasswordRule = PasswordRule(min_length=PASSWORD_MIN, text=PASSWORD_RULE)


NewPassword = Annotated[
    str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, description=PASSWORD_RULE)
]


class SetupIn(Request):
    email: Email = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)
    password: NewPassword


class LoginIn(Request):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class UserIn(SetupIn):
    role: RoleName


class PasswordCheckIn(Request):
    password: str = Field(max_length=PASSWORD_MAX)
    email: str = Field(default="", max_length=320, description="the account's, when known")
    name: str = Field(default="", max_length=200, description="the person's, when known")


class PasswordCheckOut(Answer):
    ok: bool = Field(description="the password rule accepts the password")
    problem: str | None = Field(description="which part of the rule it breaks, as a sentence")


class PasswordChange(Request):
    current_password: str = Field(max_length=PASSWORD_MAX)
    new_password: NewPassword


class UserPatch(Request):
    email: Email | None = Field(
        default=None, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: NewPassword | None = None
    role: RoleName | None = None


class TokenIn(Request):
    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int = Field(
        default=TOKEN_DAYS_DEFAULT,
        ge=1,
        le=TOKEN_DAYS_MAX,
        description="the token stops working this many days after it is made",
    )


class TokenOut(Answer):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime
    expired: bool = False
    token: str | None = Field(default=None, description="only in the answer to POST /api/tokens")


# -- modules and validation -------------------------------------------------------------------


class ModuleOut(Answer):
    id: str = Field(examples=["http:MakeRequest"])
    app: str
    app_label: str
    kind: str
    label: str
    description: str
    version: int
    parameters_schema: dict[str, Any]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    superseded_by: str | None = Field(
        default=None,
        description="the module the catalogue offers instead (an older version or an alias); "
        "this one is not listed there but still opens in imported blueprints",
    )
    output_choice: OutputChoiceOut | None = Field(
        default=None,
        description="an output that depends on a setting: the schema for each of its values",
    )


class OutputChoiceOut(Answer):
    setting: str = Field(
        description="the parameter (else mapped field) whose value picks the output",
        examples=["model"],
    )
    schemas: dict[str, dict[str, Any]] = Field(
        description="the output schema by value, lower case; another value: output_schema"
    )


class RpcIn(Request):
    connection: int | None = Field(
        default=None, description="the stored connection the app calls its API with"
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="the module's values so far (an RPC may read them)"
    )


class OptionOut(Answer):
    label: str
    value: Any


class RpcOut(Answer):
    items: list[OptionOut]
    error: str | None = Field(
        default=None, description="why the app gave no choices (its API refused or failed)"
    )


class AppOut(Answer):
    app: str
    label: str
    color: str = Field(examples=["#6d00cc"])
    icon: str


class ValidateIn(Request):
    blueprint: JSON = Field(description="a blueprint (any accepted wrapper), or its JSON text")


class ProblemOut(Answer):
    path: str
    message: str
    module_id: int | None


class ValidationOut(Answer):
    problems: list[ProblemOut]
    unsupported: dict[str, list[int]]


class PreviewIn(Request):
    template: JSON
    bundles: dict[str, JSON] = Field(default_factory=dict)
    timezone: str = "UTC"


class PreviewError(Answer):
    message: str
    column: int | None


class PreviewOut(Answer):
    value: JSON = None
    error: PreviewError | None = None


class FunctionOut(Answer):
    name: str
    group: str
    signature: str
    description: str


class KeywordOut(Answer):
    name: str
    description: str


class OperatorOut(Answer):
    code: str = Field(description="Make's operator code, as blueprints store it (`text:equal`)")
    label: str = Field(description="as Make's filter editor names it, lower case")
    unary: bool = Field(description="compares nothing: the condition has no `b`")


class OperatorGroupOut(Answer):
    label: str
    operators: list[OperatorOut]


# -- scenarios --------------------------------------------------------------------------------


class LastRun(Answer):
    status: str
    finished_at: datetime | None
    operations: int


class ScenarioOut(Answer):
    id: int
    name: str
    active: bool
    scheduling: dict[str, Any]
    current_version: int
    consecutive_errors: int
    created_at: datetime
    updated_at: datetime
    last_run: LastRun | None = None


class ScenarioDetail(ScenarioOut):
    blueprint: JSON
    validation: ValidationOut


class ScenarioIn(Request):
    name: str = Field(min_length=1, max_length=500)
    blueprint: JSON | None = None


class ScenarioPatch(Request):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    blueprint: JSON | None = None
    scheduling: dict[str, Any] | None = None


class DuplicateIn(Request):
    name: str | None = Field(default=None, min_length=1, max_length=500)


class VersionOut(Answer):
    version: int
    created_at: datetime
    size_bytes: int
    saved_by: str | None = Field(
        default=None, description="who saved it (an email); null when unknown"
    )


class SyncEntryOut(Answer):
    """What became of one record a sync scenario handled (see ``engine.service.synclog``)."""

    status: str
    source_key: str | None
    source_name: str | None
    target_key: str | None
    message: str | None
    at: str | None
    execution_id: str | None
    writes: int
    bundle: int | None = Field(
        default=None, description="which of the execution's trigger bundles the record was"
    )


# -- reconciliation ---------------------------------------------------------------------------


class SyncLinkOut(SyncEntryOut):
    """A scenario's sync-log entry of the record a difference is about."""

    scenario_id: int
    scenario: str


class DifferenceOut(Answer):
    """One way 1CRM and the accounting system disagree (``modules.reconcile.Difference``)."""

    kind: str = Field(description="customer, invoice, payment or credit (unallocated)")
    key: str = Field(description="a customer's name; the accounting system's id otherwise")
    label: str = Field(description="what people call the record (INV-0003, a name)")
    field: str = Field(description="what differs; exists (one side only) or count (twice)")
    crm: JSON = Field(default=None, description="1CRM's value (amounts as exact text)")
    accounting: JSON = Field(default=None, description="the accounting system's value")
    known: str = Field(
        default="",
        description="the library's rule that leaves this difference (unallocated credit: not "
        "synced); empty for a defect. The books balance when every difference is known",
    )
    sync_log: list[SyncLinkOut]


class ReconciledScenarioOut(Answer):
    id: int
    name: str


class ReconciliationOut(Answer):
    """Both sides read and compared record by record (``service.reconcile``)."""

    library: str
    balanced: bool
    checked_at: str
    connections: dict[str, int]
    scenarios: list[ReconciledScenarioOut]
    records: dict[str, dict[str, int]]
    differences: list[DifferenceOut]


class RunIn(Request):
    bundle: dict[str, JSON] | None = None


# -- connections ------------------------------------------------------------------------------


class FieldOut(Answer):
    name: str
    label: str
    secret: bool
    required: bool
    default: JSON = None
    advanced: bool = False
    help: str = ""


class ConnectionKindOut(Answer):
    id: str
    app: str
    label: str
    auth: Literal["basic", "oauth2", "api_key"]
    fields: list[FieldOut]


class ConnectionIn(Request):
    kind: str = Field(description="a connection kind id from GET /api/connection-kinds")
    name: str = Field(min_length=1, max_length=200)
    data: dict[str, JSON] = Field(default_factory=dict)
    secrets: dict[str, JSON] = Field(default_factory=dict)


class ConnectionOut(Answer):
    id: int
    app: str
    kind: str
    name: str
    data: dict[str, JSON]
    created_at: datetime


class ConnectionTestOut(Answer):
    ok: bool
    message: str


# -- webhooks ---------------------------------------------------------------------------------


class WebhookIn(Request):
    name: str = Field(min_length=1, max_length=200)
    scenario_id: DbId | None = None


class WebhookOut(Answer):
    id: int
    name: str
    scenario_id: int | None
    url: str
    enabled: bool
    settings: dict[str, JSON]
    queued: int


# -- runs -------------------------------------------------------------------------------------


class ExecutionOut(Answer):
    id: str
    scenario_id: int
    scenario_version: int
    status: str
    trigger_kind: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    operations: int
    data_size: int
    error: dict[str, JSON] | None


class ExecutionDetail(ExecutionOut):
    record: dict[str, JSON] | None


class ExecutionPage(Answer):
    items: list[ExecutionOut]
    next_cursor: str | None


class IncompleteOut(Answer):
    id: int
    scenario_id: int
    execution_id: str | None
    blueprint_version: int
    failed_module_id: int | None
    status: str
    error: dict[str, JSON]
    attempts: int
    max_attempts: int
    next_retry_at: datetime | None
    created_at: datetime
    updated_at: datetime


# -- data stores ------------------------------------------------------------------------------


class DataStoreIn(Request):
    name: str = Field(min_length=1, max_length=200)
    structure: dict[str, JSON] | None = None
    max_size_bytes: int = Field(default=1_000_000, gt=0, le=1_000_000_000)


class DataStoreOut(Answer):
    id: int
    name: str
    structure: dict[str, JSON] | None
    max_size_bytes: int
    records: int
    size_bytes: int = Field(description="what the records take, against max_size_bytes")
    created_at: datetime
    updated_at: datetime


class RecordOut(Answer):
    key: str
    data: dict[str, JSON]
    size_bytes: int
    created_at: datetime
    updated_at: datetime


class RecordPage(Answer):
    items: list[RecordOut]
    total: int
    next_offset: int | None


class DataStorePatch(Request):
    """Only the keys sent change; ``"structure": null`` removes the data structure."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    structure: dict[str, JSON] | None = None
    max_size_bytes: int | None = Field(
        default=None, gt=0, le=1_000_000_000, description="not below what the records take"
    )


class RecordIn(Request):
    data: dict[str, JSON] = Field(
        description="the record's data, replacing what the key held", examples=[{"n": 1}]
    )


class RecordsDeleted(Answer):
    deleted: int = Field(description="how many records the store held")


# -- query strings ----------------------------------------------------------------------------


class Query(BaseModel):
    """Base of query-string models: unknown parameters are ignored (caches, cache-busters)."""

    model_config = ConfigDict(extra="ignore")


class SyncLogQuery(Query):
    limit: int = Field(default=100, ge=1, le=1000)
    all: bool = False


class ScenarioFilter(Query):
    scenario_id: DbId | None = None


class ExportQuery(Query):
    version: int | None = Field(default=None, ge=1, le=INT4_MAX)


ExecutionStatusName = Literal[
    "queued", "running", "success", "warning", "error", "incomplete", "cancelled"
]


TriggerKindName = Literal["webhook", "schedule", "manual", "retry"]


class ExecutionQuery(Query):
    """``status`` and ``trigger_kind`` may repeat (``?status=error&status=warning``) or list
    values with commas; ``since`` is inclusive, ``until`` exclusive, on the start
    (``started_at``; a run not started yet, ``created_at``), the order pages are listed in."""

    scenario_id: DbId | None = None
    status: list[ExecutionStatusName] = Field(default_factory=list)
    trigger_kind: list[TriggerKindName] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None


class IncompleteQuery(Query):
    scenario_id: DbId | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: Offset = 0


class RecordQuery(Query):
    limit: int = Field(default=50, ge=1, le=500)
    offset: Offset = 0


# -- run, watch and debug ---------------------------------------------------------------------


class ModuleRunIn(Request):
    bundles: dict[str, JSON] = Field(
        default_factory=dict,
        description="the output bundle of each module it maps from, by module id",
        examples=[{"1": {"name": "Ada"}}],
    )
    version: int | None = Field(
        default=None, ge=1, le=INT4_MAX, description="default: the current one"
    )


class ModuleRunOut(Answer):
    module_id: int
    module: str
    status: str = Field(description="success | warning | error | incomplete")
    operations: int
    output: list[JSON] = Field(description="its output bundles")
    error: dict[str, JSON] | None
    duration_ms: float


class RunEvent(Answer):
    """One ``data:`` line of ``GET /api/executions/{id}/events`` (``event:`` names it)."""

    event: Literal["module_started", "module_finished", "finished"]
    execution_id: str
    module_id: int | None = None
    operations: int = Field(description="the run's operations so far")
    module_operations: int | None = Field(default=None, description="this module's so far")
    error: dict[str, JSON] | None = None
    seq: int | None = None
    status: str | None = Field(default=None, description="on finished")
    finished_at: datetime | None = None
    duration_ms: int | None = None


QueueStatusName = Literal["queued", "claimed", "done", "failed", "all"]


class QueueQuery(Query):
    status: QueueStatusName = "queued"
    limit: int = Field(default=100, ge=1, le=500)
    offset: Offset = 0


class QueueItemOut(Answer):
    id: int
    webhook_id: int
    size: int = Field(description="bytes of the stored request")
    received_at: datetime
    status: str
    attempts: int
    execution_id: str | None
    finished_at: datetime | None
    error: dict[str, JSON] | None


class QueueItemDetail(QueueItemOut):
    request: dict[str, JSON] = Field(
        description="method, headers, query, body, content type as received"
    )


class ProcessedOut(Answer):
    dispatched: int


class IncompleteDetail(IncompleteOut):
    state: JSON = Field(description="{module_id, bundles: {id: bundle}, error, retry}")


class IncompletePatch(Request):
    state: dict[str, JSON] | None = None
    blueprint_version: int | None = Field(default=None, ge=1, le=INT4_MAX)


class BulkRetryIn(Request):
    ids: list[DbId] = Field(default_factory=list, max_length=1000)
    scenario_id: DbId | None = Field(default=None, description="every pending one of it")


class BulkRetryOut(Answer):
    queued: list[ExecutionOut]
    skipped: list[int] = Field(description="being retried, resolved or unknown")


class DashboardQuery(Query):
    days: int = Field(default=14, ge=1, le=366)


class DayOut(Answer):
    day: str = Field(examples=["2026-03-02"])
    runs: int
    operations: int
    errors: int


class ScenarioDaysOut(Answer):
    scenario_id: int
    name: str | None
    days: list[DayOut]


class DashboardOut(Answer):
    since: datetime
    until: datetime
    days: list[str]
    scenarios: list[ScenarioDaysOut]
    totals: list[DayOut]
    active_scenarios: int
    queue_depth: int
    workers_online: int
    workers: list[str]


ErrorDetail.model_rebuild()
