"""The expression preview (``POST /api/expressions/preview``): a template evaluated against
sample bundles, in the web process, on behalf of any signed-in user (viewers too).

A run has limits; so does a preview, tighter, because it runs where requests are answered:

* **expression size**: at most ``MAX_TEMPLATE`` characters of template;
* **input**: the API's body limit (``SWITCHBOARD_WEBHOOK_MAX_BYTES``) bounds the sample bundles,
  and a time zone name is at most ``MAX_TIMEZONE`` characters;
* **values**: every value the expression builds at most ``MAX_OUTPUT`` characters, bytes or
  items (``EvalContext.max_output``; runs allow 10,000,000): past it, ``LimitExceeded`` rather
  than the expression's error a run would record;
* **time**: ``MAX_SECONDS``, checked before every function call, operator and path walk (one
  step over values of that size takes at most about a second; a regular expression 0.25 s);
* **output**: the answer's JSON at most ``MAX_ANSWER`` characters, measured as it is written;
* **at once**: ``SLOTS`` previews per process; another waits up to ``MAX_SECONDS`` for a slot,
  then gets ``Busy`` (503 with ``Retry-After``).

Going over a limit raises ``LimitExceeded`` (422 ``limit_exceeded``, ``path`` naming the field
when there is one); the expression's own errors are part of the answer, as in the editor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import DataError, ExpressionError
from engine.mapping import ERASE, IGNORE, EvalContext, compile_template
from engine.mapping.context import DEFAULT_MAX_OUTPUT
from engine.mapping.values import ValueTooLarge
from engine.runtime.record import json_size_over, to_json_value
from engine.service.base import Clock
from engine.service.errors import Busy, InvalidField, LimitExceeded

MAX_TEMPLATE = 20_000
MAX_TIMEZONE = 64
MAX_OUTPUT = 1_000_000
MAX_SECONDS = 5.0
MAX_ANSWER = 1_000_000
SLOTS = 2

_slots = threading.BoundedSemaphore(SLOTS)
"""Per process, like the memory it protects."""


@dataclass(frozen=True)
class Preview:
    """The template's value (JSON), or the error it stopped with and, for a syntax error, the
    1-based column."""

    value: Any = None
    error: str | None = None
    column: int | None = None


class PreviewOperations:
    """The expression preview, within its limits."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def preview_expression(
        self,
        template: Any,
        bundles: Mapping[str, Any],
        timezone: str = "UTC",
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Preview:
        """Evaluate ``template`` with ``bundles`` (keys are module ids) as a mapping would.

        Raises:
            LimitExceeded: the template, the time zone, the time taken or the answer is over
                its limit (see the module docstring). InvalidField: a bundle key is no module id.
            Busy: ``SLOTS`` previews are running and none ended within ``MAX_SECONDS``.
        """
        _check_request(template, timezone)
        sample = _bundles(bundles)
        if not _slots.acquire(timeout=MAX_SECONDS):
            raise Busy("other expression previews are running; try again", retry_after=1)
        try:
            return self._evaluate(template, sample, timezone, monotonic)
        finally:
            _slots.release()

    def _evaluate(
        self,
        template: Any,
        bundles: Mapping[int, Any],
        timezone: str,
        monotonic: Callable[[], float],
    ) -> Preview:
        context = EvalContext(
            bundles=bundles,
            timezone=timezone,
            now=self.clock,
            max_output=MAX_OUTPUT,
            checkpoint=_deadline(monotonic),
        )
        try:
            value = compile_template(template, where="preview").evaluate(context)
        except ExpressionError as error:
            return Preview(error=error.reason, column=error.column)
        except ValueTooLarge as error:
            raise LimitExceeded(
                f"{error.message} (the preview's limit; runs allow {DEFAULT_MAX_OUTPUT:,})"
            ) from None
        except DataError as error:
            return Preview(error=error.message)
        if value is IGNORE or value is ERASE:
            return Preview(value=None)
        if json_size_over(value, MAX_ANSWER):
            raise LimitExceeded(
                f"the preview's value is larger than {MAX_ANSWER:,} characters of JSON"
            )
        return Preview(value=to_json_value(value))


def _check_request(template: Any, timezone: str) -> None:
    if isinstance(template, str) and len(template) > MAX_TEMPLATE:
        raise LimitExceeded(
            f"the template is longer than the preview's limit of {MAX_TEMPLATE:,} characters",
            path="template",
        )
    if len(timezone) > MAX_TIMEZONE:
        raise LimitExceeded(
            f"the time zone is longer than {MAX_TIMEZONE} characters", path="timezone"
        )


def _bundles(bundles: Mapping[str, Any]) -> dict[int, Any]:
    try:
        return {int(key): value for key, value in bundles.items()}
    except ValueError:
        raise InvalidField("bundle keys are module ids", path="bundles") from None


def _deadline(monotonic: Callable[[], float]) -> Callable[[], None]:
    """The preview's checkpoint: raises once ``MAX_SECONDS`` have passed since it was made."""
    ends = monotonic() + MAX_SECONDS

    def check() -> None:
        if monotonic() > ends:
            raise LimitExceeded(
                f"the preview took longer than its limit of {MAX_SECONDS:g} seconds"
            )

    return check
