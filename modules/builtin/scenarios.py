"""Make's Scenarios app (``scenario-service``): one scenario calls another.

- ``scenario-service:StartSubscenario`` ("Start scenario") is the trigger of a called scenario:
  its bundle is the scenario inputs the caller sent (``{{1.city}}``; also ``{{var.input.city}}``).
  Its ``metadata.interface`` declares them. A scenario it starts runs only on request: it gets
  no webhook and no schedule.
- ``scenario-service:CallSubscenario`` ("Call a scenario") runs the scenario
  ``parameters.scenario`` (its id, or its name) with the inputs mapped in ``mapper.data``; with
  ``parameters.shouldWaitForExecutionEnd`` it waits and outputs what that scenario returned.
- ``scenario-service:ReturnData`` ("Return output") returns its mapper, keyed by the output
  names, and ends the run like ``return``: no later module or route runs.

The engine core only asks ``RunContext.subscenarios`` to run a scenario; the service does it
(``engine.service.subscenarios``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from engine.errors import InvalidConfigurationError, RuntimeError
from engine.spec import Bundle, Effect, Empty, ModuleCall, ModuleKind, ModuleSpec

START_SUBSCENARIO = "scenario-service:StartSubscenario"


def on_demand() -> dict[str, Any]:
    """The scheduling of a scenario this trigger starts: only when called."""
    return {"type": "on-demand"}


def start_scenario(call: ModuleCall) -> Iterator[Bundle]:
    """Run by itself (Run once without inputs): the run's scenario inputs, ``var.input``."""
    inputs = call.context.run.variables.get("input") or {}
    yield dict(inputs)


class CallParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    scenario: int | str | None = None
    shouldWaitForExecutionEnd: bool = True

    @field_validator("shouldWaitForExecutionEnd", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return True if value in (None, "") else value


class CallInput(BaseModel):
    """``data`` holds the called scenario's inputs by name (Make's mapper)."""

    model_config = ConfigDict(extra="allow")

    data: dict[str, Any] | None = None


def call_scenario(call: ModuleCall) -> Iterator[Bundle]:
    """Run the scenario; its outputs (and ``executionId``) when waited for, else the queued
    run's ``executionId``. A called scenario that ends in an error is this module's error."""
    parameters = call.parameters_as(CallParameters)
    data = call.input_as(CallInput)
    if parameters.scenario in (None, ""):
        raise InvalidConfigurationError("choose the scenario to call (parameters.scenario)")
    inputs = data.data if data.data is not None else dict(data.model_extra or {})
    wait = parameters.shouldWaitForExecutionEnd
    result = call.context.subscenarios.call(parameters.scenario, inputs, wait=wait)
    if result.error is not None or result.status == "error":
        message = (result.error or {}).get("message") or "it ended in an error"
        raise RuntimeError(
            f"scenario {parameters.scenario} (execution {result.execution_id}): {message}"
        )
    yield {**result.outputs, "executionId": result.execution_id}


def return_output(call: ModuleCall) -> Iterator[Bundle]:
    """Return the mapper as the scenario's outputs; the runner ends the run after it."""
    outputs = call.input.model_dump()
    call.context.return_output(outputs)
    yield outputs


SCENARIO_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id=START_SUBSCENARIO,
        kind=ModuleKind.INSTANT_TRIGGER,
        label="Start scenario",
        version=2,
        description="Starts the scenario when another scenario calls it, with its inputs.",
        run=start_scenario,
        effect=Effect.WATCH,
        # Started only by a caller: no webhook, no schedule (engine.service.scenarios).
        hooks={"scheduling": on_demand},
    ),
    ModuleSpec(
        id="scenario-service:CallSubscenario",
        kind=ModuleKind.ACTION,
        label="Call a scenario",
        version=2,
        description="Runs another scenario with inputs; waits for its outputs if asked.",
        parameters=CallParameters,
        input=CallInput,
        run=call_scenario,
        effect=Effect.CALL,
    ),
    ModuleSpec(
        id="scenario-service:ReturnData",
        kind=ModuleKind.ACTION,
        label="Return output",
        description="Returns the scenario's outputs to its caller and ends the run.",
        input=Empty,
        run=return_output,
        effect=Effect.CONTROL,
        free_form=frozenset({"mapper"}),
    ),
)
