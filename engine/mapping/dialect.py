"""Dialects: how the expressions of a template read.

Scenario mappings (``{{1.name}}``, ``ifempty(a; b)``) are the default dialect. An app defined as
data (a Make custom app) writes its requests in the same language with a few differences, which
``Dialect`` declares instead of the parser branching on who is asking:

- **named roots**: ``{{parameters.id}}``, ``{{body.data}}``, ``{{connection.apiKey}}`` read the
  evaluation's ``EvalContext.scopes`` instead of being bare text;
- **comma arguments**: ``ifempty(a, 'b')`` separates arguments with ``,`` as well as ``;``;
- ``===`` and ``!==`` (JavaScript's spelling of ``==`` and ``!=``);
- **more functions**: an app dialect may add functions of its own to the library;
- **spread keys**: a collection key ``{{...}}`` merges the collection its value evaluates to
  into the collection around it (``"qs": {"{{...}}": "{{toCollection(...)}}"}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.mapping.functions import FUNCTIONS
from engine.mapping.functions.registry import FunctionRegistry


@dataclass(frozen=True)
class Dialect:
    """How a template's expressions read (see the module docstring).

    Attributes:
        roots: names that read ``EvalContext.scopes`` (``parameters``, ``body`` …).
        comma_arguments: ``,`` separates function arguments as well as ``;``.
        functions: the function library calls are looked up in.
        spread_key: a collection key whose value is merged into the collection (``None``:
            keys are plain names).
    """

    roots: frozenset[str] = frozenset()
    comma_arguments: bool = False
    functions: FunctionRegistry = field(default_factory=lambda: FUNCTIONS)
    spread_key: str | None = None


SCENARIO = Dialect()
"""The dialect of scenario mappings and filters: Make's mapping panel."""
