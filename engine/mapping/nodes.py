"""The syntax tree of an expression; each node evaluates itself against an ``EvalContext``.

Nodes are built once by the parser and evaluated many times. ``evaluate`` gives the value where
one value is wanted; ``evaluate_arg`` gives it where a function argument is wanted, which only
changes how ``[]`` reads an array (whole array instead of first element).
"""

from __future__ import annotations

import functools
import math
import operator
import types
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from math import isfinite
from typing import Any

from engine.errors import DataError
from engine.mapping.context import EvalContext
from engine.mapping.functions.registry import FunctionError, FunctionSpec
from engine.mapping.operators import BINARY_OPERATORS
from engine.mapping.paths import SPREAD, Index, Key, walk
from engine.mapping.values import (
    ERASE,
    IGNORE,
    MAX_SAFE_INTEGER,
    CoercionError,
    check_size,
    normalize_number,
    to_bool,
    to_number,
)

ARITHMETIC = frozenset("+-*/%")

Evaluator = Callable[[EvalContext], Any]


class Node(ABC):
    """Base of every syntax-tree node."""

    __slots__ = ("depth",)

    depth: int

    @abstractmethod
    def evaluate(self, ctx: EvalContext) -> Any:
        """Each concrete class says how."""

    def evaluate_arg(self, ctx: EvalContext) -> Any:
        return self.evaluate(ctx)

    def compiled(self) -> Evaluator:
        """``evaluate`` as a plain function; nodes on the hot path return a closure that reads
        what it needs without the tree walk's attribute lookups (same values, same errors)."""
        return self.evaluate

    def compiled_arg(self) -> Evaluator:
        """``evaluate_arg`` as a plain function (see ``compiled``): the node's compiled form
        where it evaluates an argument as any other value (an operator inside a call)."""
        if type(self).evaluate_arg is Node.evaluate_arg:
            return self.compiled()
        return self.evaluate_arg

    def collect_references(self, into: set[int]) -> None:  # noqa: B027 - most nodes read none
        """Add the module ids this node reads to ``into``."""

    def has_word_arithmetic(self) -> bool:
        """Whether a bare word is an operand of arithmetic (``YYYY-MM-DD`` is text, not maths)."""
        return False


class Literal(Node):
    """A number or quoted text, or an empty argument (``replace(x; "a"; )``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
        self.depth = 1

    def evaluate(self, ctx: EvalContext) -> Any:
        return self.value

    def compiled(self) -> Evaluator:
        value = self.value
        return lambda ctx: value

    def compiled_arg(self) -> Evaluator:
        return self.compiled()


class Word(Node):
    """Bare text such as ``YYYY-MM-DD`` or ``email`` in an argument position."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text
        self.depth = 1

    def evaluate(self, ctx: EvalContext) -> Any:
        return self.text


def _now(ctx: EvalContext) -> datetime:
    moment = ctx.now()
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _uuid(ctx: EvalContext) -> str:
    return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))


KEYWORDS: dict[str, Callable[[EvalContext], Any]] = {
    "null": lambda ctx: None,
    "true": lambda ctx: True,
    "false": lambda ctx: False,
    "emptystring": lambda ctx: "",
    "emptyarray": lambda ctx: [],
    "space": lambda ctx: " ",
    "tab": lambda ctx: "\t",
    "newline": lambda ctx: "\n",
    "carriagereturn": lambda ctx: "\r",
    "nbsp": lambda ctx: "\u00a0",
    "ignore": lambda ctx: IGNORE,
    "erase": lambda ctx: ERASE,
    "now": _now,
    "timestamp": lambda ctx: int(_now(ctx).timestamp()),
    "uuid": _uuid,
    "random": lambda ctx: ctx.rng.random(),
    "pi": lambda ctx: math.pi,
    "executionId": lambda ctx: (ctx.variables.get("execution") or {}).get("id"),
}
"""Every keyword and how it is evaluated."""

KEYWORD_HELP: dict[str, str] = {
    "null": "No value: the field is sent empty (null).",
    "true": "The boolean true.",
    "false": "The boolean false.",
    "emptystring": 'A text of no characters ("").',
    "emptyarray": "An array with no items ([]).",
    "space": "One space character.",
    "tab": "One tab character.",
    "newline": "A line break (LF).",
    "carriagereturn": "A carriage return (CR).",
    "nbsp": "A non-breaking space (U+00A0).",
    "ignore": "Leaves the field out, as if it were not mapped.",
    "erase": "Clears the field's value in the app (an update removes it).",
    "now": "The current date and time, in the scenario's time zone.",
    "timestamp": "The current Unix time in seconds.",
    "uuid": "A random UUID (version 4).",
    "random": "A random number from 0 (included) to 1 (excluded).",
    "pi": "The number π (3.14159…).",
    "executionId": "The id of the running execution.",
}
"""What each keyword gives, for the mapping panel's Keywords tab (every keyword has one)."""


class Keyword(Node):
    """``now``, ``null``, ``emptyarray`` … (see ``KEYWORDS``)."""

    __slots__ = ("_produce", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._produce = KEYWORDS[name]
        self.depth = 1

    def evaluate(self, ctx: EvalContext) -> Any:
        return self._produce(ctx)


_CONSTANT_KEYWORDS: dict[str, Any] = {
    "null": None,
    "true": True,
    "false": False,
    "emptystring": "",
    "space": " ",
    "tab": "\t",
    "newline": "\n",
    "carriagereturn": "\r",
    "nbsp": "\u00a0",
}


def keyword_node(name: str) -> Node:
    """The node of keyword ``name``; constant keywords fold into literals (free to evaluate)."""
    if name in _CONSTANT_KEYWORDS:
        return Literal(_CONSTANT_KEYWORDS[name])
    return Keyword(name)


class Bundle(Node):
    """The whole output bundle of module ``module_id`` (``{{`1`}}``)."""

    __slots__ = ("module_id",)

    def __init__(self, module_id: int) -> None:
        self.module_id = module_id
        self.depth = 1

    def evaluate(self, ctx: EvalContext) -> Any:
        return ctx.bundles.get(self.module_id)

    def collect_references(self, into: set[int]) -> None:
        into.add(self.module_id)


class Variables(Node):
    """The ``var`` namespace (``var.scenario.id``)."""

    __slots__ = ()

    def __init__(self) -> None:
        self.depth = 1

    def evaluate(self, ctx: EvalContext) -> Any:
        return ctx.variables


class Scope(Node):
    """A named root of the evaluation's scopes (``body``, ``parameters`` in an app's IML)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        self.depth = 1

    def evaluate(self, ctx: EvalContext) -> Any:
        return ctx.scopes.get(self.name)


class Path(Node):
    """Steps into a value: ``1.items[2].name``, ``var.input.x``, ``split(a; ",")[1]``.

    ``steps`` hold ``Key``, ``SPREAD`` or a ``Node`` (an index expression, evaluated each time).
    """

    __slots__ = ("_module_id", "_name", "_names", "_static", "base", "steps")

    def __init__(self, base: Node, steps: list[Any]) -> None:
        self.base = base
        self.steps = steps
        self._static = all(step is SPREAD or isinstance(step, Key) for step in steps)
        # The common case (1.a.b): plain key steps, walked without the general machinery.
        self._names = tuple(s.name for s in steps) if all(isinstance(s, Key) for s in steps) else ()
        # The commonest base of all, a module's bundle (1.a), is read inline.
        self._module_id = base.module_id if type(base) is Bundle and self._names else None
        # Commonest of all: one key into a module's bundle (1.email).
        self._name = self._names[0] if self._module_id is not None and len(steps) == 1 else None
        self.depth = max([base.depth, *(s.depth for s in steps if isinstance(s, Node))]) + 1

    def single_key(self) -> tuple[int, str] | None:
        """``(module id, key)`` for one key into a module's bundle (``1.email``), which a
        compiled template reads inline; ``None`` for any other path."""
        if self._name is None or self._module_id is None:
            return None
        return self._module_id, self._name

    def _resolved_steps(self, ctx: EvalContext) -> list[Any]:
        if self._static:
            return self.steps
        return [
            Index(step.evaluate(ctx)) if isinstance(step, Node) else step for step in self.steps
        ]

    def evaluate(self, ctx: EvalContext) -> Any:
        if self._module_id is not None:
            value = ctx.bundles.get(self._module_id)
            if self._name is not None and type(value) is dict:
                return value.get(self._name)
            return self._walk_names(value, ctx, spread=False)
        value = self.base.evaluate(ctx)
        if self._names:
            return self._walk_names(value, ctx, spread=False)
        return self._walk(value, self._resolved_steps(ctx), ctx, spread=False)

    def evaluate_arg(self, ctx: EvalContext) -> Any:
        if self._module_id is not None:
            value = ctx.bundles.get(self._module_id)
            if self._name is not None and type(value) is dict:
                return value.get(self._name)
            return self._walk_names(value, ctx, spread=True)
        value = self.base.evaluate(ctx)
        if self._names:
            return self._walk_names(value, ctx, spread=True)
        return self._walk(value, self._resolved_steps(ctx), ctx, spread=True)

    def compiled(self) -> Evaluator:
        return self._compiled(self.evaluate)

    def compiled_arg(self) -> Evaluator:
        return self._compiled(self.evaluate_arg)

    def _compiled(self, general: Evaluator) -> Evaluator:
        """Key steps into a module's bundle (``1.contact.name``) read inline; anything else
        (an array on the way, a missing value) goes the general way from the start."""
        module_id, names = self._module_id, self._names
        if module_id is None:
            return general
        if len(names) == 1:
            name = names[0]

            def read_key(ctx: EvalContext) -> Any:
                value = ctx.bundles.get(module_id)
                if type(value) is dict:
                    return value.get(name)
                return general(ctx)

            return read_key

        def read_keys(ctx: EvalContext) -> Any:
            value = ctx.bundles.get(module_id)
            for name in names:
                if type(value) is not dict:
                    return general(ctx)
                value = value.get(name)
            return value

        return read_keys

    def _walk_names(self, value: Any, ctx: EvalContext, *, spread: bool) -> Any:
        for position, name in enumerate(self._names):
            if type(value) is dict:
                value = value.get(name)
            elif value is None:
                return None
            else:  # an array (key steps map over it) or a scalar: the general walk
                return self._walk(value, self.steps[position:], ctx, spread=spread)
        return value

    @staticmethod
    def _walk(value: Any, steps: list[Any], ctx: EvalContext, *, spread: bool) -> Any:
        """The general walk, which maps key steps over arrays (so may take long)."""
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        return walk(value, steps, spread=spread)

    def collect_references(self, into: set[int]) -> None:
        self.base.collect_references(into)
        for step in self.steps:
            if isinstance(step, Node):
                step.collect_references(into)


class Negate(Node):
    """Unary minus (``-30``) or plus."""

    __slots__ = ("operand", "sign")

    def __init__(self, operand: Node, sign: str) -> None:
        self.operand = operand
        self.sign = sign
        self.depth = operand.depth + 1

    def evaluate(self, ctx: EvalContext) -> Any:
        value = self.operand.evaluate(ctx)
        try:
            number = to_number(value)
        except CoercionError as error:
            raise DataError(f"Operator '{self.sign}' cannot use {error}") from None
        return -number if self.sign == "-" else number

    def collect_references(self, into: set[int]) -> None:
        self.operand.collect_references(into)

    def has_word_arithmetic(self) -> bool:
        return isinstance(self.operand, Word) or self.operand.has_word_arithmetic()


class Binary(Node):
    """An infix operator other than ``&``/``|``."""

    __slots__ = ("_apply", "left", "op", "right")

    def __init__(self, op: str, left: Node, right: Node) -> None:
        self.op = op
        self.left = left
        self.right = right
        self._apply = BINARY_OPERATORS[op]
        self.depth = max(left.depth, right.depth) + 1

    def evaluate(self, ctx: EvalContext) -> Any:
        left, right = self.left.evaluate(ctx), self.right.evaluate(ctx)
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            result = self._apply(left, right)
        except (CoercionError, RecursionError) as error:
            raise DataError(f"Operator '{self.op}' failed: {error}") from None
        return check_size(result, ctx.max_output, f"Operator '{self.op}'")

    def compiled(self) -> Evaluator:
        left, right, apply, op = self.left.compiled(), self.right.compiled(), self._apply, self.op
        native = _NATIVE_ARITHMETIC.get(op)
        if native is not None:
            general = _arithmetic(left, right, apply, op, native)
            return _generated_arithmetic(self, general) or general

        def operate(ctx: EvalContext) -> Any:
            first, second = left(ctx), right(ctx)
            if ctx.checkpoint is not None:
                ctx.checkpoint()
            try:
                result = apply(first, second)
            except (CoercionError, RecursionError) as error:
                raise DataError(f"Operator '{op}' failed: {error}") from None
            if type(result) is int or type(result) is float or type(result) is bool:
                return result  # arithmetic and comparisons: nothing to measure
            return check_size(result, ctx.max_output, f"Operator '{op}'")

        return operate

    def collect_references(self, into: set[int]) -> None:
        self.left.collect_references(into)
        self.right.collect_references(into)

    def has_word_arithmetic(self) -> bool:
        if self.op in ARITHMETIC and (isinstance(self.left, Word) or isinstance(self.right, Word)):
            return True
        return self.left.has_word_arithmetic() or self.right.has_word_arithmetic()


_NATIVE_ARITHMETIC: dict[str, tuple[Callable[[Any, Any], Any], bool]] = {
    "+": (operator.add, False),
    "-": (operator.sub, True),
    "*": (operator.mul, True),
}
"""Operators computed at once when both operands are ``int``/``float`` (not ``bool``): the
Python operator, and whether the operands must be finite (``-`` and ``*`` read them as
numbers, which refuses infinities; ``+`` of two numbers adds them as they are)."""


def _arithmetic(
    left: Evaluator,
    right: Evaluator,
    apply: Callable[[Any, Any], Any],
    op: str,
    native: tuple[Callable[[Any, Any], Any], bool],
) -> Evaluator:
    """``Binary.compiled`` for ``+``, ``-``, ``*``: two plain numbers are computed inline (Make's
    coercions have nothing to do for them), anything else goes through the operator table."""
    compute, finite = native

    def operate(ctx: EvalContext) -> Any:
        first, second = left(ctx), right(ctx)
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        kind, other = type(first), type(second)
        if (
            (kind is int or kind is float)
            and (other is int or other is float)
            and (
                not finite
                or ((kind is int or isfinite(first)) and (other is int or isfinite(second)))
            )
        ):
            return normalize_number(compute(first, second))
        try:
            result = apply(first, second)
        except (CoercionError, RecursionError) as error:
            raise DataError(f"Operator '{op}' failed: {error}") from None
        if type(result) is int or type(result) is float or type(result) is bool:
            return result
        return check_size(result, ctx.max_output, f"Operator '{op}'")

    return operate


def _generated_arithmetic(root: Binary, general: Evaluator) -> Evaluator | None:
    """A tree of ``+``, ``-``, ``*`` over one-key references (``2.qty``) and number literals as
    one generated function: each reference read inline and each operation computed in
    Python's arithmetic while every value is a plain finite number; the first value that is
    not (text to coerce, an empty value, a boolean, an infinity, an integer past 2^53, a
    checkpoint to call) hands the whole expression to ``general``, the closures it was
    compiled from, which give Make's coercions and errors. References only read, so
    evaluating again from the start changes nothing. ``None`` for any other tree."""
    names: dict[str, Any] = {"general": general, "dict": dict, "int": int, "float": float}
    lines: list[str] = []
    leaves: list[str] = []
    result = _arithmetic_source(root, names, lines, leaves, {})
    if result is None or not lines:
        return None
    shape = "\n".join(lines) + f"\n    return {result}"
    return types.FunctionType(
        generated_code("arithmetic", shape), {**names, "MAX": MAX_SAFE_INTEGER}
    )


def _arithmetic_source(
    node: Node, names: dict[str, Any], lines: list[str], leaves: list[str], bundles: dict[int, str]
) -> str | None:
    """The name holding ``node``'s value in the generated function (lines appended), or
    ``None`` when ``node`` is not such a tree. ``bundles``: the name already holding each
    module's bundle (read once, checked to be a ``dict`` once)."""
    if type(node) is Literal:
        value = node.value
        if type(value) not in (int, float) or not isfinite(value):
            return None
        if type(value) is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return None
        name = f"c{len(names)}"
        names[name] = value
        return name
    if type(node) is Path:
        read = read_key_source(node, names, lines, leaves, bundles)
        if read is None:
            return None
        lines.extend(
            [
                f"    if (type({read}) is not int and type({read}) is not float) "
                f"or {read} - {read} != 0:",
                "        return general(ctx)",
            ]
        )
        return read
    if type(node) is not Binary or node.op not in _NATIVE_ARITHMETIC:
        return None
    first = _arithmetic_source(node.left, names, lines, leaves, bundles)
    second = _arithmetic_source(node.right, names, lines, leaves, bundles) if first else None
    if first is None or second is None:
        return None
    name = f"r{len(lines)}"
    lines.extend(
        [
            f"    {name} = {first} {node.op} {second}",
            f"    if type({name}) is float:",
            f"        if {name} - {name} != 0:",
            "            return general(ctx)",
            f"        if {name}.is_integer() and -MAX < {name} < MAX:",
            f"            {name} = int({name})",
            f"    elif not -MAX <= {name} <= MAX:",
            "        return general(ctx)",
        ]
    )
    return name


def read_key_source(
    node: Path, names: dict[str, Any], lines: list[str], leaves: list[str], bundles: dict[int, str]
) -> str | None:
    """A one-key reference (``2.qty``) read into a name in a generated function, of any type:
    its bundle read once and checked to be a ``dict`` (else the function hands over to
    ``general``), the lines appended to ``lines``. ``None`` for a path that is not one key."""
    key = node.single_key()
    if key is None:
        return None
    index = len(leaves)
    name = f"x{index}"
    leaves.append(name)
    module_id, names[f"n{index}"] = key
    bundle = bundles.get(module_id)
    if bundle is None:
        bundle = bundles[module_id] = f"b{index}"
        names[f"m{index}"] = module_id
        lines.extend(
            [
                f"    {bundle} = ctx.bundles.get(m{index})",
                f"    if type({bundle}) is not dict:",
                "        return general(ctx)",
            ]
        )
    lines.append(f"    {name} = {bundle}.get(n{index})")
    return name


@functools.lru_cache(maxsize=256)
def generated_code(name: str, body: str) -> types.CodeType:
    """The code of ``def <name>(ctx)`` with ``body`` (compiled once per text), which hands over
    to ``general`` while a checkpoint is set."""
    source = f"def {name}(ctx):\n    if ctx.checkpoint is not None:\n"
    source += "        return general(ctx)\n" + body
    module = compile(source, f"<{name}>", "exec")
    code: types.CodeType = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return code


class Logical(Node):
    """``&`` (and) / ``|`` (or): short-circuit, the result is a boolean."""

    __slots__ = ("is_and", "left", "right")

    def __init__(self, op: str, left: Node, right: Node) -> None:
        self.is_and = op in ("&", "&&")
        self.left = left
        self.right = right
        self.depth = max(left.depth, right.depth) + 1

    def evaluate(self, ctx: EvalContext) -> bool:
        first = to_bool(self.left.evaluate(ctx))
        if first != self.is_and:
            return first
        return to_bool(self.right.evaluate(ctx))

    def collect_references(self, into: set[int]) -> None:
        self.left.collect_references(into)
        self.right.collect_references(into)

    def has_word_arithmetic(self) -> bool:
        return self.left.has_word_arithmetic() or self.right.has_word_arithmetic()


class Call(Node):
    """A function call; its failures become Make's ``Function 'x' finished with error!``."""

    __slots__ = ("args", "spec")

    def __init__(self, spec: FunctionSpec, args: list[Node]) -> None:
        self.spec = spec
        self.args = args
        self.depth = max([0, *(arg.depth for arg in args)]) + 1

    def evaluate(self, ctx: EvalContext) -> Any:
        spec = self.spec
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            if spec.lazy:
                result = spec.impl(ctx, *[_thunk(arg, ctx) for arg in self.args])
            else:
                result = spec.impl(ctx, *[arg.evaluate_arg(ctx) for arg in self.args])
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{spec.name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result  # the usual answer, checked without the general size check
        return check_size(result, ctx.max_output, f"Function '{spec.name}'")

    def compiled(self) -> Evaluator:
        spec = self.spec
        if spec.lazy:
            return self.evaluate
        impl, name = spec.impl, spec.name
        args = tuple(arg.compiled_arg() for arg in self.args)
        if len(args) == 1:  # the commonest calls take one or two arguments: no argument list
            only = self.args[0]
            key = only.single_key() if type(only) is Path else None
            if key is not None:
                return _call_of_key(name, impl, key, only.evaluate_arg)
            return _call_of_one(name, impl, args[0])
        if len(args) == 2 and type(self.args[1]) is Literal:  # round(x; 2), formatDate(d; "…")
            constant = self.args[1].value
            float_places = getattr(impl, "float_places", None)
            if float_places is not None and type(constant) is int and 0 < constant <= 10:
                return _call_float_places(name, impl, args[0], constant, float_places)
            return _call_with_constant(name, impl, args[0], constant)
        if len(args) == 2:
            return _call_of_two(name, impl, args[0], args[1])
        return _settled_call(name, lambda ctx: impl(ctx, *[arg(ctx) for arg in args]))

    def collect_references(self, into: set[int]) -> None:
        for arg in self.args:
            arg.collect_references(into)


_FUNCTION_FAILURES = (
    FunctionError,
    CoercionError,
    ValueError,
    TypeError,
    ArithmeticError,
    RecursionError,
    TimeoutError,
)
"""What a function's failure may raise: Make's ``Function 'x' finished with error!``."""


def _settled_call(name: str, invoke: Evaluator) -> Evaluator:
    """``Call.evaluate`` around ``invoke`` (the function applied to its arguments' values):
    the checkpoint, Make's error for a failure, the size check of the result."""

    def call(ctx: EvalContext) -> Any:
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            result = invoke(ctx)
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result
        return check_size(result, ctx.max_output, f"Function '{name}'")

    return call


def _call_of_one(name: str, impl: Any, only: Evaluator) -> Evaluator:
    """``_settled_call`` of a one-argument function, in one frame (no inner lambda)."""

    def call(ctx: EvalContext) -> Any:
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            result = impl(ctx, only(ctx))
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result
        return check_size(result, ctx.max_output, f"Function '{name}'")

    return call


def _call_of_key(name: str, impl: Any, key: tuple[int, str], general: Evaluator) -> Evaluator:
    """``_call_of_one`` whose argument is one key into a module's bundle, read inline."""
    module_id, field = key

    def call(ctx: EvalContext) -> Any:
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        value = ctx.bundles.get(module_id)
        try:
            result = impl(ctx, value.get(field) if type(value) is dict else general(ctx))
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result
        return check_size(result, ctx.max_output, f"Function '{name}'")

    return call


def _call_with_constant(name: str, impl: Any, first: Evaluator, constant: Any) -> Evaluator:
    """``_call_of_two`` whose second argument is a literal: passed as it is."""

    def call(ctx: EvalContext) -> Any:
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            result = impl(ctx, first(ctx), constant)
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result
        return check_size(result, ctx.max_output, f"Function '{name}'")

    return call


def _call_float_places(
    name: str, impl: Any, first: Evaluator, places: int, float_places: Any
) -> Evaluator:
    """``_call_with_constant`` of a function of a number and a literal count of places whose
    answer for a float is ``float_places(number, places)`` when that is not ``None`` (``round``:
    its half-up on the float's digits), a number, so the result's size check is left out. Any
    other value, and a ``None``, goes to the function itself, as before."""

    def call(ctx: EvalContext) -> Any:
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            number = first(ctx)
            if type(number) is float:
                result = float_places(number, places)
                if result is not None:
                    return result
            result = impl(ctx, number, places)
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result
        return check_size(result, ctx.max_output, f"Function '{name}'")

    return call


def _call_of_two(name: str, impl: Any, first: Evaluator, second: Evaluator) -> Evaluator:
    """``_settled_call`` of a two-argument function, in one frame (no inner lambda)."""

    def call(ctx: EvalContext) -> Any:
        if ctx.checkpoint is not None:
            ctx.checkpoint()
        try:
            result = impl(ctx, first(ctx), second(ctx))
        except DataError:
            raise
        except _FUNCTION_FAILURES as error:
            raise DataError(f"Function '{name}' finished with error! {error}") from None
        if type(result) is str and len(result) <= ctx.max_output:
            return result
        return check_size(result, ctx.max_output, f"Function '{name}'")

    return call


def _thunk(node: Node, ctx: EvalContext) -> Callable[[], Any]:
    return lambda: node.evaluate_arg(ctx)
