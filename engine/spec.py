"""The module contract: what a module declares so the engine can compile, show and run it.

A module is data plus a small function. ``ModuleSpec`` carries its Make-compatible id, its kind,
its label, pydantic models for its static parameters, its mapped input and its output, and
``run``. Flow-control modules (router, iterator, aggregator, directives …) are interpreted by the
runner from their ``kind``; every other module does its work in ``run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


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


RunFunction = Callable[[ModuleCall], Iterable[Bundle]]


@dataclass(frozen=True, kw_only=True)
class ModuleSpec:
    """Everything the engine knows about one module type.

    ``run`` yields the module's output bundles for one input bundle (none, one or many);
    raising a ``engine.errors.ModuleError`` hands the bundle to the module's error route.
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
    hooks: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def app(self) -> str:
        return self.id.partition(":")[0]

    def __post_init__(self) -> None:
        app, _, name = self.id.partition(":")
        if not app or not name:
            raise ValueError(f"module id '{self.id}' must look like app:ModuleName")
        interpreted = self.kind in _INTERPRETED_KINDS
        if self.run is None and not interpreted:
            raise ValueError(f"module {self.id} of kind {self.kind} needs a run function")


_INTERPRETED_KINDS = frozenset(
    {ModuleKind.ROUTER, ModuleKind.ITERATOR, ModuleKind.AGGREGATOR, ModuleKind.DIRECTIVE}
)
