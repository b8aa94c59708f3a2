"""What the editor draws from: modules with their JSON Schemas, app groups, IML functions,
blueprint validation and expression previews."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from flask import Response

from engine.blueprint import read_document
from engine.errors import BlueprintError, ModuleError
from engine.filters import OPERATOR_GROUPS, OPERATOR_LABELS, UNARY_OPERATORS
from engine.graph import ValidationReport, validate_blueprint
from engine.mapping import FUNCTIONS, KEYWORD_HELP, KEYWORDS
from engine.mapping.functions import FunctionSpec
from engine.registry import ModuleRegistry
from engine.spec import ModuleSpec, OutputChoice
from webui.api.models import (
    AppOut,
    FunctionOut,
    KeywordOut,
    ModuleOut,
    OperatorGroupOut,
    OperatorOut,
    OptionOut,
    OutputChoiceOut,
    PreviewError,
    PreviewIn,
    PreviewOut,
    ProblemOut,
    RpcIn,
    RpcOut,
    ValidateIn,
    ValidationOut,
)
from webui.api.routing import answer, json_body, route
from webui.app import current_service


@dataclass(frozen=True)
class AppInfo:
    label: str
    color: str
    icon: str


APPS: dict[str, AppInfo] = {
    "builtin": AppInfo("Flow Control", "#8a8a8a", "flow"),
    "gateway": AppInfo("Webhooks", "#c73a63", "webhook"),
    "http": AppInfo("HTTP", "#008ad1", "globe"),
    "json": AppInfo("JSON", "#5c5c5c", "braces"),
    "datastore": AppInfo("Data store", "#41a44c", "database"),
    "util": AppInfo("Tools", "#7d4cdb", "wrench"),
    "regexp": AppInfo("Text parser", "#7d4cdb", "text"),
    "xml": AppInfo("XML", "#5c5c5c", "code"),
    "csv": AppInfo("CSV", "#5c5c5c", "table"),
    "markdown": AppInfo("Markdown", "#5c5c5c", "markdown"),
    "rss": AppInfo("RSS", "#f26522", "globe"),
    "email": AppInfo("Email", "#2f6fdf", "mail"),
    "scenario-service": AppInfo("Scenarios", "#8a8a8a", "flow"),
    "onecrm": AppInfo("1CRM", "#e2701b", "onecrm"),
    "xero": AppInfo("Xero", "#13b5ea", "xero"),
    "quickbooks": AppInfo("QuickBooks", "#2ca01c", "quickbooks"),
    "zohocrm": AppInfo("Zoho CRM", "#e42527", "zohocrm"),
}
"""Catalogue groups of the built-in apps and connectors, one per app id. An app defined as data
brings its own (``registry.apps``); others show under their id, in grey."""

_UNKNOWN_COLOR = "#9e9e9e"


def app_info(app: str, registry: ModuleRegistry | None = None) -> AppInfo:
    if app in APPS:
        return APPS[app]
    described = (registry.apps if registry is not None else {}).get(app)
    if described is not None:
        return AppInfo(described.label, described.color, described.icon)
    return AppInfo(app, _UNKNOWN_COLOR, "module")


def _registry() -> ModuleRegistry:
    return current_service().registry


def module_out(spec: ModuleSpec, registry: ModuleRegistry | None = None) -> ModuleOut:
    return ModuleOut(
        id=spec.id,
        app=spec.app,
        app_label=app_info(spec.app, registry).label,
        kind=spec.kind.value,
        label=spec.label,
        description=spec.description,
        version=spec.version,
        parameters_schema=spec.parameters.model_json_schema(),
        input_schema=spec.input.model_json_schema(),
        output_schema=spec.output.model_json_schema() if spec.output is not None else None,
        output_choice=_output_choice(spec.output_choice),
        superseded_by=spec.superseded_by,
    )


def _output_choice(choice: OutputChoice | None) -> OutputChoiceOut | None:
    if choice is None:
        return None
    schemas = {key: model.model_json_schema() for key, model in choice.by_key.items()}
    return OutputChoiceOut(setting=choice.setting, schemas=schemas)


@route("/modules", "GET", answer=list[ModuleOut])
def list_modules() -> Response:
    """Every installed module with the JSON Schemas of its parameters, input and output."""
    registry = _registry()
    return answer([module_out(spec, registry) for spec in registry.values()])


@route("/modules/<module_id>/rpcs/<rpc>", "POST", body=RpcIn, answer=RpcOut)
def load_options(module_id: str, rpc: str) -> Response:
    """The choices of a select an app fills by a request (its RPC ``rpc``, named by the
    field's ``x-make-rpc`` in the module's schema); a refusal of the app is an answer
    (``error``), not an error."""
    data = json_body(RpcIn)
    try:
        items = current_service().module_options(
            module_id, rpc, connection_id=data.connection, parameters=data.parameters
        )
    except ModuleError as error:
        return answer(RpcOut(items=[], error=error.message))
    return answer(RpcOut(items=[OptionOut(**item) for item in items]))


@route("/apps", "GET", answer=list[AppOut])
def list_apps() -> Response:
    """The catalogue's app groups (apps with modules or connections here), with colours."""
    registry = _registry()
    present = {spec.app for spec in registry.values()}
    present |= set(getattr(registry, "connection_kinds", {}))
    ordered = [app for app in APPS if app in present] + sorted(present - APPS.keys())
    return answer([_app_out(app, registry) for app in ordered])


def _app_out(app: str, registry: ModuleRegistry) -> AppOut:
    info = app_info(app, registry)
    return AppOut(app=app, label=info.label, color=info.color, icon=info.icon)


@route("/validate", "POST", body=ValidateIn, answer=ValidationOut)
def validate() -> Response:
    """Every problem of a blueprint (with its path) and the modules this installation lacks."""
    given = json_body(ValidateIn)
    return answer(validation_of(given.blueprint, _registry()))


def validation_of(source: Any, registry: ModuleRegistry) -> ValidationOut:
    """``POST /api/validate``'s answer for a blueprint in any accepted wrapper, or its text."""
    try:
        document = read_document(source)
    except BlueprintError as error:
        return ValidationOut(problems=[_problem(p) for p in error.problems], unsupported={})
    return report_out(validate_blueprint(document.blueprint, registry))


def report_out(report: ValidationReport) -> ValidationOut:
    return ValidationOut(
        problems=[_problem(problem) for problem in report.problems],
        unsupported={module: list(ids) for module, ids in report.unsupported.items()},
    )


def _problem(problem: Any) -> ProblemOut:
    return ProblemOut(path=problem.path, message=problem.message, module_id=problem.module_id)


@route("/expressions/preview", "POST", body=PreviewIn, answer=PreviewOut)
def preview_expression() -> Response:
    """Evaluate a mapping template against sample bundles (keys are module ids), within the
    preview's limits (``engine.service.preview``: 422 ``limit_exceeded`` past one)."""
    given = json_body(PreviewIn)
    preview = current_service().preview_expression(given.template, given.bundles, given.timezone)
    if preview.error is not None:
        return answer(PreviewOut(error=PreviewError(message=preview.error, column=preview.column)))
    return answer(PreviewOut(value=preview.value))


@route("/functions", "GET", answer=list[FunctionOut])
def list_functions() -> Response:
    """The IML functions for the function picker, by group then name."""
    specs = sorted(FUNCTIONS.values(), key=lambda spec: (spec.category, spec.name.lower()))
    return answer([_function_out(spec) for spec in specs])


@route("/keywords", "GET", answer=list[KeywordOut])
def list_keywords() -> Response:
    """The IML keywords (``now``, ``timestamp``, ``emptystring``, ``null`` …) the parser knows,
    for the mapping panel's Keywords tab: the parser's own table, so the list cannot drift."""
    return answer([KeywordOut(name=name, description=KEYWORD_HELP[name]) for name in KEYWORDS])


@route("/operators", "GET", answer=list[OperatorGroupOut])
def list_operators() -> Response:
    """Make's filter operators, grouped and ordered as its filter editor shows them."""
    return answer(
        [
            OperatorGroupOut(label=label, operators=[_operator_out(code) for code in codes])
            for label, codes in OPERATOR_GROUPS
        ]
    )


def _operator_out(code: str) -> OperatorOut:
    return OperatorOut(code=code, label=OPERATOR_LABELS[code], unary=code in UNARY_OPERATORS)


def _function_out(spec: FunctionSpec) -> FunctionOut:
    return FunctionOut(
        name=spec.name,
        group=spec.category,
        signature=signature_of(spec),
        description=" ".join((spec.impl.__doc__ or "").split()),
    )


def signature_of(spec: FunctionSpec) -> str:
    """``name(a; b; [c])`` as Make writes it: optional arguments in brackets."""
    parameters = list(inspect.signature(spec.impl).parameters.values())[1:]  # skip ctx
    parts: list[str] = []
    for index, parameter in enumerate(parameters):
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            parts.append(f"[{parameter.name}…]")
        elif index >= spec.min_args:
            parts.append(f"[{parameter.name}]")
        else:
            parts.append(parameter.name)
    return f"{spec.name}({'; '.join(parts)})"
