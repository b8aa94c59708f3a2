"""Make's Markdown app: Markdown to HTML (``markdown:Compile``).

``mapper {data, gfm, sanitize}`` → ``data``, the HTML. GitHub Flavored Markdown adds tables and
strikethrough; ``sanitize`` escapes raw HTML in the Markdown instead of passing it through.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict

from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec


class CompileInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    data: Any = ""
    gfm: bool = True
    sanitize: bool = False


class CompileOutput(BaseModel):
    data: str


@cache
def _renderer(gfm: bool, sanitize: bool) -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": not sanitize})
    return renderer.enable(["table", "strikethrough"]) if gfm else renderer


def compile_markdown(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(CompileInput)
    text = "" if data.data is None else str(data.data)
    yield {"data": _renderer(data.gfm, data.sanitize).render(text)}


MARKDOWN_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="markdown:Compile",
        kind=ModuleKind.ACTION,
        label="Markdown to HTML",
        version=2,
        input=CompileInput,
        output=CompileOutput,
        run=compile_markdown,
        effect=Effect.COMPUTE,
    ),
)
