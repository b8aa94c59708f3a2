"""Which modules a mapping template refers to.

Until the expression language parses templates (``engine.mapping``), references are read from
the text: a module id followed by a path segment (``{{12.name}}``, ``{{3.`Contact ID`}}``) or a
whole bundle in backticks (``{{`1`}}``), outside string literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_REFERENCE = re.compile(r"(?<![\w.`])(\d+)\.(?=[A-Za-z_$`])|(?<![\w.])`(\d+)`")


def template_references(template: Any) -> frozenset[int]:
    """Module ids referenced by one template (a non-string refers to nothing)."""
    if not isinstance(template, str) or "{{" not in template:
        return frozenset()
    found: set[int] = set()
    for expression in _EXPRESSION.findall(template):
        code = _STRING_LITERAL.sub('""', expression)
        for match in _REFERENCE.finditer(code):
            found.add(int(match.group(1) or match.group(2)))
    return frozenset(found)


def iter_templates(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its JSON path (``mapper.headers[0].value``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_templates(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_templates(item, f"{path}[{index}]")
