"""Make's Text parser app: match a pattern (``regexp:Parser``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.errors import BundleValidationError, InvalidConfigurationError
from engine.mapping import regexes
from engine.spec import Bundle, ModuleCall, ModuleKind, ModuleSpec

_LAX = ConfigDict(extra="allow")
MAX_MATCHES = 10_000


class ParserParameters(BaseModel):
    model_config = _LAX

    pattern: str = ""
    global_: bool = False
    sensitive: bool = True
    multiline: bool = False
    singleline: bool = False

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> ParserParameters:
        data = dict(obj) if isinstance(obj, Mapping) else {}
        if "global" in data:
            data["global_"] = data.pop("global")
        return super().model_validate(data, *args, **kwargs)


class ParserInput(BaseModel):
    model_config = _LAX

    text: Any = ""


def _flags(settings: ParserParameters) -> str:
    """The module's switches as ``engine.mapping.regexes`` flags."""
    case = "" if settings.sensitive else "i"
    return case + ("m" if settings.multiline else "") + ("s" if settings.singleline else "")


def match_pattern(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle per match (the first only, unless global).

    A bundle holds ``$1``, ``$2`` … for the groups, the named groups, and ``__IMTMATCH__``.
    The pattern is checked and run like every user pattern (``engine.mapping.regexes``): an
    invalid or too costly one is refused before it is compiled, matching stops after
    ``REGEX_TIMEOUT`` seconds.
    """
    settings: ParserParameters = call.parameters  # type: ignore[assignment]
    text = call.input.text  # type: ignore[attr-defined]
    place = f"module {call.module_id} (regexp:Parser): parameters.pattern"
    try:
        found = _matches(settings, "" if text is None else str(text))
    except regexes.PatternError as error:
        raise InvalidConfigurationError(f"{place}: {error}") from None
    except TimeoutError as error:
        raise BundleValidationError(f"{place}: {error}") from None
    yield from found


def _matches(settings: ParserParameters, text: str) -> list[Bundle]:
    """Every match, found before the first is passed on: the runner takes each bundle through
    the rest of the scenario before it asks for the next, and that must not count against the
    pattern's timeout."""
    found: list[Bundle] = []
    matches = regexes.finditer(settings.pattern, text, _flags(settings))
    for number, match in enumerate(matches, start=1):
        if number > MAX_MATCHES:
            raise BundleValidationError(f"more than {MAX_MATCHES} matches")
        found.append(_match_bundle(match, number))
        if not settings.global_:
            break
    return found


def _flags(settings: ParserParameters) -> str:
    """The module's switches as ``engine.mapping.regexes`` flags."""
    case = "" if settings.sensitive else "i"
    return case + ("m" if settings.multiline else "") + ("s" if settings.singleline else "")


def _match_bundle(match: Any, number: int) -> dict[str, Any]:
    bundle: dict[str, Any] = {f"${index}": group for index, group in enumerate(match.groups(), 1)}
    bundle.update(match.groupdict())
    bundle["__IMTMATCH__"] = number
    return bundle


TEXT_PARSER: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="regexp:Parser",
        kind=ModuleKind.SEARCH,
        label="Match pattern",
        parameters=ParserParameters,
        input=ParserInput,
        run=match_pattern,
    ),
)
