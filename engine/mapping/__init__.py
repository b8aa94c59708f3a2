"""Make's mapping language (IML): templates such as ``"Hi {{1.name}}"`` parsed once, evaluated
many times against the bundles of a run.

Never Python ``eval`` and never a template engine: a hand-written parser builds a small syntax
tree whose nodes can only read the data they are given (no attribute access, imports or I/O).
Regular expressions run with a timeout and every value is bounded by ``EvalContext.max_output``.

::

    tpl = compile_template("Hi {{upper(1.name)}}", where="module 3, mapper.text")
    tpl.evaluate(EvalContext(bundles={1: {"name": "ada"}}))   # -> "Hi ADA"

Errors: ``ExpressionError`` (a ``UserError``) when a template does not parse or names an unknown
function, at compile time; ``DataError`` when a function fails on the data at run time.
"""

from __future__ import annotations

from engine.mapping.context import DEFAULT_MAX_OUTPUT, EvalContext
from engine.mapping.dialect import SCENARIO, Dialect
from engine.mapping.functions import FUNCTIONS
from engine.mapping.nodes import KEYWORD_HELP, KEYWORDS
from engine.mapping.template import CompiledValue, Template, compile_mapper, compile_template
from engine.mapping.values import ERASE, IGNORE

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "ERASE",
    "FUNCTIONS",
    "IGNORE",
    "KEYWORDS",
    "KEYWORD_HELP",
    "SCENARIO",
    "CompiledValue",
    "Dialect",
    "EvalContext",
    "Template",
    "compile_mapper",
    "compile_template",
]
