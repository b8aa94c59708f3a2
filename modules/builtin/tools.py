"""Make's "Tools" app: compose a string, switch, sleep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import BundleValidationError
from engine.mapping import regexes
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, choice


class _Input(BaseModel):
    model_config = ConfigDict(extra="allow")


class ComposeInput(_Input):
    value: Any = Field(default="", title="Text")


class ComposeOutput(BaseModel):
    value: str


def compose(call: ModuleCall) -> Iterator[Bundle]:
    value = call.input_as(ComposeInput).value
    yield {"value": "" if value is None else str(value)}


class SwitchCase(_Input):
    pattern: Any = None
    output: Any = None


class SwitcherInput(_Input):
    input: Any = Field(default=None, title="Input")
    casesTable: list[SwitchCase] = Field(default_factory=list, title="Cases")
    useRegExpMatch: bool = Field(
        default=False, strict=False, title="Use regular expressions to match"
    )
    elseOutput: Any = Field(default=None, title="Else")


def _case_matches(case: SwitchCase, text: str, use_regex: bool) -> bool:
    pattern = "" if case.pattern is None else str(case.pattern)
    if not use_regex:
        return pattern == text
    return regexes.search(pattern, text)


def switch(call: ModuleCall) -> Iterator[Bundle]:
    """The output of the first case whose pattern matches the input, else ``elseOutput``.

    With ``useRegExpMatch`` the patterns are regular expressions, checked and run like every
    user pattern (``engine.mapping.regexes``).
    """
    data = call.input_as(SwitcherInput)
    text = "" if data.input is None else str(data.input)
    for index, case in enumerate(data.casesTable):
        try:
            matched = _case_matches(case, text, data.useRegExpMatch)
        except (regexes.PatternError, TimeoutError) as error:
            raise BundleValidationError(
                f"module {call.module_id} (util:Switcher): casesTable[{index}].pattern: {error}"
            ) from None
        if matched:
            yield {"output": case.output}
            return
    yield {"output": data.elseOutput}


class SleepInput(_Input):
    duration: float = Field(
        default=1, strict=False, ge=0, le=300, title="Delay", description="seconds, at most 300"
    )


def sleep(call: ModuleCall) -> Iterator[Bundle]:
    """Pause the run for 1 to 300 seconds (through the run's clock, so tests do not wait)."""
    call.context.run.sleep(call.input_as(SleepInput).duration)
    yield {}


TOOLS: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="util:ComposeTransformer",
        kind=ModuleKind.ACTION,
        label="Compose a string",
        input=ComposeInput,
        output=ComposeOutput,
        run=compose,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="util:Switcher",
        kind=ModuleKind.ACTION,
        label="Switch",
        input=SwitcherInput,
        run=switch,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="util:FunctionSleep",
        kind=ModuleKind.ACTION,
        label="Sleep",
        input=SleepInput,
        run=sleep,
        effect=Effect.COMPUTE,
    ),
)


class IncrementParameters(_Input):
    reset: str = choice(
        "run",
        {"run": "After one cycle", "execution": "After one execution", "scenario": "Never"},
        title="Reset a value",
    )


def increment(call: ModuleCall) -> Iterator[Bundle]:
    """A counter that starts at 1 and grows by 1 per operation, reset as ``parameters.reset`` says.

    ``run`` resets every cycle, ``execution`` every run, ``scenario`` never (it persists in the
    scenario's module state).
    """
    reset = call.parameters_as(IncrementParameters).reset
    if reset == "scenario":
        state = call.context.run.module_state
        counter = int(state.get(call.module_id) or 0) + 1
        state[call.module_id] = counter
        yield {"i": counter}
        return
    key = f"increment:{call.module_id}"
    variables = call.context.variables
    value = int(variables.get(key) or 0) + 1
    variables.set(key, value, "execution" if reset == "execution" else "roundtrip")
    yield {"i": value}


INCREMENT = ModuleSpec(
    id="util:FunctionIncrement",
    kind=ModuleKind.ACTION,
    label="Increment function",
    parameters=IncrementParameters,
    run=increment,
    effect=Effect.COMPUTE,
)
TOOLS = (*TOOLS, INCREMENT)
