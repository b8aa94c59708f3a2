"""Stub modules for tests: stand-ins for apps a test does not want to call.

``stub_module`` builds a ``ModuleSpec`` whose ``run`` answers from the mapped input, so a test
can run a corpus blueprint whose modules call apps this installation lacks, or exercise the
runner without real connectors::

    registry = default_registry().copy()
    registry.register(stub_module("google-sheets:addRow"))            # echoes its input
    registry.register(stub_module("slack:CreateMessage", outputs=[]))  # outputs nothing
    registry.replace(stub_module("http:MakeRequest", error=ConnectionError("down")))

(``replace`` stands a stub in for a module the installation has; ``register`` refuses that.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.errors import ModuleError
from engine.spec import Bundle, ModuleCall, ModuleKind, ModuleSpec

Outputs = Iterable[Mapping[str, Any]] | Callable[[ModuleCall], Iterable[Mapping[str, Any]]]


def stub_module(
    module_id: str,
    *,
    kind: ModuleKind = ModuleKind.ACTION,
    outputs: Outputs | None = None,
    error: ModuleError | None = None,
    label: str | None = None,
) -> ModuleSpec:
    """A module that echoes its mapped input as its one output bundle, unless told otherwise.

    Args:
        module_id: the Make id to stand in for.
        kind: how the runner should treat it (action by default).
        outputs: fixed output bundles, or a function of the call returning them.
        error: raised on every call instead of producing outputs.
        label: what records and the editor show.
    """

    def run(call: ModuleCall) -> Iterable[Bundle]:
        if error is not None:
            raise error
        if outputs is None:
            return [call.input.model_dump()]
        if callable(outputs):
            return outputs(call)
        return [dict(bundle) for bundle in outputs]

    return ModuleSpec(id=module_id, kind=kind, label=label or f"Stub {module_id}", run=run)
