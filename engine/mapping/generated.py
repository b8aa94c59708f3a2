"""Value templates of a route written into one generated function, with type guards.

``generated_values`` takes the value templates a module evaluates in order (``util:SetVariables``'
values) and, when each is of a shape known here, gives one function computing all of them in
Python's own operations while every value read is of the type the shortcut expects; the first
guard that fails hands the whole list to ``general`` (the templates' compiled closures), which
gives Make's coercions and errors. Templates only read the bundles, so evaluating again from the
start changes nothing. The shapes (the commonest in exported scenarios, B1's among them):

- a one-key reference (``{{2.sku}}``): read as it is;
- ``round(x; n)``, ``n`` a literal 1 to 4, ``x`` a ``+ - *`` tree of one-key references and number
  literals: the tree computed inline (``nodes._arithmetic_source``), then Python's ``round``
  when the float is well away from a tie (``functions.math._half_up``'s first branch),
  ``_half_up`` near one, and a whole result (an ``int`` under 10^6) as it is;
- ``upper(k)`` / ``lower(k)`` of a one-key reference holding text.

Any other template, and a checkpoint to call, leaves the whole list to ``general``.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from typing import Any

from engine.mapping.context import EvalContext
from engine.mapping.functions.math import _NEAR_HALF, _SCALES, _half_up, round_
from engine.mapping.functions.text import lower, upper
from engine.mapping.nodes import (
    Call,
    Literal,
    Path,
    _arithmetic_source,
    generated_code,
    read_key_source,
)
from engine.mapping.template import CompiledValue, Template
from engine.mapping.values import ERASE, IGNORE, MAX_SAFE_INTEGER

Values = Callable[[EvalContext], list[Any]]

_CASES = {upper: "upper", lower: "lower"}


def generated_values(templates: Sequence[Template], general: Values) -> Values | None:
    """One function giving ``general``'s list for ``templates``, or ``None`` when a template
    is of no shape written here."""
    names: dict[str, Any] = {
        "general": general,
        "round": round,
        "int": int,
        "float": float,
        "half_up": _half_up,
    }
    lines: list[str] = []
    results: list[str] = []
    bundles: dict[int, str] = {}
    leaves: list[str] = []
    for position, template in enumerate(templates):
        result = _value_source(template, position, names, lines, leaves, bundles)
        if result is None:
            return None
        results.append(result)
    body = "\n".join(lines) + f"\n    return [{', '.join(results)}]"
    return types.FunctionType(
        generated_code("values", body), {**names, "MAX": MAX_SAFE_INTEGER}, "values"
    )


def _value_source(
    template: Template,
    position: int,
    names: dict[str, Any],
    lines: list[str],
    leaves: list[str],
    bundles: dict[int, str],
) -> str | None:
    """The name holding ``template``'s value (lines appended), or ``None``."""
    node = template._single
    if type(node) is Path and node.single_key() is not None:
        return read_key_source(node, names, lines, leaves, bundles)
    if type(node) is not Call:
        return None
    impl, args = node.spec.impl, node.args
    if impl is round_ and len(args) == 2 and type(args[1]) is Literal:
        places = args[1].value
        if type(places) is not int or not 0 < places <= 4:
            return None
        number = _arithmetic_source(args[0], names, lines, leaves, bundles)
        if number is None:
            return None
        name = f"v{position}"
        # An int (the arithmetic's whole result) is its own rounding (``_quantize`` gives
        # it back); a float near a tie takes ``_half_up``'s digits, as ``round_`` does: only
        # what neither covers goes back to ``general`` (B1: ~5 % of its lines were ties).
        lines.extend(
            [
                f"    if type({number}) is int and -1000000 < {number} < 1000000:",
                f"        {name} = {number}",
                f"    elif type({number}) is not float or not -1e6 < {number} < 1e6:",
                "        return general(ctx)",
                f"    elif abs(({number} * {_SCALES[places]!r}) % 1.0 - 0.5) > {_NEAR_HALF!r}:",
                f"        {name} = round({number}, {places})",
                f"        if {name}.is_integer():",
                f"            {name} = int({name})",
                "    else:",
                f"        {name} = half_up({number}, {places})",
                f"        if {name} is None:",
                "            return general(ctx)",
            ]
        )
        return name
    case = _CASES.get(impl)
    if case is not None and len(args) == 1 and type(args[0]) is Path:
        text = read_key_source(args[0], names, lines, leaves, bundles)
        if text is None:
            return None
        name = f"v{position}"
        lines.extend(
            [
                f"    if type({text}) is not str:",
                "        return general(ctx)",
                f"    {name} = {text}.{case}()",
                f"    if len({name}) > ctx.max_output:",
                "        return general(ctx)",
            ]
        )
        return name
    return None


BundleItem = Callable[[dict[str, Any]], dict[str, Any]]


def generated_bundle_item(mapper: CompiledValue | None, module_id: int) -> BundleItem | None:
    """``mapper.evaluate`` for a collection whose every field is a one-key reference into
    ``module_id``'s bundle (an aggregator's ``{"sku": "{{3.sku}}"}``), as a function of that
    bundle alone: each key read, ``IGNORE`` leaving the field out and ``ERASE`` as ``None``,
    as the generated collection does when the bundle is a ``dict``. ``None`` for any other
    mapper (a spread key, a constant, another module's or a deeper reference)."""
    shape = mapper.structure() if mapper is not None else None
    if type(shape) is not dict:
        return None
    names: dict[str, Any] = {"IGNORE": IGNORE, "ERASE": ERASE}
    body = ["def item(bundle):", "    result = {}"]
    for index, (field, template) in enumerate(shape.items()):
        if type(template) is not Template:
            return None
        single = template._single
        key = single.single_key() if type(single) is Path else None
        if key is None or key[0] != module_id:
            return None
        names[f"k{index}"], names[f"n{index}"] = field, key[1]
        body += [
            f"    value = bundle.get(n{index})",
            "    if value is not IGNORE:",
            f"        result[k{index}] = None if value is ERASE else value",
        ]
    body.append("    return result")
    return types.FunctionType(_item_code("\n".join(body)), names, "item")


@functools.lru_cache(maxsize=256)
def _item_code(source: str) -> types.CodeType:
    module = compile(source, "<item>", "exec")
    code: types.CodeType = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return code
