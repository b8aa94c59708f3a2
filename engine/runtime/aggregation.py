"""Aggregators: collect what their feeder produced for one input bundle, then emit.

An ``Accumulator`` lives while its feeder works through one input bundle. Every bundle that
reaches the aggregator adds one item (the aggregator's mapper evaluated on that bundle) under
its group key. When the feeder is done, ``outputs`` gives the aggregated bundle(s), shaped by
the module's ``ModuleSpec.aggregate`` (an array when it declares none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.spec import AggregateFunction

_NO_GROUP = object()
NO_GROUP = _NO_GROUP  # the key of an ungrouped item, for a caller adding inline (the runner)


def array_of_items(items: Sequence[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The Array aggregator's output: ``array`` and ``__IMTAGGLENGTH__``."""
    return {"array": items, "__IMTAGGLENGTH__": len(items)}


@dataclass
class Accumulator:
    """The items collected for one aggregator during one run of its feeder."""

    module: str
    parameters: Mapping[str, Any]
    shape: AggregateFunction = array_of_items
    groups: dict[Any, list[Any]] = field(default_factory=dict)
    continuation: Any = None  # what to do after the aggregator (set by the first arrival)
    count: int = 0

    def add(self, item: Any, key: Any = _NO_GROUP) -> None:
        hashable = key if key is _NO_GROUP else _hashable(key)
        items = self.groups.get(hashable)
        if items is None:
            items = self.groups[hashable] = []
        items.append(item)
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
        return dict(self.shape(items, self.parameters))


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
