"""Compile blueprints into immutable plans, checking the module graph with networkx."""

from engine.graph.compile import ValidationReport, compile_blueprint, validate_blueprint
from engine.graph.plan import Plan, PlanBranch, PlanNode, PlanRoute

__all__ = [
    "Plan",
    "PlanBranch",
    "PlanNode",
    "PlanRoute",
    "ValidationReport",
    "compile_blueprint",
    "validate_blueprint",
]
