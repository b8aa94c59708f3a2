"""Flow control: routers, If-else and Merge, iterator, aggregators, error directives.

These modules do not compute anything themselves; the runner interprets them from their kind.
Their specs give the editor and the validator their ids, labels and settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.spec import Effect, ModuleKind, ModuleSpec


class _Settings(BaseModel):
    model_config = ConfigDict(extra="allow")


class AggregatorParameters(_Settings):
    """``parameters`` of every aggregator: the module whose bundles it collects."""

    feeder: int


class BreakInput(_Settings):
    retry: Any = None
    count: Any = None
    interval: Any = None


def _directive(name: str, label: str, input_model: type[BaseModel] = _Settings) -> ModuleSpec:
    return ModuleSpec(
        id=f"builtin:{name}",
        kind=ModuleKind.DIRECTIVE,
        label=label,
        input=input_model,
        effect=Effect.CONTROL,
    )


FLOW_CONTROL: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="builtin:BasicRouter", kind=ModuleKind.ROUTER, label="Router", effect=Effect.CONTROL
    ),
    ModuleSpec(
        id="builtin:BasicIfElse", kind=ModuleKind.ROUTER, label="If-else", effect=Effect.CONTROL
    ),
    ModuleSpec(
        id="builtin:BasicMerge", kind=ModuleKind.ROUTER, label="Merge", effect=Effect.CONTROL
    ),
    ModuleSpec(
        id="builtin:BasicAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Array aggregator",
        parameters=AggregatorParameters,
        effect=Effect.CONTROL,
    ),
    ModuleSpec(
        id="util:TextAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Text aggregator",
        parameters=AggregatorParameters,
        effect=Effect.CONTROL,
    ),
    ModuleSpec(
        id="util:NumericalAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Numeric aggregator",
        parameters=AggregatorParameters,
        effect=Effect.CONTROL,
    ),
    _directive("Ignore", "Ignore"),
    _directive("Resume", "Resume"),
    _directive("Commit", "Commit"),
    _directive("Rollback", "Rollback"),
    _directive("Break", "Break", BreakInput),
)
