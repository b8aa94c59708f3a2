"""What an expression sees while it is evaluated: bundles, variables, clock, randomness, limits."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_MAX_OUTPUT = 10_000_000
"""Largest string (chars), binary (bytes) or array (elements) one evaluation may produce."""


SYSTEM_RANDOM = random.SystemRandom()
"""The randomness of a run or an evaluation that is given none: the OS's, shared. Nothing is
seeded per run (a ``random.Random()`` seeded its 2.5 KB state from the OS every time: ~0.7 %
of a webhook run's instructions, and every filter coercion built one), and no value
(``uuid``, ``random``) tells anything about the next, in one run or across runs. Tests that
need a repeatable sequence pass their own seeded ``random.Random``."""


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
    rng: random.Random = SYSTEM_RANDOM
    warnings: list[str] = field(default_factory=list)
    max_output: int = DEFAULT_MAX_OUTPUT
    checkpoint: Callable[[], None] | None = None
    scopes: Mapping[str, Any] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        """Record a non-fatal problem of this evaluation."""
        self.warnings.append(message)
