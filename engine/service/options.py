"""Service settings that ``engine.config.Settings`` does not (yet) hold, read the same way:
one frozen dataclass, every field from one ``SWITCHBOARD_*`` variable (docs/deploy.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from engine.config import ConfigError

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ServiceOptions:
    """Attributes:
    webhook_response_timeout: how long a caller waits for ``gateway:WebhookRespond``
        before getting ``Accepted`` (``SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT``).
    instant_stop_on_first_error: instant-trigger scenarios deactivate on their first
        errored run, as Make does (``SWITCHBOARD_INSTANT_STOP_ON_FIRST_ERROR``); off, they
        follow ``maxErrors`` like scheduled ones.
    tick_seconds: how often the scheduler sweeps, reaps and starts due runs
        (``SWITCHBOARD_TICK_SECONDS``).
    dispatch_grace_seconds: queued work older than this is dispatched again by the sweep
        (``SWITCHBOARD_DISPATCH_GRACE_SECONDS``).
    inline_workers: run threads of the embedded queue (``SWITCHBOARD_INLINE_WORKERS``).
    base_url: this server's public address, e.g. ``https://switchboard.example.com``
        (``SWITCHBOARD_BASE_URL``): apps are told to post their events to
        ``base_url + /hooks/<token>`` when a scenario with an app trigger is activated.
    execution_retention_days: the tick deletes finished executions older than this, in
        batches (``SWITCHBOARD_EXECUTION_RETENTION_DAYS``; 0 keeps them forever).
    """

    webhook_response_timeout: float = 60.0
    instant_stop_on_first_error: bool = True
    tick_seconds: float = 5.0
    dispatch_grace_seconds: float = 15.0
    inline_workers: int = 4
    base_url: str = ""
    execution_retention_days: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ServiceOptions:
        """Options from ``environ``. Raises ``ConfigError`` naming a bad variable."""
        names = {
            "webhook_response_timeout": "SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT",
            "instant_stop_on_first_error": "SWITCHBOARD_INSTANT_STOP_ON_FIRST_ERROR",
            "tick_seconds": "SWITCHBOARD_TICK_SECONDS",
            "dispatch_grace_seconds": "SWITCHBOARD_DISPATCH_GRACE_SECONDS",
            "inline_workers": "SWITCHBOARD_INLINE_WORKERS",
            "base_url": "SWITCHBOARD_BASE_URL",
            "execution_retention_days": "SWITCHBOARD_EXECUTION_RETENTION_DAYS",
        }
        values: dict[str, object] = {}
        for item in fields(cls):
            variable = names[item.name]
            if variable in environ:
                values[item.name] = _parse(variable, environ[variable], type(item.default))
        return cls(**values)  # type: ignore[arg-type]


def _parse(variable: str, text: str, kind: type) -> object:
    lowered = text.strip().lower()
    if kind is str:
        return text.strip()
    if kind is bool:
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{variable}={text!r} is not valid: expected true or false")
    try:
        value = kind(lowered)
    except ValueError:
        raise ConfigError(f"{variable}={text!r} is not valid: expected a number") from None
    if value <= 0:
        raise ConfigError(f"{variable}={text!r} is not valid: expected a positive number")
    return value
