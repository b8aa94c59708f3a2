"""Pydantic models of Make's blueprint format (see docs/blueprint-format.md).

Only what Switchboard reads is typed; every other key is kept as it came (``LosslessModel``).
Types are strict so that a value is never silently converted: ``"3"`` where a module id belongs
is reported, not turned into ``3``, and what is exported is exactly what was imported.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from engine.blueprint.lossless import LosslessModel
from engine.filters.codes import OPERATOR_CODES


def _json_scalar(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise ValueError("must be text, a number, a boolean or null, not a collection or array")
    return value


JsonScalar = Annotated[Any, AfterValidator(_json_scalar)]


class Condition(LosslessModel):
    """One comparison ``{a, o, b}``; ``a`` and ``b`` are mapping templates or JSON literals."""

    a: JsonScalar = None
    o: str
    b: JsonScalar = None

    @field_validator("o")
    @classmethod
    def _known_operator(cls, code: str) -> str:
        if code not in OPERATOR_CODES:
            raise ValueError(f"unknown operator '{code}'")
        return code


Conditions = list[list[Condition]]
"""OR over groups, AND within a group."""


class Filter(LosslessModel):
    """The filter on the link into a module. No conditions means it always passes."""

    name: str | None = None
    conditions: Conditions | None = None


class Route(LosslessModel):
    """One route of ``builtin:BasicRouter``."""

    flow: list[FlowItem] = Field(default_factory=list)
    disabled: bool | None = None


class Branch(LosslessModel):
    """One branch of ``builtin:BasicIfElse``: a condition branch or the else branch."""

    type: Literal["condition", "else"]
    label: str | None = None
    conditions: Conditions | None = None
    merge: bool | None = None
    disabled: bool | None = None
    flow: list[FlowItem] = Field(default_factory=list)


class MergeOutput(LosslessModel):
    """One output variable of ``builtin:BasicMerge``: one mapping per branch."""

    name: str
    mappings: list[Any] = Field(default_factory=list)


class FlowItem(LosslessModel):
    """A module instance in a flow. ``id`` is what ``{{id.field}}`` refers to."""

    id: int | None
    module: str
    version: int | None = None
    parameters: dict[str, Any] | None = None
    mapper: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    filter: Filter | None = None
    routes: list[Route] | None = None
    onerror: list[FlowItem] | None = None
    branches: list[Branch] | None = None
    outputs: list[MergeOutput] | None = None
    filters: list[Filter | None] | None = None
    flags: dict[str, Any] | None = None

    @field_validator("module")
    @classmethod
    def _app_colon_name(cls, module: str) -> str:
        app, colon, name = module.partition(":")
        if not (app and colon and name) or any(c.isspace() for c in module):
            raise ValueError(f"module id '{module}' must look like app:ModuleName")
        return module

    @property
    def app(self) -> str:
        """The app part of the module id: ``http`` for ``http:MakeRequest``."""
        return self.module.partition(":")[0]

    @property
    def label(self) -> str | None:
        """The user's name for this module in the designer, if any."""
        designer = (self.metadata or {}).get("designer")
        name = designer.get("name") if isinstance(designer, dict) else None
        return name if isinstance(name, str) else None


class ScenarioSettings(LosslessModel):
    """``metadata.scenario``: the scenario settings (defaults are Make's)."""

    roundtrips: int = 1
    max_errors: int = 3
    auto_commit: bool = True
    auto_commit_trigger_last: bool = True
    sequential: bool = False
    confidential: bool = False
    dataloss: bool = False
    dlq: bool = False
    fresh_variables: bool = False
    slots: Any = None
    timezone: str | None = None  # Switchboard extension; Make keeps it on the organization
    # Switchboard extension: a successful run's record keeps its bundles (``None``: as the
    # installation says, SWITCHBOARD_KEEP_SUCCESSFUL_BUNDLES, by default yes as Make does).
    keep_successful_bundles: bool | None = None


class BlueprintMetadata(LosslessModel):
    """Top-level ``metadata``."""

    version: int = 1
    instant: bool | None = None
    scenario: ScenarioSettings = Field(default_factory=ScenarioSettings)
    zone: str | None = None


class Blueprint(LosslessModel):
    """A Make scenario blueprint: a name, a flow of modules and metadata."""

    name: str
    flow: list[FlowItem]
    metadata: BlueprintMetadata = Field(default_factory=BlueprintMetadata)
    description: str | None = None

    @property
    def settings(self) -> ScenarioSettings:
        return self.metadata.scenario


Route.model_rebuild()
Branch.model_rebuild()
FlowItem.model_rebuild()
