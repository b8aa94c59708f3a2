"""What an expression sees while it is evaluated: bundles, variables, clock, randomness, limits."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_MAX_OUTPUT = 10_000_000
"""Largest string (chars), binary (bytes) or array (elements) one evaluation may produce."""


def _utc_now() -> datetime:
    # The only place the engine core reads the real clock; the runner injects its own.
    return datetime.now(UTC)


@dataclass
class EvalContext:
    """The inputs of one evaluation.

    Attributes:
        bundles: module id -> that module's current output bundle on this path. A missing id
            reads as empty, never as an error.
        variables: the ``var.`` namespace (``scenario``, ``execution``, ``organization``,
            ``team``, ``input`` …).
        timezone: IANA zone name; the default zone of ``parseDate``/``formatDate`` and of
            calendar arithmetic (``addDays``, ``setHour`` …).
        now: the clock behind ``now`` and ``timestamp``; returns an aware datetime.
        rng: the randomness behind ``random``, ``uuid`` and ``shuffle``.
        warnings: coercion warnings are appended here (a filter condition that cannot coerce
            its operands is false, and says why here).
        max_output: the size limit of one value (characters, bytes or array elements).
        checkpoint: called before every function call, operator and path walk that may touch
            large values; it raises to stop the evaluation (the expression preview's time
            limit). ``None`` (runs) costs nothing.
        scopes: what the named roots of a dialect read (``parameters``, ``body`` … of an app
            definition's IML); a missing name reads as empty.
    """

    bundles: Mapping[int, Any]
    variables: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    now: Callable[[], datetime] = _utc_now
    rng: random.Random = field(default_factory=random.Random)
    warnings: list[str] = field(default_factory=list)
    max_output: int = DEFAULT_MAX_OUTPUT
    checkpoint: Callable[[], None] | None = None
    scopes: Mapping[str, Any] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        """Record a non-fatal problem of this evaluation."""
        self.warnings.append(message)
