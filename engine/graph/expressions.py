"""Every expression of a module, parsed once when the blueprint is compiled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.blueprint.models import FlowItem
from engine.filters import Filter, compile_conditions, compile_filter
from engine.mapping import CompiledValue, Template, compile_mapper, compile_template


@dataclass(frozen=True)
class NodeExpressions:
    """A module's compiled expressions.

    Attributes:
        mapper: the mapped fields (``None`` when the module maps nothing).
        filter: the filter on the link into the module (``None`` when it always passes).
        group_by: an aggregator's ``flags.groupBy``.
        branches: an If-else's branch conditions, by branch index (else branches pass).
        merge_outputs: a Merge's outputs as ``(name, one template per branch)``.
    """

    mapper: CompiledValue | None = None
    filter: Filter | None = None
    group_by: Template | None = None
    branches: tuple[Filter, ...] = ()
    merge_outputs: tuple[tuple[str, tuple[Template, ...]], ...] = ()


NO_EXPRESSIONS = NodeExpressions()


def compile_node_expressions(item: FlowItem, path: str) -> NodeExpressions:
    """Parse every expression of ``item`` (raises ``ExpressionError`` on the first bad one)."""
    where = f"module {item.id}, {path}"
    return NodeExpressions(
        mapper=compile_mapper(item.mapper, where=f"{where}.mapper") if item.mapper else None,
        filter=_filter(item, where),
        group_by=_group_by(item, where),
        branches=tuple(
            compile_conditions(_plain(branch.conditions), where=f"{where}.branches[{index}]")
            for index, branch in enumerate(item.branches or ())
        ),
        merge_outputs=tuple(
            (
                output.name,
                tuple(
                    compile_template(mapping, where=f"{where}.outputs[{o}].mappings[{m}]")
                    for m, mapping in enumerate(output.mappings)
                ),
            )
            for o, output in enumerate(item.outputs or ())
        ),
    )


def _filter(item: FlowItem, where: str) -> Filter | None:
    if item.filter is None or not item.filter.conditions:
        return None
    return compile_filter(item.filter.model_dump(mode="json"), where=f"{where}.filter")


def _group_by(item: FlowItem, where: str) -> Template | None:
    group_by = (item.flags or {}).get("groupBy")
    if group_by in (None, ""):
        return None
    return compile_template(group_by, where=f"{where}.flags.groupBy")


def _plain(conditions: Any) -> Any:
    if conditions is None:
        return []
    return [[condition.model_dump(mode="json") for condition in group] for group in conditions]
