"""The compiled, immutable form of a blueprint that the runner executes.

A ``Plan`` mirrors the blueprint's tree (flows, router routes, If-else branches, error routes)
with ``PlanNode`` objects, each bound to its module spec, and keeps the module graph (networkx)
used to check references. Nothing in a plan changes after compilation, so one plan serves any
number of runs, in any number of threads.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from engine.blueprint.models import Blueprint, Filter, FlowItem, ScenarioSettings
from engine.graph.expressions import NO_EXPRESSIONS, NodeExpressions
from engine.spec import ModuleKind, ModuleSpec


@dataclass(frozen=True, eq=False)
class PlanRoute:
    """One route of a router. ``fallback`` routes run only when no other route passed."""

    index: int
    flow: tuple[PlanNode, ...]
    disabled: bool = False
    fallback: bool = False


@dataclass(frozen=True, eq=False)
class PlanBranch:
    """One branch of an If-else. The first condition branch that passes runs, else ``else``."""

    index: int
    is_else: bool
    label: str | None
    conditions: Any
    merge: bool
    disabled: bool
    flow: tuple[PlanNode, ...]


@dataclass(frozen=True, eq=False)
class PlanNode:
    """A module instance ready to run.

    Attributes:
        id: the module's id in the blueprint (what ``{{id.field}}`` refers to).
        path: its JSON path in the blueprint, e.g. ``flow[2].routes[0].flow[1]``.
        item: the blueprint item (parameters, mapper, filter, metadata as imported).
        spec: the installed module, or ``None`` when this installation lacks it.
        expressions: its mapper, filter and other expressions, parsed once.
        feeder: for aggregators, the id of the module whose bundles they collect.
        scope: for aggregators, the ids from the feeder up to (not including) the aggregator;
            modules after the aggregator cannot refer to them.
    """

    id: int
    path: str
    item: FlowItem
    spec: ModuleSpec | None
    routes: tuple[PlanRoute, ...] = ()
    branches: tuple[PlanBranch, ...] = ()
    onerror: tuple[PlanNode, ...] = ()
    expressions: NodeExpressions = NO_EXPRESSIONS
    feeder: int | None = None
    scope: frozenset[int] = field(default_factory=frozenset)

    @property
    def module(self) -> str:
        return self.item.module

    @property
    def kind(self) -> ModuleKind | None:
        return self.spec.kind if self.spec else None

    @property
    def supported(self) -> bool:
        return self.spec is not None

    @property
    def filter(self) -> Filter | None:
        return self.item.filter

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self.item.parameters or {}

    @property
    def mapper(self) -> Mapping[str, Any]:
        return self.item.mapper or {}


@dataclass(frozen=True, eq=False)
class Plan:
    """A compiled scenario.

    Attributes:
        blueprint: the blueprint it was compiled from.
        flow: the top-level flow; ``flow[0]`` is the trigger (or the first action).
        nodes: every node of the tree by module id.
        graph: a frozen networkx ``DiGraph`` of module ids; edges carry ``kind`` in
            ``next``, ``route``, ``branch`` and ``error``.
        unsupported: module types this installation lacks, with the ids using each.
    """

    blueprint: Blueprint
    flow: tuple[PlanNode, ...]
    nodes: Mapping[int, PlanNode]
    graph: nx.DiGraph[int]  # module ids
    unsupported: Mapping[str, tuple[int, ...]]

    @property
    def trigger(self) -> PlanNode | None:
        return self.flow[0] if self.flow else None

    @property
    def settings(self) -> ScenarioSettings:
        return self.blueprint.settings

    def walk(self) -> Iterator[PlanNode]:
        """Every node, depth first, in blueprint order."""
        yield from walk_flow(self.flow)

    @functools.cached_property
    def leaves_incomplete(self) -> bool:
        """Whether a run can store incomplete executions: a Break handler, or the scenario's
        "store incomplete executions" setting (Make's ``dlq``). Found once per plan: the
        service asks at every run's finish."""
        return self.settings.dlq or any(node.module == "builtin:Break" for node in self.walk())


def walk_flow(flow: tuple[PlanNode, ...]) -> Iterator[PlanNode]:
    """Every node of ``flow`` and of the routes, branches and error routes inside it."""
    for node in flow:
        yield node
        for route in node.routes:
            yield from walk_flow(route.flow)
        for branch in node.branches:
            yield from walk_flow(branch.flow)
        yield from walk_flow(node.onerror)
