"""Make's aggregators: Array (``builtin:BasicAggregator``), Text (``util:TextAggregator``) and
Numeric (``util:FunctionAggregator2``).

The runner collects what reaches an aggregator during one run of its feeder; each spec's
``aggregate`` shapes those items (the evaluated mapper, one per bundle) into the one output
bundle. ``flags.groupBy`` gives one bundle per group, ``flags.stopIfEmpty`` none for an empty set.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DataError, InvalidConfigurationError
from engine.runtime.aggregation import array_of_items
from engine.spec import ModuleKind, ModuleSpec, choice


class AggregatorParameters(BaseModel):
    """``parameters`` of every aggregator: the module whose bundles it collects."""

    model_config = ConfigDict(extra="allow")

    feeder: int


class TextAggregatorParameters(AggregatorParameters):
    rowSeparator: str = choice(
        "", {"": "None", "\n": "New row", "\t": "Tab", "other": "Other"}, title="Row separator"
    )
    otherRowSeparator: str = Field(default="", title="Separator (other)")


class NumericAggregatorParameters(AggregatorParameters):
    fn: str = choice(
        "sum",
        {"sum": "SUM", "avg": "AVG", "count": "COUNT", "max": "MAX", "min": "MIN"},
        title="Aggregate function",
    )


class ValueInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    value: Any = None


def _value(item: Any) -> Any:
    return item.get("value") if isinstance(item, Mapping) else item


_SEPARATORS = {"\n": "\n", "\t": "\t", "": "", "newline": "\n", "tab": "\t"}


def joined_text(items: Sequence[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``text``: the items' ``value`` joined by ``rowSeparator`` (``other``: the custom one)."""
    separator = parameters.get("rowSeparator", "")
    if separator == "other":
        separator = parameters.get("otherRowSeparator", "")
    separator = _SEPARATORS.get(separator, separator)
    values = (_value(item) for item in items)
    return {"text": str(separator).join("" if v is None else str(v) for v in values)}


_NUMERIC: dict[str, Callable[[list[float]], float]] = {
    "SUM": math.fsum,
    "AVG": lambda values: statistics.fmean(values) if values else 0,
    "MAX": lambda values: max(values, default=0),
    "MIN": lambda values: min(values, default=0),
}


def numeric_result(items: Sequence[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``result``: SUM, AVG, COUNT, MAX or MIN of the items' ``value`` (``parameters.fn``).

    COUNT counts the bundles that reached the aggregator, whatever their value (as Make does);
    the others skip empty values and refuse text that is not a number.
    """
    function = str(parameters.get("fn") or "sum").upper()
    if function == "COUNT":
        return {"result": len(items)}
    if function not in _NUMERIC:
        raise InvalidConfigurationError(
            f"unknown aggregate function '{function}' (sum, avg, count, max or min)"
        )
    values = [_number(value) for value in map(_value, items) if value not in (None, "")]
    result = _NUMERIC[function](values)
    return {"result": int(result) if float(result).is_integer() else result}


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"'{value}' is not a number the numeric aggregator can use") from None


_TARGET_IGNORED = (
    "the target structure only shapes the editor's mapping of a later module's field; the "
    "output is the same array of the mapped fields"
)

AGGREGATORS: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="builtin:BasicAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Array aggregator",
        parameters=AggregatorParameters,
        aggregate=array_of_items,
        free_form=frozenset({"mapper"}),
        ignored_keys={"target": _TARGET_IGNORED},
    ),
    ModuleSpec(
        id="util:TextAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Text aggregator",
        parameters=TextAggregatorParameters,
        input=ValueInput,
        aggregate=joined_text,
    ),
    ModuleSpec(
        id="util:FunctionAggregator2",
        kind=ModuleKind.AGGREGATOR,
        label="Numeric aggregator",
        parameters=NumericAggregatorParameters,
        input=ValueInput,
        aggregate=numeric_result,
    ),
    ModuleSpec(
        id="util:NumericalAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Numeric aggregator (alias of util:FunctionAggregator2)",
        parameters=NumericAggregatorParameters,
        input=ValueInput,
        aggregate=numeric_result,
        superseded_by="util:FunctionAggregator2",
    ),
)
