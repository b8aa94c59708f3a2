"""Blueprint → Plan: check the graph once, report every problem at once.

Checks, each reported with the module id and the JSON path of the offending value:

- every module has an id, unique across the whole tree (routes, branches, error routes);
- every ``{{N.…}}`` reference names a module that runs before its user on the same path and is
  not inside an aggregation closed before it;
- each aggregator's ``feeder`` is a module before it on its path;
- directives (Ignore, Resume, Commit, Rollback, Break) appear only in error routes.

Modules this installation lacks are not problems: they stay in the plan (nothing is lost), are
listed in ``Plan.unsupported``, and fail the run only if a bundle reaches them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import networkx as nx

from engine.blueprint.models import Blueprint, FlowItem
from engine.errors import BlueprintError, ExpressionError, Problem
from engine.graph.expressions import compile_node_expressions
from engine.graph.plan import Plan, PlanBranch, PlanNode, PlanRoute, walk_flow
from engine.graph.references import iter_templates
from engine.mapping import compile_template
from engine.registry import ModuleRegistry
from engine.spec import ModuleKind, ModuleSpec


@dataclass(frozen=True)
class ValidationReport:
    """What ``validate_blueprint`` found: problems (fatal) and modules this installation lacks."""

    problems: tuple[Problem, ...] = ()
    unsupported: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unsupported

    def unsupported_message(self) -> str:
        """``uses 2 modules Switchboard does not have: slack:CreateMessage (modules 4, 7), …``."""
        if not self.unsupported:
            return ""
        parts = [
            f"{module} ({'modules' if len(ids) > 1 else 'module'} {', '.join(map(str, ids))})"
            for module, ids in self.unsupported.items()
        ]
        count = len(self.unsupported)
        noun = "module" if count == 1 else "modules"
        return f"uses {count} {noun} Switchboard does not have: {', '.join(parts)}"

    def lines(self) -> list[str]:
        """The report as text lines: ``ok``, or every problem and the unsupported modules."""
        if self.ok:
            return ["ok"]
        lines = [str(problem) for problem in self.problems]
        if self.unsupported:
            lines.append(self.unsupported_message())
        return lines


def compile_blueprint(blueprint: Blueprint, registry: ModuleRegistry) -> Plan:
    """Compile ``blueprint`` into an immutable ``Plan``.

    Raises:
        BlueprintError: listing every problem; modules the registry lacks are not problems.
    """
    compiler = _Compiler(blueprint, registry)
    if compiler.problems:
        raise BlueprintError(compiler.problems, f"blueprint '{blueprint.name}' cannot run")
    return compiler.plan()


def validate_blueprint(blueprint: Blueprint, registry: ModuleRegistry) -> ValidationReport:
    """Every problem of ``blueprint`` and the modules it uses that ``registry`` lacks."""
    compiler = _Compiler(blueprint, registry)
    return ValidationReport(tuple(compiler.problems), compiler.unsupported)


@dataclass
class _Entry:
    """What the first pass records about one module instance."""

    item: FlowItem
    path: str
    spec: ModuleSpec | None
    in_error_route: bool


class _Compiler:
    """One compilation: index the tree into a graph, check it, then build the plan."""

    def __init__(self, blueprint: Blueprint, registry: ModuleRegistry) -> None:
        self.blueprint = blueprint
        self.registry = registry
        self.problems: list[Problem] = []
        self.graph: nx.DiGraph[int] = nx.DiGraph()
        self.entries: dict[int, _Entry] = {}
        self._unsupported: dict[str, list[int]] = defaultdict(list)
        self._index_flow(blueprint.flow, "flow", None, "next", in_error_route=False)
        if not self.problems:
            self._check_directives()
            self._check_feeders()
            self._check_references()
        self.problems.sort(key=lambda problem: _path_key(problem.path))

    @property
    def unsupported(self) -> Mapping[str, tuple[int, ...]]:
        return {module: tuple(ids) for module, ids in sorted(self._unsupported.items())}

    # -- first pass: ids, specs, graph --------------------------------------------------------

    def _index_flow(
        self,
        items: Sequence[FlowItem],
        path: str,
        predecessor: int | None,
        edge: str,
        *,
        in_error_route: bool,
    ) -> None:
        previous, kind = predecessor, edge
        for position, item in enumerate(items):
            item_path = f"{path}[{position}]"
            if not self._index_item(item, item_path, in_error_route):
                return
            assert item.id is not None
            if previous is not None:
                self.graph.add_edge(previous, item.id, kind=kind)
            previous, kind = item.id, "next"

    def _index_item(self, item: FlowItem, path: str, in_error_route: bool) -> bool:
        if item.id is None:
            self._problem(f"{path}.id", f"module {item.module} has no id (an empty placeholder?)")
            return False
        if item.id in self.entries:
            other = self.entries[item.id].path
            self._problem(f"{path}.id", f"id {item.id} is already used by {other}", item.id)
            return False
        spec = self.registry.get(item.module)
        if spec is None:
            self._unsupported[item.module].append(item.id)
        self.entries[item.id] = _Entry(item, path, spec, in_error_route)
        self.graph.add_node(item.id)
        for index, route in enumerate(item.routes or ()):
            route_path = f"{path}.routes[{index}].flow"
            self._index_flow(
                route.flow, route_path, item.id, "route", in_error_route=in_error_route
            )
        for index, branch in enumerate(item.branches or ()):
            branch_path = f"{path}.branches[{index}].flow"
            self._index_flow(
                branch.flow, branch_path, item.id, "branch", in_error_route=in_error_route
            )
        self._index_flow(
            item.onerror or (), f"{path}.onerror", item.id, "error", in_error_route=True
        )
        return True

    # -- checks -------------------------------------------------------------------------------

    def _check_directives(self) -> None:
        for module_id, entry in self.entries.items():
            if self._kind(module_id) is ModuleKind.DIRECTIVE and not entry.in_error_route:
                self._problem(
                    f"{entry.path}.module",
                    f"directive {entry.item.module} can only be used in an error route",
                    module_id,
                )

    def _check_feeders(self) -> None:
        for module_id in self._aggregators:
            entry = self.entries[module_id]
            feeder = (entry.item.parameters or {}).get("feeder")
            where = f"{entry.path}.parameters.feeder"
            if feeder is None:
                self._problem(where, "an aggregator needs a source module (feeder)", module_id)
            elif not isinstance(feeder, int) or feeder not in self._ancestors(module_id):
                self._problem(
                    where,
                    f"source module {feeder!r} is not a module before aggregator {module_id} "
                    "on its path",
                    module_id,
                )

    def _check_references(self) -> None:
        for module_id, entry in self.entries.items():
            for path, template, scope in self._templates(module_id, entry):
                for ref in sorted(self._references(module_id, path, template)):
                    reason = self._bad_reference(ref, scope)
                    if reason:
                        self._problem(path, reason, module_id)

    def _references(self, module_id: int, path: str, template: Any) -> frozenset[int]:
        """The modules a template refers to; a template that does not parse is a problem."""
        try:
            return compile_template(template, where=path).references
        except ExpressionError as error:
            column = f" (column {error.column})" if error.column is not None else ""
            self._problem(path, f"{error.reason}{column}", module_id)
            return frozenset()

    def _bad_reference(self, ref: int, scope: _Scope) -> str | None:
        if ref not in self.entries:
            return f"refers to module {ref}, which is not in this scenario"
        if ref == scope.user:
            return f"refers to module {ref} itself, which has not run yet at this point"
        if ref not in scope.ancestors:
            return (
                f"refers to module {ref}, which does not run before module {scope.user} on its path"
            )
        closer = scope.closed.get(ref)
        if closer is not None:
            return (
                f"refers to module {ref}, which is inside the aggregation closed by module {closer}"
            )
        return None

    def _templates(self, module_id: int, entry: _Entry) -> Iterator[tuple[str, Any, _Scope]]:
        """Every mapped value of a module with the references it may make."""
        item, path = entry.item, entry.path
        scope = self._scope(module_id)
        yield from ((p, t, scope) for p, t in iter_templates(item.mapper, f"{path}.mapper"))
        yield from ((p, t, scope) for p, t in iter_templates(item.flags, f"{path}.flags"))
        if item.filter and item.filter.conditions:
            conditions = item.filter.model_dump(mode="json")["conditions"]
            for p, t in iter_templates(conditions, f"{path}.filter.conditions"):
                if p.endswith((".a", ".b")):
                    yield p, t, scope
        for index, branch in enumerate(item.branches or ()):
            conditions = [[c.model_dump(mode="json") for c in g] for g in branch.conditions or ()]
            for p, t in iter_templates(conditions, f"{path}.branches[{index}].conditions"):
                if p.endswith((".a", ".b")):
                    yield p, t, scope
        yield from self._merge_templates(module_id, entry)

    def _merge_templates(self, module_id: int, entry: _Entry) -> Iterator[tuple[str, Any, _Scope]]:
        """A Merge's mapping *i* is evaluated after branch *i* of the If-else before it."""
        if_else = next(iter(self.graph.predecessors(module_id)), None)
        if not entry.item.outputs or if_else is None:
            return
        branches = self.entries[if_else].item.branches or []
        for o_index, output in enumerate(entry.item.outputs):
            for b_index, mapping in enumerate(output.mappings):
                branch_flow = branches[b_index].flow if b_index < len(branches) else []
                last = branch_flow[-1].id if branch_flow else None
                scope = self._scope(module_id, after=last if last is not None else if_else)
                where = f"{entry.path}.outputs[{o_index}].mappings[{b_index}]"
                yield where, mapping, scope

    # -- graph helpers ------------------------------------------------------------------------

    @cached_property
    def _aggregators(self) -> list[int]:
        return [
            module_id
            for module_id, entry in self.entries.items()
            if self._kind(module_id) is ModuleKind.AGGREGATOR
            or (entry.spec is None and "feeder" in (entry.item.parameters or {}))
        ]

    def _kind(self, module_id: int) -> ModuleKind | None:
        spec = self.entries[module_id].spec
        return spec.kind if spec else None

    def _ancestors(self, module_id: int) -> frozenset[int]:
        return frozenset(nx.ancestors(self.graph, module_id))

    def _aggregation_scope(self, aggregator: int) -> frozenset[int]:
        feeder = (self.entries[aggregator].item.parameters or {}).get("feeder")
        if not isinstance(feeder, int) or feeder not in self.entries:
            return frozenset()
        below: set[int] = nx.descendants(self.graph, feeder)
        above: set[int] = nx.ancestors(self.graph, aggregator)
        return frozenset({feeder, *(below & above)})

    def _scope(self, user: int, *, after: int | None = None) -> _Scope:
        """What ``user`` may refer to; ``after``: as if it ran right after that module."""
        ancestors = self._ancestors(user) if after is None else self._ancestors(after) | {after}
        closed: dict[int, int] = {}
        for aggregator in self._aggregators:
            if aggregator in ancestors and aggregator != user:
                for module_id in self._aggregation_scope(aggregator):
                    closed.setdefault(module_id, aggregator)
        return _Scope(user, ancestors, closed)

    def _problem(self, path: str, message: str, module_id: int | None = None) -> None:
        self.problems.append(Problem(path, message, module_id))

    # -- last pass: the plan ------------------------------------------------------------------

    def plan(self) -> Plan:
        flow = self._plan_flow(self.blueprint.flow)
        nodes: dict[int, PlanNode] = {}
        for node in walk_flow(flow):
            nodes[node.id] = node
        return Plan(
            blueprint=self.blueprint,
            flow=flow,
            nodes=MappingProxyType(nodes),
            graph=nx.freeze(self.graph),
            unsupported=MappingProxyType(dict(self.unsupported)),
        )

    def _plan_flow(self, items: Sequence[FlowItem]) -> tuple[PlanNode, ...]:
        return tuple(self._plan_node(item) for item in items)

    def _plan_node(self, item: FlowItem) -> PlanNode:
        assert item.id is not None
        entry = self.entries[item.id]
        is_aggregator = item.id in self._aggregators
        return PlanNode(
            id=item.id,
            path=entry.path,
            item=item,
            spec=entry.spec,
            routes=tuple(
                PlanRoute(
                    index=index,
                    flow=self._plan_flow(route.flow),
                    disabled=bool(route.disabled),
                    fallback=index == _fallback_route(item),
                )
                for index, route in enumerate(item.routes or ())
            ),
            branches=tuple(
                PlanBranch(
                    index=index,
                    is_else=branch.type == "else",
                    label=branch.label,
                    conditions=branch.conditions,
                    merge=bool(branch.merge),
                    disabled=bool(branch.disabled),
                    flow=self._plan_flow(branch.flow),
                )
                for index, branch in enumerate(item.branches or ())
            ),
            onerror=self._plan_flow(item.onerror or ()),
            expressions=compile_node_expressions(item, entry.path),
            feeder=(item.parameters or {}).get("feeder") if is_aggregator else None,
            scope=self._aggregation_scope(item.id) if is_aggregator else frozenset(),
        )


@dataclass(frozen=True)
class _Scope:
    """What a module may refer to: modules before it, minus closed aggregation scopes."""

    user: int
    ancestors: frozenset[int] | set[int]
    closed: Mapping[int, int]


def _fallback_route(item: FlowItem) -> int | None:
    """The router's fallback ("else") route: Make keeps its 0-based index in ``parameters.else``."""
    index = (item.parameters or {}).get("else")
    return index if isinstance(index, int) and not isinstance(index, bool) else None


def _path_key(path: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting problems in document order (``flow[10]`` after ``flow[9]``)."""
    tokens = re.findall(r"[0-9]+|[^0-9\[\].]+", path)
    return tuple((0, int(t)) if t.isascii() and t.isdigit() else (1, t) for t in tokens)
