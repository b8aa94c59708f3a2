"""Aggregators: collect what their feeder produced for one input bundle, then emit.

An ``Accumulator`` lives while its feeder works through one input bundle. Every bundle that
reaches the aggregator adds one item (the aggregator's mapper evaluated on that bundle) under
its group key. When the feeder is done, ``outputs`` gives the aggregated bundle(s).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InvalidConfigurationError

_NO_GROUP = object()


@dataclass
class Accumulator:
    """The items collected for one aggregator during one run of its feeder."""

    module: str
    parameters: Mapping[str, Any]
    groups: dict[Any, list[Any]] = field(default_factory=dict)
    continuation: Any = None  # what to do after the aggregator (set by the first arrival)
    count: int = 0

    def add(self, item: Any, key: Any = _NO_GROUP) -> None:
        self.groups.setdefault(_hashable(key), []).append(item)
        self.count += 1

    @property
    def grouped(self) -> bool:
        return any(key is not _NO_GROUP for key in self.groups)

    def outputs(self, stop_on_empty: bool) -> list[dict[str, Any]]:
        """The aggregator's output bundles (none when empty and ``stop_on_empty``)."""
        if not self.count:
            return [] if stop_on_empty else [self._shape([])]
        if not self.grouped:
            return [self._shape(self.groups[_NO_GROUP])]
        return [
            {"__IMTKEY__": _unhashable(key), **self._shape(items)}
            for key, items in self.groups.items()
        ]

    def _shape(self, items: list[Any]) -> dict[str, Any]:
        shaper = _SHAPES.get(self.module, _array)
        return shaper(items, self.parameters)


def _array(items: list[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    return {"array": items, "__IMTAGGLENGTH__": len(items)}


_SEPARATORS = {"\n": "\n", "\t": "\t", "": "", "newline": "\n", "tab": "\t"}


def _text(items: list[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    separator = parameters.get("rowSeparator", "")
    if separator == "other":
        separator = parameters.get("otherRowSeparator", "")
    separator = _SEPARATORS.get(separator, separator)
    return {"text": str(separator).join("" if item is None else str(item) for item in items)}


_NUMERIC: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda values: statistics.fmean(values) if values else 0,
    "COUNT": len,
    "MAX": lambda values: max(values, default=0),
    "MIN": lambda values: min(values, default=0),
}


def _numeric(items: list[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    function = str(parameters.get("fn", "SUM")).upper()
    if function not in _NUMERIC:
        raise InvalidConfigurationError(f"unknown aggregate function '{function}'")
    values = [float(item) for item in items if item not in (None, "")]
    result = _NUMERIC[function](values)
    return {"result": int(result) if float(result).is_integer() else result}


_SHAPES = {"util:TextAggregator": _text, "util:NumericalAggregator": _numeric}


def accumulated_item(module: str, mapped: Any) -> Any:
    """What one bundle adds: the mapper for arrays, its ``value`` for text and numbers."""
    if module in _SHAPES and isinstance(mapped, Mapping):
        return mapped.get("value")
    return mapped if mapped is not None else {}


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return ("__list__", tuple(_hashable(k) for k in key))
    if isinstance(key, dict):
        return ("__dict__", tuple(sorted((k, _hashable(v)) for k, v in key.items())))
    return key


def _unhashable(key: Any) -> Any:
    if isinstance(key, tuple) and key and key[0] == "__list__":
        return [_unhashable(k) for k in key[1]]
    if isinstance(key, tuple) and key and key[0] == "__dict__":
        return {k: _unhashable(v) for k, v in key[1]}
    return key
