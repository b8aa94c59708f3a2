"""Run variables: set and get values across routes, per cycle or per execution.

``util:SetVariable``/``util:GetVariable`` are the first versions of Set/Get variable, still in
older exports; they read the same mapper (``name``, ``scope``, ``value``) as version 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, choice

if TYPE_CHECKING:
    from engine.runtime.context import RunVariables

Scope = Literal["roundtrip", "execution"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="allow")


_LIFETIMES = {"roundtrip": "One cycle", "execution": "One execution"}
"""Each ``Scope`` and the label Make shows for it."""


class SetVariableInput(_Input):
    # Titles are the labels Make shows (its exports' metadata.expect).
    name: str = Field(title="Variable name")
    scope: Scope = choice("roundtrip", _LIFETIMES, title="Variable lifetime")
    value: Any = Field(default=None, title="Variable value")


class NamedValue(_Input):
    name: str = Field(title="Variable name")
    value: Any = Field(default=None, title="Variable value")


class SetVariablesInput(_Input):
    variables: list[NamedValue] = []
    scope: Scope = choice("roundtrip", _LIFETIMES, title="Variable lifetime")


class GetVariableInput(_Input):
    name: str = Field(title="Variable name")


class VariableName(_Input):
    name: str = Field(title="Variable name")


class GetVariablesInput(_Input):
    variables: list[VariableName] = []


def _variables(call: ModuleCall) -> RunVariables:
    return call.context.variables


def set_variable(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(SetVariableInput)
    _variables(call).set(data.name, data.value, data.scope)
    yield {data.name: data.value}


def set_variables(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(SetVariablesInput)
    for variable in data.variables:
        _variables(call).set(variable.name, variable.value, data.scope)
    yield {variable.name: variable.value for variable in data.variables}


def get_variable(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(GetVariableInput)
    yield {data.name: _variables(call).get(data.name)}


def get_variables(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(GetVariablesInput)
    variables = _variables(call)
    yield {variable.name: variables.get(variable.name) for variable in data.variables}


VARIABLES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="util:SetVariable2",
        kind=ModuleKind.ACTION,
        label="Set variable",
        input=SetVariableInput,
        run=set_variable,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="util:SetVariable",
        kind=ModuleKind.ACTION,
        label="Set variable (version 1)",
        input=SetVariableInput,
        run=set_variable,
        effect=Effect.COMPUTE,
        superseded_by="util:SetVariable2",
    ),
    ModuleSpec(
        id="util:SetVariables",
        kind=ModuleKind.ACTION,
        label="Set multiple variables",
        input=SetVariablesInput,
        run=set_variables,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="util:GetVariable2",
        kind=ModuleKind.ACTION,
        label="Get variable",
        input=GetVariableInput,
        run=get_variable,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="util:GetVariable",
        kind=ModuleKind.ACTION,
        label="Get variable (version 1)",
        input=GetVariableInput,
        run=get_variable,
        effect=Effect.COMPUTE,
        superseded_by="util:GetVariable2",
    ),
    ModuleSpec(
        id="util:GetVariables",
        kind=ModuleKind.ACTION,
        label="Get multiple variables",
        input=GetVariablesInput,
        run=get_variables,
        effect=Effect.COMPUTE,
    ),
)
