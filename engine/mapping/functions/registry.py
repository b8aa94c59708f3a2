"""The declared table of IML functions.

Each function is a small Python function registered with its name and arity::

    @function("lower", arity=(1, 1))
    def lower(ctx: EvalContext, text: Any) -> str:
        \"\"\"Converts text to lower case. ``lower("Hello")`` -> ``hello``.\"\"\"

It receives the evaluation context and its evaluated arguments (``lazy=True`` functions get
zero-argument callables instead, so ``if`` evaluates one branch only). It raises
``FunctionError`` (or a ``CoercionError``) for bad arguments; the call site turns that into
Make's ``Function 'lower' finished with error! …`` ``DataError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.errors import ExpressionError

Impl = TypeVar("Impl", bound=Callable[..., Any])


class FunctionError(ValueError):
    """A function was given arguments it cannot work with; the message says which and why."""


@dataclass(frozen=True)
class FunctionSpec:
    """One registered function.

    Attributes:
        name: the IML name, case-sensitive (``formatDate``).
        impl: ``impl(ctx, *args)``.
        min_args: fewest arguments accepted.
        max_args: most arguments accepted (``None``: any number).
        lazy: the arguments arrive as zero-argument callables.
        category: ``general``, ``text``, ``math``, ``dates`` or ``arrays``.
    """

    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None
    lazy: bool
    category: str

    @property
    def summary(self) -> str:
        """The first paragraph of the function's docstring (used by the docs test)."""
        return (self.impl.__doc__ or "").strip().split("\n\n")[0]

    def check_arity(self, count: int) -> str | None:
        """Why ``count`` arguments are wrong for this function, or ``None`` if they are fine."""
        if count < self.min_args:
            return f"function '{self.name}' needs at least {self.min_args} argument(s), got {count}"
        if self.max_args is not None and count > self.max_args:
            return f"function '{self.name}' takes at most {self.max_args} argument(s), got {count}"
        return None


class FunctionRegistry(Mapping[str, FunctionSpec]):
    """Name -> ``FunctionSpec``; looking up an unknown name fails loudly, naming it."""

    def __init__(self) -> None:
        self._functions: dict[str, FunctionSpec] = {}

    def register(self, spec: FunctionSpec) -> None:
        if spec.name in self._functions:
            raise ValueError(f"function {spec.name!r} is registered twice")
        self._functions[spec.name] = spec

    def extended(self, specs: Iterator[FunctionSpec] | list[FunctionSpec]) -> FunctionRegistry:
        """A new registry with every function of this one and ``specs`` (a dialect's own,
        such as an app definition's helpers); a name already here is refused."""
        registry = FunctionRegistry()
        registry._functions = dict(self._functions)
        for spec in specs:
            registry.register(spec)
        return registry

    def __getitem__(self, name: str) -> FunctionSpec:
        return self._functions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    def lookup(self, name: str, *, where: str = "", column: int | None = None) -> FunctionSpec:
        """The function called ``name``.

        Raises:
            ExpressionError: no such function (with a suggestion when one is close).
        """
        spec = self._functions.get(name)
        if spec is not None:
            return spec
        reason = f"unknown function '{name}'"
        close = difflib.get_close_matches(name, self._functions, n=1, cutoff=0.8)
        lowered = {key.lower(): key for key in self._functions}.get(name.lower())
        if lowered or close:
            reason += f" (did you mean '{lowered or close[0]}'?)"
        raise ExpressionError(reason, where=where, column=column)


FUNCTIONS = FunctionRegistry()
"""Every IML function this installation knows."""


def function(
    name: str, *, arity: tuple[int, int | None], lazy: bool = False
) -> Callable[[Impl], Impl]:
    """Register the decorated function as the IML function ``name`` (and return it as it is)."""

    def register(impl: Impl) -> Impl:
        category = impl.__module__.rsplit(".", 1)[-1]
        FUNCTIONS.register(FunctionSpec(name, impl, arity[0], arity[1], lazy, category))
        return impl

    return register
