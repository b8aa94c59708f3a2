"""IML's built-in functions, one module per kind of value; importing this package registers them.

``FUNCTIONS`` is the registry (name -> ``FunctionSpec``); see ``registry`` for the contract of a
function.
"""

from __future__ import annotations

from engine.mapping.functions import arrays, dates, general, math, text
from engine.mapping.functions.registry import FUNCTIONS, FunctionError, FunctionSpec, function

__all__ = [
    "FUNCTIONS",
    "FunctionError",
    "FunctionSpec",
    "arrays",
    "dates",
    "function",
    "general",
    "math",
    "text",
]
