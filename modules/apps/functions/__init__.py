"""Functions app definitions may call beyond Make's library.

Make's custom apps write such helpers in JavaScript (custom IML functions), which Switchboard
does not run. These are Python; each is small, pure and documented, and any definition (or
sandbox definition) may call them. Arguments arrive evaluated, as for every IML function.
General ones live here; those that know one API's shapes in a module per API
(``sheets``, ``gmail`` …), imported at the end so they register.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from engine.mapping.functions.registry import FunctionError, FunctionSpec

APP_FUNCTIONS: list[FunctionSpec] = []
"""Every helper, registered into the app dialect's function library."""


def helper(name: str, arity: tuple[int, int | None]) -> Callable[[Callable[..., Any]], Any]:
    """Register the decorated function as the app helper ``name``."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        APP_FUNCTIONS.append(FunctionSpec(name, impl, arity[0], arity[1], False, "apps"))
        return impl

    return register


@helper("parseJSON", (1, 1))
def parse_json(ctx: Any, text: Any) -> Any:
    """The value of JSON text (JavaScript's ``JSON.parse``); empty text is empty."""
    if text in (None, ""):
        return None
    if not isinstance(text, str | bytes):
        return text
    try:
        return json.loads(text)
    except ValueError as error:
        raise FunctionError(f"not JSON: {error}") from None


@helper("collection", (1, 1))
def collection(ctx: Any, value: Any) -> dict[str, Any]:
    """``value`` when it is a collection, else an empty one (an unmapped collection field)."""
    return dict(value) if isinstance(value, dict) else {}


@helper("toJSON", (1, 1))
def to_json(ctx: Any, value: Any) -> str:
    """``value`` as JSON text (JavaScript's ``JSON.stringify``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


from modules.apps.functions import (  # noqa: E402,F401 - registers their helpers
    ai,
    airtable,
    gmail,
    google,
    notion,
    sheets,
    tools,
)
