"""Make-compatible blueprints: lossless models, import and export.

>>> doc = read_document('{"name": "x", "flow": [], "metadata": {"version": 1}}')
>>> doc.export()
{'name': 'x', 'flow': [], 'metadata': {'version': 1}}
"""

from engine.blueprint.io import (
    BlueprintDocument,
    dump_blueprint,
    export_blueprint,
    load_blueprint,
    read_document,
)
from engine.blueprint.models import (
    Blueprint,
    BlueprintMetadata,
    Branch,
    Condition,
    Filter,
    FlowItem,
    MergeOutput,
    Route,
    ScenarioSettings,
)
from engine.jsonvalues import json_path

__all__ = [
    "Blueprint",
    "BlueprintDocument",
    "BlueprintMetadata",
    "Branch",
    "Condition",
    "Filter",
    "FlowItem",
    "MergeOutput",
    "Route",
    "ScenarioSettings",
    "dump_blueprint",
    "export_blueprint",
    "json_path",
    "load_blueprint",
    "read_document",
]
