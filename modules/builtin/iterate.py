"""Modules that turn one bundle into many: the Iterator and the Repeater."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import BundleValidationError
from engine.spec import Bundle, ModuleCall, ModuleKind, ModuleSpec


class IteratorInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    array: Any = None


def iterate(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle per element; collections spread their fields, other values become ``value``.

    A value that is not an array is wrapped in one (Make's type coercion); nothing, nothing.
    """
    array = call.input_as(IteratorInput).array
    elements = array if isinstance(array, list) else [] if array in (None, "") else [array]
    length = len(elements)
    for position, element in enumerate(elements, start=1):
        fields = dict(element) if isinstance(element, Mapping) else {"value": element}
        yield {**fields, "__IMTINDEX__": position, "__IMTLENGTH__": length}


class RepeaterInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    start: int = Field(default=1, strict=False, title="Initial value")
    repeats: int = Field(default=1, strict=False, ge=0, le=10_000)
    step: int = Field(default=1, strict=False)


def repeat(call: ModuleCall) -> Iterator[Bundle]:
    """``repeats`` bundles ``{"i": start}``, ``{"i": start + step}``, …"""
    settings = call.input_as(RepeaterInput)
    if settings.repeats > 10_000:
        raise BundleValidationError("a repeater repeats at most 10000 times")
    for count in range(settings.repeats):
        yield {"i": settings.start + count * settings.step}


ITERATION: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="builtin:BasicFeeder",
        kind=ModuleKind.ITERATOR,
        label="Iterator",
        input=IteratorInput,
        run=iterate,
    ),
    ModuleSpec(
        id="builtin:BasicRepeater",
        kind=ModuleKind.ITERATOR,
        label="Repeater",
        input=RepeaterInput,
        run=repeat,
    ),
)
