"""Flow control: routers, If-else and Merge, error directives (aggregators: ``aggregators``).

These modules do not compute anything themselves; the runner interprets them from their kind.
Their specs give the editor and the validator their ids, labels and settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.spec import ModuleKind, ModuleSpec


class _Settings(BaseModel):
    model_config = ConfigDict(extra="allow")


class BreakInput(_Settings):
    retry: Any = Field(default=None, title="Retry automatically")
    count: Any = Field(default=None, title="Number of retries")
    interval: Any = Field(default=None, title="Minutes between retries")


def _directive(
    name: str, label: str, input_model: type[BaseModel] = _Settings, **extra: Any
) -> ModuleSpec:
    return ModuleSpec(
        id=f"builtin:{name}", kind=ModuleKind.DIRECTIVE, label=label, input=input_model, **extra
    )


FLOW_CONTROL: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="builtin:BasicRouter",
        kind=ModuleKind.ROUTER,
        label="Router",
        ignored_keys={
            "routes": "some exports repeat the routes in the mapper (module ids and filters); "
            "the router runs the routes of the flow"
        },
    ),
    ModuleSpec(id="builtin:BasicIfElse", kind=ModuleKind.ROUTER, label="If-else"),
    ModuleSpec(id="builtin:BasicMerge", kind=ModuleKind.ROUTER, label="Merge"),
    _directive("Ignore", "Ignore"),
    # Resume's mapper is the substitute output: the fields of the module it stands in for.
    _directive("Resume", "Resume", free_form=frozenset({"mapper"})),
    _directive("Commit", "Commit"),
    _directive("Rollback", "Rollback"),
    _directive("Break", "Break", BreakInput),
)
