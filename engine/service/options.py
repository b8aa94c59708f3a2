"""Service settings that ``engine.config.Settings`` does not (yet) hold, read the same way:
one frozen dataclass, every field from one ``SWITCHBOARD_*`` variable (docs/deploy.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from engine.config import ConfigError

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


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
    hooks_url: the public address of webhook ingress when it has an origin of its own, e.g.
        ``https://hooks.switchboard.example.com`` (``SWITCHBOARD_HOOKS_URL``): webhook URLs
        are ``hooks_url + /hooks/<token>``, and the web app serves webhooks only there and
        the editor and API only elsewhere (``webui.hosts``). Unset: webhooks share
        ``base_url``'s origin. Must be an http(s) URL on another host or port than
        ``base_url``.
    execution_retention_days: the tick deletes finished executions older than this, in
        batches (``SWITCHBOARD_EXECUTION_RETENTION_DAYS``; 0 keeps them forever).
    runs_at_ingress: when this process's own queue threads run the work (embedded, started)
        and the scenario runs requests in parallel, ingress stores a request together with
        its execution, claimed by this process, in one commit and hands both to a thread,
        which runs it without reading them back; a scenario whose Webhook response is its
        last step (``plans.answers_at_its_end``) runs in the accepting thread itself, as its
        caller waits for the whole run anyway (``SWITCHBOARD_RUNS_AT_INGRESS``; off: the
        request waits in the webhook queue for a thread to claim it).
    commit_with_the_run: a scenario that runs in the accepting thread runs before anything
        is stored, and its request, its execution as the run ended and its record are then
        committed together, before the caller is answered: one commit a request instead of
        two (``RunOperations.run_first``; ``SWITCHBOARD_COMMIT_WITH_THE_RUN``). A process
        that dies mid-run has then stored nothing and answered nothing (its caller sends
        again, as after a 503); off: the request and its claimed execution are committed
        before the run, and the reaper runs one the process lost (``run_here``).
    """

    webhook_response_timeout: float = 60.0
    instant_stop_on_first_error: bool = True
    tick_seconds: float = 5.0
    dispatch_grace_seconds: float = 15.0
    inline_workers: int = 4
    base_url: str = ""
    hooks_url: str = ""
    execution_retention_days: float = 30.0
    runs_at_ingress: bool = True
    commit_with_the_run: bool = True

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
            "hooks_url": "SWITCHBOARD_HOOKS_URL",
            "execution_retention_days": "SWITCHBOARD_EXECUTION_RETENTION_DAYS",
            "runs_at_ingress": "SWITCHBOARD_RUNS_AT_INGRESS",
            "commit_with_the_run": "SWITCHBOARD_COMMIT_WITH_THE_RUN",
        }
        values: dict[str, object] = {}
        for item in fields(cls):
            variable = names[item.name]
            if variable in environ:
                values[item.name] = _parse(variable, environ[variable], type(item.default))
        # Each value was parsed to its field's type (that of its default) just above.
        return cls(**values)  # type: ignore[arg-type]  # see above

    def __post_init__(self) -> None:
        if self.hooks_url:
            _check_hooks_url(self.hooks_url, self.base_url)

    @property
    def public_hooks_url(self) -> str:
        """Where webhook URLs start (without a trailing slash): ``hooks_url`` when set, else
        ``base_url``; empty when neither is known."""
        return (self.hooks_url or self.base_url).rstrip("/")


def origin_of(url: str) -> tuple[str, int | None]:
    """The host name (lowercase, no trailing dot) and explicit port of an absolute URL.

    Raises:
        ValueError: the URL has no host or an impossible port.
    """
    parts = urlsplit(url.strip())
    if not parts.hostname:
        raise ValueError("expected an absolute URL such as https://hooks.example.com")
    return parts.hostname.rstrip("."), parts.port


def _check_hooks_url(hooks_url: str, base_url: str) -> None:
    """A hooks URL that would not give webhooks an origin of their own is a mistake."""
    variable = "SWITCHBOARD_HOOKS_URL"
    try:
        parts = urlsplit(hooks_url)
        origin_of(hooks_url)
    except ValueError as error:
        raise ConfigError(f"{variable}={hooks_url!r} is not valid: {error}") from None
    if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
        raise ConfigError(
            f"{variable}={hooks_url!r} is not valid: expected an http(s) URL without query "
            "or fragment, such as https://hooks.example.com"
        )
    if base_url and _same_origin(hooks_url, base_url):
        raise ConfigError(
            f"{variable}={hooks_url!r} is not valid: it shares its host with "
            f"SWITCHBOARD_BASE_URL={base_url!r}; webhooks need a host name (or an explicit "
            "port) of their own (docs/deploy.md)"
        )


def _same_origin(hooks_url: str, base_url: str) -> bool:
    """Whether requests for the two URLs could not be told apart by their ``Host`` header:
    the same host name, unless the hooks URL names a port of its own (``webui.hosts`` ignores
    the port when the hooks URL gives none)."""
    try:
        hooks_host, hooks_port = origin_of(hooks_url)
        base_host, base_port = origin_of(base_url)
    except ValueError:
        return False
    if hooks_host != base_host:
        return False
    base_scheme = urlsplit(base_url.strip()).scheme.lower()
    return hooks_port is None or hooks_port == (base_port or _DEFAULT_PORTS.get(base_scheme))


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
