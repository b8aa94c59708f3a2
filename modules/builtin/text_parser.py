"""Make's Text parser app: match a pattern (``regexp:Parser``), replace (``regexp:Replace``),
HTML to text (``regexp:HTMLToText``) and get elements from HTML (``regexp:HTMLParser``).

Patterns are JavaScript regular expressions, checked and run like every user pattern
(``engine.mapping.regexes``): an invalid or too costly one is refused before it is compiled,
and matching stops after ``REGEX_TIMEOUT`` seconds, so a catastrophic pattern fails its bundle
instead of hanging a worker.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import BundleValidationError, InvalidConfigurationError
from engine.mapping import regexes
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, choice
from modules.builtin.html_text import html_elements, html_to_text

_LAX = ConfigDict(extra="allow")
MAX_MATCHES = 10_000


class _PatternOptions(BaseModel):
    """Make's flags of a pattern: ``global``, ``sensitive``, ``multiline``, ``singleline``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    pattern: str = Field(default="", title="Pattern")
    global_: bool = Field(default=False, alias="global", title="Global match")
    sensitive: bool = Field(default=True, title="Case sensitive")
    multiline: bool = Field(default=False, title="Multiline")
    singleline: bool = Field(default=False, title="Singleline")

    def flags(self) -> str:
        """The JavaScript flags these options stand for."""
        chosen = {"g": self.global_, "i": not self.sensitive, "m": self.multiline}
        chosen["s"] = self.singleline
        return "".join(flag for flag, on in chosen.items() if on)


class ParserParameters(_PatternOptions):
    pass


class TextInput(BaseModel):
    model_config = _LAX

    text: Any = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def match_pattern(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle per match (the first only, unless global).

    A bundle holds ``$1``, ``$2`` … for the groups, the named groups, and ``__IMTMATCH__``.
    """
    settings = call.parameters_as(ParserParameters)
    place = f"module {call.module_id} (regexp:Parser): parameters.pattern"
    try:
        found = _matches(settings, _text(call.input_as(TextInput).text))
    except regexes.PatternError as error:
        raise InvalidConfigurationError(f"{place}: {error}") from None
    except TimeoutError as error:
        raise BundleValidationError(f"{place}: {error}") from None
    yield from found


class AdvancedParserInput(_PatternOptions):
    """Match pattern (advanced): the pattern and its flags are mapped, with the text."""

    text: Any = ""


def match_mapped_pattern(call: ModuleCall) -> Iterator[Bundle]:
    """``match_pattern`` whose pattern comes from the mapper (it may be built from data), so
    a bad pattern is a bundle's problem, not the module's set-up."""
    given = call.input_as(AdvancedParserInput)
    place = f"module {call.module_id} (regexp:AdvancedParser): mapper.pattern"
    try:
        found = _matches(given, _text(given.text))
    except (regexes.PatternError, TimeoutError) as error:
        raise BundleValidationError(f"{place}: {error}") from None
    yield from found


def _matches(settings: _PatternOptions, text: str) -> list[Bundle]:
    """Every match, found before the first is passed on: the runner takes each bundle through
    the rest of the scenario before it asks for the next, and that must not count against the
    pattern's timeout."""
    found: list[Bundle] = []
    flags = settings.flags().replace("g", "")
    for number, match in enumerate(regexes.finditer(settings.pattern, text, flags), start=1):
        if number > MAX_MATCHES:
            raise BundleValidationError(f"more than {MAX_MATCHES} matches")
        found.append(_match_bundle(match, number))
        if not settings.global_:
            break
    return found


def _match_bundle(match: Any, number: int) -> dict[str, Any]:
    bundle: dict[str, Any] = {f"${index}": group for index, group in enumerate(match.groups(), 1)}
    bundle.update(match.groupdict())
    bundle["__IMTMATCH__"] = number
    return bundle


class ReplaceInput(_PatternOptions):
    """Replace's mapper: the pattern and its flags, the new ``value`` and the ``text``."""

    value: Any = ""
    text: Any = ""


def replace(call: ModuleCall) -> Iterator[Bundle]:
    """``text`` with the first match (every match, when global) replaced by ``value``.

    ``value`` may use ``$1`` …, ``$<name>``, ``$&`` (the match), ``` $` ```, ``$'`` and ``$$``.
    """
    data = call.input_as(ReplaceInput)
    place = f"module {call.module_id} (regexp:Replace): pattern"
    try:
        text = regexes.replace(data.pattern, data.flags(), _text(data.text), _text(data.value))
    except regexes.PatternError as error:
        raise InvalidConfigurationError(f"{place}: {error}") from None
    except TimeoutError as error:
        raise BundleValidationError(f"{place}: {error}") from None
    yield {"text": text}


class HtmlToTextInput(BaseModel):
    model_config = _LAX

    html: Any = Field(default="", title="HTML")
    newline: Literal["lf", "crlf", "cr"] = choice(
        "lf", {"lf": "LF", "crlf": "CRLF", "cr": "CR"}, title="Line break"
    )
    uppercaseHeadings: bool = Field(default=True, title="Uppercase headings")


def html_as_text(call: ModuleCall) -> Iterator[Bundle]:
    """``text``: the HTML as plain text, lines ended as ``newline`` says."""
    data = call.input_as(HtmlToTextInput)
    yield {
        "text": html_to_text(
            _text(data.html), newline=data.newline, uppercase_headings=data.uppercaseHeadings
        )
    }


ELEMENT_TAGS: Mapping[str, str] = {
    "img": "img",
    "image": "img",
    "a": "a",
    "link": "a",
    "iframe": "iframe",
}
"""Element types of "Get elements from HTML" (images, links, iframes), by tag or by name."""


class HtmlElementsInput(BaseModel):
    model_config = _LAX

    html: Any = ""
    type: Literal["img", "image", "a", "link", "iframe"] = "img"


def elements_from_html(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle per element of the chosen type: its attributes (``src``, ``href`` …), and
    ``text`` for links."""
    data = call.input_as(HtmlElementsInput)
    found = list(html_elements(_text(data.html), ELEMENT_TAGS[data.type]))
    for position, element in enumerate(found, start=1):
        yield {**element, "__IMTINDEX__": position, "__IMTLENGTH__": len(found)}


_NO_ENDLESS_LOOP = (
    "Switchboard's matcher always moves past an empty match, so a global pattern cannot loop"
)

TEXT_PARSER: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="regexp:Parser",
        kind=ModuleKind.SEARCH,
        label="Match pattern",
        parameters=ParserParameters,
        input=TextInput,
        run=match_pattern,
        ignored_keys={"ignoreInfiniteLoopsWhenGlobal": _NO_ENDLESS_LOOP},
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="regexp:AdvancedParser",
        kind=ModuleKind.SEARCH,
        label="Match pattern (advanced)",
        input=AdvancedParserInput,
        run=match_mapped_pattern,
        ignored_keys={"ignoreInfiniteLoopsWhenGlobal": _NO_ENDLESS_LOOP},
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="regexp:Replace",
        kind=ModuleKind.ACTION,
        label="Replace",
        input=ReplaceInput,
        run=replace,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="regexp:HTMLToText",
        kind=ModuleKind.ACTION,
        label="HTML to text",
        input=HtmlToTextInput,
        run=html_as_text,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="regexp:HTMLParser",
        kind=ModuleKind.SEARCH,
        label="Get elements from HTML",
        input=HtmlElementsInput,
        run=elements_from_html,
        effect=Effect.COMPUTE,
    ),
)
