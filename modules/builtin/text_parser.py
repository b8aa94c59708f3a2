"""Make's Text parser app: match a pattern (``regexp:Parser``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import regex
from pydantic import BaseModel, ConfigDict

from engine.errors import BundleValidationError, InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec

_LAX = ConfigDict(extra="allow")
REGEX_TIMEOUT_SECONDS = 1.0
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


def _compiled(settings: ParserParameters) -> regex.Pattern[str]:
    flags = 0 if settings.sensitive else regex.IGNORECASE
    flags |= regex.MULTILINE if settings.multiline else 0
    flags |= regex.DOTALL if settings.singleline else 0
    try:
        return regex.compile(settings.pattern, flags)
    except regex.error as error:
        raise InvalidConfigurationError(f"invalid pattern {settings.pattern!r}: {error}") from None


def match_pattern(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle per match (the first only, unless global).

    A bundle holds ``$1``, ``$2`` … for the groups, the named groups, and ``__IMTMATCH__``.
    """
    settings: ParserParameters = call.parameters  # type: ignore[assignment]
    text = call.input.text  # type: ignore[attr-defined]
    pattern = _compiled(settings)
    try:
        matches = pattern.finditer("" if text is None else str(text), timeout=REGEX_TIMEOUT_SECONDS)
        for number, match in enumerate(matches, start=1):
            if number > MAX_MATCHES:
                raise BundleValidationError(f"more than {MAX_MATCHES} matches")
            yield _match_bundle(match, number)
            if not settings.global_:
                return
    except TimeoutError:
        raise BundleValidationError(
            f"pattern {settings.pattern!r} took too long to match"
        ) from None


def _match_bundle(match: regex.Match[str], number: int) -> dict[str, Any]:
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
        effect=Effect.COMPUTE,
    ),
)
