"""Templates (text mixed with ``{{…}}``) and whole mapper structures, compiled once.

A template that is exactly one ``{{expr}}`` keeps the expression's type; text around or
between expressions makes the result text (Make's coercion: ISO dates, ``true``/``false``).
"""

from __future__ import annotations

import copy
import functools
import types
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from engine.errors import DataError, ExpressionError
from engine.mapping.context import EvalContext
from engine.mapping.dialect import SCENARIO, Dialect
from engine.mapping.lexer import tokenize_expression
from engine.mapping.nodes import Literal, Node, Path, Word
from engine.mapping.parser import Parser
from engine.mapping.values import ERASE, IGNORE, CoercionError, ValueTooLarge, to_text

MAX_MAPPER_DEPTH = 64
"""Deepest JSON nesting ``compile_mapper`` accepts."""


class Template:
    """One compiled template.

    Attributes:
        source: the original value (a string, or any JSON value for a constant).
        where: where the template lives, for messages (``module 3, mapper.url``).
        references: module ids the template reads (``var.*`` excluded).
        is_constant: the template has no ``{{…}}``; ``evaluate`` returns the source.
    """

    __slots__ = ("_parts", "_run", "_single", "is_constant", "references", "source", "where")

    def __init__(self, source: Any, where: str, parts: list[str | Node]) -> None:
        self.source = source
        self.where = where
        self._parts = parts
        self.is_constant = not any(isinstance(part, Node) for part in parts)
        self._single: Node | None = None
        if len(parts) == 1 and isinstance(parts[0], Node):
            root = parts[0]
            # A bare word alone in {{…}} names nothing Make knows: it reads as empty.
            self._single = Literal(None) if isinstance(root, Word) else root
        found: set[int] = set()
        for part in parts:
            if isinstance(part, Node):
                part.collect_references(found)
        self.references = frozenset(found)
        self._run: Callable[[EvalContext], Any] | None = None

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def evaluate(self, ctx: EvalContext) -> Any:
        """The template's value in ``ctx``; ``IGNORE``/``ERASE`` come back as themselves.

        Raises:
            DataError: a function or operator failed, or the value is over ``ctx.max_output``.
        """
        run = self._run
        if run is None:  # compiled on first use: a template parsed for one evaluation is not
            run = self._run = self.compiled()
        return run(ctx)

    def single_key(self) -> tuple[int, str] | None:
        """``(module id, key)`` when the template is one key into a module's bundle alone
        (``{{2.qty}}``: its value is that key's value, read as it is); ``None`` otherwise."""
        single = self._single
        return single.single_key() if type(single) is Path else None

    def compiled(self) -> Callable[[EvalContext], Any]:
        """``evaluate`` as one function of the context (the expressions' closures inside)."""
        if self._single is not None:
            return self._single.compiled()
        if self.is_constant:
            source = self.source
            if isinstance(source, dict | list):
                return lambda ctx: copy.deepcopy(source)
            return lambda ctx: source
        return _generated_joiner(self._parts, f"Template at {self.where}")


def _joiner(
    parts: tuple[str | Callable[[EvalContext], Any], ...], what: str
) -> Callable[[EvalContext], str]:
    """A text template as one function: each part's text in order, its size summed as it
    is reached (many references to one big value would otherwise be joined into a text of
    their total size, template length x input size, before any check)."""

    def joined(ctx: EvalContext) -> str:
        limit = ctx.max_output
        pieces: list[str] = []
        size = 0
        try:
            for part in parts:
                piece = part if isinstance(part, str) else part(ctx)
                if type(piece) is not str:
                    piece = to_text(piece)
                size += len(piece)
                if size > limit:
                    raise ValueTooLarge(
                        f"{what} produced a value larger than the limit of {limit:,}"
                    )
                pieces.append(piece)
        except (CoercionError, RecursionError) as error:
            raise DataError(f"{what} cannot be converted to text: {error}") from None
        return "".join(pieces)  # its length is ``size``: within the limit

    return joined


_MAX_GENERATED_PARTS = 32
"""Longer text templates use ``_joiner``'s loop instead of generated source."""


def _generated_joiner(parts: list[str | Node], what: str) -> Callable[[EvalContext], str]:
    """``_joiner`` for ``parts`` written out as Python source and compiled once per shape: the
    loop unrolled, a one-key reference (``1.email``) read inline, the text joined by one
    f-string. Same order of evaluation, same checks and errors as ``_joiner`` (the tests
    compare both on generated templates)."""
    if len(parts) > _MAX_GENERATED_PARTS:
        compiled = tuple(part if isinstance(part, str) else part.compiled() for part in parts)
        return _joiner(compiled, what)
    names: dict[str, Any] = {**_JOINER_NAMES, "WHAT": what}
    shape: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, str):
            shape.append("text")
            names[f"p{index}"], names[f"n{index}"] = part, len(part)
            continue
        key = part.single_key() if isinstance(part, Path) else None
        if key is not None:
            shape.append("key")
            names[f"m{index}"], names[f"k{index}"] = key
            names[f"g{index}"] = part.evaluate
        else:
            shape.append("node")
            names[f"f{index}"] = part.compiled()
    code = _joiner_code(tuple(shape))
    return types.FunctionType(code, names, "joined")


_JOINER_NAMES: dict[str, Any] = {
    "CoercionError": CoercionError,
    "RecursionError": RecursionError,
    "DataError": DataError,
    "ValueTooLarge": ValueTooLarge,
    "to_text": to_text,
    "dict": dict,
    "str": str,
    "len": len,
    "type": type,
}


@functools.lru_cache(maxsize=512)
def _joiner_code(shape: tuple[str, ...]) -> types.CodeType:
    """The code of a joiner for templates of ``shape`` (``text``, ``key`` or ``node`` per
    part); the parts themselves are the function's globals (``p0``, ``f1`` …)."""
    body = ["def joined(ctx):", "    limit = ctx.max_output", "    size = 0", "    try:"]
    for index, kind in enumerate(shape):
        piece = f"p{index}"
        if kind == "text":
            body.append(f"        size += n{index}")
        else:
            if kind == "key":
                body += [
                    f"        {piece} = ctx.bundles.get(m{index})",
                    f"        {piece} = {piece}.get(k{index}) if type({piece}) is dict "
                    f"else g{index}(ctx)",
                ]
            else:
                body.append(f"        {piece} = f{index}(ctx)")
            body += [
                f"        if type({piece}) is not str:",
                f"            {piece} = to_text({piece})",
                f"        size += len({piece})",
            ]
        body += [
            "        if size > limit:",
            "            raise ValueTooLarge("
            'f"{WHAT} produced a value larger than the limit of {limit:,}")',
        ]
    joined = "".join("{p" + str(index) + "}" for index in range(len(shape)))
    body += [
        "    except (CoercionError, RecursionError) as error:",
        '        raise DataError(f"{WHAT} cannot be converted to text: {error}") from None',
        f'    return f"{joined}"',
    ]
    return _function_code("\n".join(body))


def compile_template(source: Any, where: str = "", dialect: Dialect = SCENARIO) -> Template:
    """Parse ``source`` once; a non-string (number, null, array …) is a constant template.

    Raises:
        ExpressionError: a syntax error or an unknown function, with ``where`` and the 1-based
            column in ``source``.
    """
    if not isinstance(source, str):
        return Template(source, where, [])
    return Template(source, where, _parts(source, where, dialect))


def _parts(source: str, where: str, dialect: Dialect) -> list[str | Node]:
    parts: list[str | Node] = []
    position = 0
    while True:
        opening = source.find("{{", position)
        if opening < 0:
            break
        while source.startswith("{", opening + 2):
            opening += 1  # in "{{{{x}}" the expression opens at the last "{{"
        if opening > position:
            parts.append(source[position:opening])
        tokens = tokenize_expression(source, opening + 2, where, commas=dialect.comma_arguments)
        try:
            parts.append(Parser(source, tokens, where, dialect).parse_root())
        except RecursionError:
            raise ExpressionError(
                "expression is nested too deeply", where=where, column=opening + 1
            ) from None
        position = tokens[-1].end
    if position < len(source) or not parts:
        parts.append(source[position:])
    return parts


class CompiledValue:
    """A whole mapper (any JSON structure) whose every string is a compiled template.

    Attributes:
        source: the original structure.
        references: module ids read anywhere inside.
        is_constant: no template inside has ``{{…}}``.
    """

    __slots__ = ("_root", "_run", "is_constant", "references", "source")

    def __init__(self, source: Any, root: _Compiled) -> None:
        self.source = source
        self._root = root
        # A collection (the usual mapper) never settles to ERASE/IGNORE: its function at once.
        self._run = root.run if type(root) is _Collection else None
        self.references = root.references
        self.is_constant = root.is_constant

    def __repr__(self) -> str:
        return f"CompiledValue({self.source!r})"

    def evaluate(self, ctx: EvalContext) -> Any:
        """The same structure with every template evaluated.

        A collection key whose value is ``IGNORE`` is left out (so is an ``IGNORE`` array item);
        ``ERASE`` becomes ``None``.
        """
        run = self._run
        if run is not None:
            return run(ctx)
        return _settle(self._root.evaluate(ctx))

    def structure(self) -> Any:
        """The mapper as nested ``dict``s and ``list``s whose leaves are its compiled
        ``Template``s (for code that evaluates some of them itself, such as the runner's
        Set variables); ``None`` when a collection spreads its keys (Make's spread key)."""
        return _structure(self._root)


def _structure(compiled: _Compiled) -> Any:
    if type(compiled) is _Leaf:
        return compiled.template
    if type(compiled) is _Array:
        items = [_structure(item) for item in compiled.items]
        return None if any(item is None for item in items) else items
    if type(compiled) is _Collection and not compiled.spreads:
        fields = {key: _structure(value) for key, value in compiled.items}
        return None if any(value is None for value in fields.values()) else fields
    return None


class _Compiled(ABC):
    __slots__ = ("is_constant", "references")

    references: frozenset[int]
    is_constant: bool

    @abstractmethod
    def evaluate(self, ctx: EvalContext) -> Any:
        """Each concrete class says how."""


class _Leaf(_Compiled):
    __slots__ = ("template",)

    def __init__(self, template: Template) -> None:
        self.template = template
        self.references = template.references
        self.is_constant = template.is_constant

    def evaluate(self, ctx: EvalContext) -> Any:
        return self.template.evaluate(ctx)


class _Collection(_Compiled):
    __slots__ = ("_evaluators", "_spread_key", "_spreads", "items", "run")

    @property
    def spreads(self) -> bool:
        """Whether one of its keys is the spread key (its value's fields go in its place)."""
        return self._spreads

    def __init__(self, items: list[tuple[str, _Compiled]], spread_key: str | None = None) -> None:
        self.items = items
        self.references = frozenset().union(*(value.references for _, value in items))
        self.is_constant = all(value.is_constant for _, value in items)
        self._spread_key = spread_key
        # Evaluated once per bundle per mapped module: call each leaf's template directly.
        self._evaluators = tuple((key, _evaluator(value)) for key, value in items)
        # Without the spread key among its keys (the usual case), no key is compared to it.
        self._spreads = any(key == spread_key for key, _ in items)
        self.run = self.evaluate if self._spreads else _generated_collection(items)

    def evaluate(self, ctx: EvalContext) -> dict[str, Any]:
        if self._spreads:
            return self._evaluate_spreading(ctx)
        result: dict[str, Any] = {}
        for key, evaluate in self._evaluators:
            value = evaluate(ctx)
            if value is IGNORE:
                continue
            result[key] = None if value is ERASE else value
        return result

    def _evaluate_spreading(self, ctx: EvalContext) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, evaluate in self._evaluators:
            value = evaluate(ctx)
            if value is IGNORE:
                continue
            if key == self._spread_key:
                _spread_into(result, value, key)
                continue
            result[key] = None if value is ERASE else value
        return result


def _generated_collection(items: list[tuple[str, _Compiled]]) -> Callable[[EvalContext], Any]:
    """``_Collection.evaluate`` (without a spread key) as generated source: the loop over its
    fields unrolled, constant text and numbers stored as they are, a one-key reference
    (``1.email``) read inline (code compiled once per shape)."""
    names: dict[str, Any] = {"IGNORE": IGNORE, "ERASE": ERASE, "type": type, "dict": dict}
    shape: list[str] = []
    for index, (key, compiled) in enumerate(items):
        names[f"k{index}"] = key
        template = compiled.template if type(compiled) is _Leaf else None
        single = template._single if template is not None else None
        found = single.single_key() if type(single) is Path else None
        if template is not None and template.is_constant and type(template.source) in _SCALARS:
            shape.append("constant")
            names[f"c{index}"] = template.source
        elif found is not None and single is not None:
            shape.append("key")
            names[f"m{index}"], names[f"n{index}"] = found
            names[f"g{index}"] = single.evaluate
        else:
            shape.append("value")
            names[f"e{index}"] = _evaluator(compiled)
    return types.FunctionType(_collection_code(tuple(shape)), names, "collection")


_SCALARS = (str, int, float, bool, type(None))
"""Constants a collection stores as they are (a constant array or collection is copied)."""


@functools.lru_cache(maxsize=512)
def _collection_code(shape: tuple[str, ...]) -> types.CodeType:
    body = ["def collection(ctx):", "    result = {}"]
    for index, kind in enumerate(shape):
        if kind == "constant":
            body.append(f"    result[k{index}] = c{index}")
            continue
        if kind == "key":
            body += [
                f"    value = ctx.bundles.get(m{index})",
                f"    value = value.get(n{index}) if type(value) is dict else g{index}(ctx)",
            ]
        else:
            body.append(f"    value = e{index}(ctx)")
        body += [
            "    if value is not IGNORE:",
            f"        result[k{index}] = None if value is ERASE else value",
        ]
    body.append("    return result")
    return _function_code("\n".join(body))


def _function_code(source: str) -> types.CodeType:
    """The code object of the one function ``source`` defines."""
    module = compile(source, "<mapper>", "exec")
    code: types.CodeType = next(
        const for const in module.co_consts if isinstance(const, types.CodeType)
    )
    return code


def _spread_into(result: dict[str, Any], value: Any, key: str) -> None:
    """Merge a spread key's collection into ``result`` (nothing for an empty value)."""
    if value is None or value is ERASE or value == "":
        return
    if not isinstance(value, dict):
        raise DataError(f"'{key}' needs a collection to merge, not {type(value).__name__}")
    result.update(value)


def _evaluator(compiled: _Compiled) -> Any:
    if type(compiled) is _Collection or type(compiled) is _Array:
        return compiled.run
    if type(compiled) is not _Leaf:
        return compiled.evaluate
    return compiled.template.compiled()


class _Array(_Compiled):
    __slots__ = ("_evaluators", "items", "run")

    def __init__(self, items: list[_Compiled]) -> None:
        self.items = items
        self.references = frozenset().union(*(item.references for item in items))
        self.is_constant = all(item.is_constant for item in items)
        self._evaluators = tuple(_evaluator(item) for item in items)
        self.run = _generated_array(self._evaluators) if len(items) <= 16 else self.evaluate

    def evaluate(self, ctx: EvalContext) -> list[Any]:
        values = [evaluate(ctx) for evaluate in self._evaluators]
        return [None if value is ERASE else value for value in values if value is not IGNORE]


def _generated_array(evaluators: tuple[Any, ...]) -> Callable[[EvalContext], list[Any]]:
    """``_Array.evaluate`` for a short array as generated source: each item evaluated in
    order, then ``IGNORE`` left out and ``ERASE`` made ``None`` (code compiled once per
    length)."""
    names: dict[str, Any] = {"IGNORE": IGNORE, "ERASE": ERASE, "_settled": _settled_items}
    for index, evaluate in enumerate(evaluators):
        names[f"e{index}"] = evaluate
    return types.FunctionType(_array_code(len(evaluators)), names, "array")


def _settled_items(values: list[Any]) -> list[Any]:
    return [None if value is ERASE else value for value in values if value is not IGNORE]


@functools.lru_cache(maxsize=32)
def _array_code(count: int) -> types.CodeType:
    items = ", ".join(f"e{index}(ctx)" for index in range(count))
    checks = " or ".join(
        f"values[{index}] is IGNORE or values[{index}] is ERASE" for index in range(count)
    )
    return _function_code(
        "def array(ctx):\n"
        f"    values = [{items}]\n"
        + (f"    if {checks}:\n        return _settled(values)\n" if count else "")
        + "    return values"
    )


def _settle(value: Any) -> Any:
    if value is ERASE or value is IGNORE:
        return None
    return value


def compile_mapper(value: Any, where: str = "", dialect: Dialect = SCENARIO) -> CompiledValue:
    """Compile every string inside ``value``; ``where`` grows with the JSON path of each one
    (``module 3, mapper.headers[0].value``).

    Raises:
        ExpressionError: the first template that does not compile, or nesting over
            ``MAX_MAPPER_DEPTH``.
    """
    return CompiledValue(value, _compile(value, where, 0, dialect))


def _compile(value: Any, where: str, depth: int, dialect: Dialect) -> _Compiled:
    if depth > MAX_MAPPER_DEPTH:
        raise ExpressionError(
            f"mapper is nested more than {MAX_MAPPER_DEPTH} levels deep", where=where
        )
    if isinstance(value, dict):
        items = [
            (str(key), _compile(item, f"{where}.{key}", depth + 1, dialect))
            for key, item in value.items()
        ]
        return _Collection(items, dialect.spread_key)
    if isinstance(value, list):
        return _Array(
            [
                _compile(item, f"{where}[{index}]", depth + 1, dialect)
                for index, item in enumerate(value)
            ]
        )
    return _Leaf(compile_template(value, where, dialect))
