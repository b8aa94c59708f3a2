"""Settings from the environment: one frozen ``Settings`` built by ``Settings.from_env()``.

Every setting is declared once, below, with its environment variable, its parser and its
default; ``docs/storage.md`` documents each variable. Reading the environment happens only in
``from_env`` so tests pass a plain dict instead of patching ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from engine.errors import SwitchboardError
from engine.secrets import SecretBox, SecretKeyError, generate_key

SECRET_KEY_FILE = "secret.key"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(SwitchboardError):
    """An environment variable holds a value Switchboard cannot use; the message names it."""


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError(f"expected one of {sorted(_TRUE | _FALSE - {''})}")


def _positive_int(text: str) -> int:
    value = int(text.strip().replace("_", ""))
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


def _count(text: str) -> int:
    value = int(text.strip().replace("_", ""))
    if value < 0:
        raise ValueError("expected 0 or a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text.strip())
    if value <= 0:
        raise ValueError("expected a positive number")
    return value


def _optional_text(text: str) -> str | None:
    return text.strip() or None


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list of host names (``a.example.com, .example.org``)."""
    return tuple(name.strip().lower() for name in text.split(",") if name.strip())


def _env(name: str, parse: Callable[[str], Any]) -> dict[str, Any]:
    """Field metadata: which variable sets the field, and how its text is parsed."""
    return {"env": name, "parse": parse}


@dataclass(frozen=True)
class Settings:
    """Everything the service, the workers and the CLI read from the environment.

    Attributes:
        var_dir: where local state lives (SQLite file, secret key file, benchmark results).
        database_url: SQLAlchemy URL; SQLite file under ``var_dir`` unless set.
        redis_url: Redis for Celery; ``None`` runs the embedded in-process queue.
        secret_key: Fernet key(s) for connection secrets; see ``engine.secrets``.
        webhook_max_payload_bytes: larger webhook requests are refused (413).
        webhook_rate_limit: requests accepted per webhook per ``webhook_rate_window_seconds``
            (beyond: 429).
        webhook_rate_window_seconds: the rate-limit window.
        webhook_queue_limit: queued items per webhook before new requests are refused.
        allow_private_network: let HTTP modules call private/loopback addresses (SSRF guard off).
        allowed_hosts: host names the web app answers besides localhost and the host of
            ``SWITCHBOARD_BASE_URL`` (``webui.hosts``: DNS-rebinding protection).
        max_run_seconds: wall time of one execution.
        max_bundles_per_run: bundles (operations) one execution may process.
        max_stored_bundles_per_module: bundles kept per module in an execution record.
        keep_successful_bundles: whether a successful run's record keeps its bundles (Make's
            way, the default) or only statuses, counts and timings (n8n's "do not save
            successful executions"); a scenario's ``keepSuccessfulBundles`` setting wins.
        queue_lease_seconds: how long a worker's claim on a webhook queue item lasts.
        heartbeat_seconds: how often a running execution reports it is alive.
        stale_after_seconds: a running execution silent this long is requeued by the reaper.
        max_reaps: how often the reaper requeues one execution; silent once more, it ends as an
            error (``ReapLimitReached``) and is not run again on its own (a run whose worker
            dies every time must not repeat its writes forever). 0: never requeue.
    """

    var_dir: Path = field(metadata=_env("SWITCHBOARD_VAR_DIR", lambda text: Path(text)))
    database_url: str = field(metadata=_env("SWITCHBOARD_DATABASE_URL", str.strip))
    redis_url: str | None = field(
        default=None, metadata=_env("SWITCHBOARD_REDIS_URL", _optional_text)
    )
    secret_key: str | None = field(
        default=None, repr=False, metadata=_env("SWITCHBOARD_SECRET_KEY", _optional_text)
    )
    webhook_max_payload_bytes: int = field(
        default=5 * 1024 * 1024, metadata=_env("SWITCHBOARD_WEBHOOK_MAX_BYTES", _positive_int)
    )
    webhook_rate_limit: int = field(
        default=300, metadata=_env("SWITCHBOARD_WEBHOOK_RATE_LIMIT", _positive_int)
    )
    webhook_rate_window_seconds: float = field(
        default=10.0, metadata=_env("SWITCHBOARD_WEBHOOK_RATE_WINDOW", _positive_float)
    )
    webhook_queue_limit: int = field(
        default=10_000, metadata=_env("SWITCHBOARD_WEBHOOK_QUEUE_LIMIT", _positive_int)
    )
    allow_private_network: bool = field(
        default=False, metadata=_env("SWITCHBOARD_ALLOW_PRIVATE_NETWORK", _boolean)
    )
    allowed_hosts: tuple[str, ...] = field(
        default=(), metadata=_env("SWITCHBOARD_ALLOWED_HOSTS", _names)
    )
    max_run_seconds: float = field(
        default=40 * 60.0, metadata=_env("SWITCHBOARD_MAX_RUN_SECONDS", _positive_float)
    )
    max_bundles_per_run: int = field(
        default=1_000_000, metadata=_env("SWITCHBOARD_MAX_BUNDLES_PER_RUN", _positive_int)
    )
    max_stored_bundles_per_module: int = field(
        default=100, metadata=_env("SWITCHBOARD_MAX_STORED_BUNDLES", _positive_int)
    )
    keep_successful_bundles: bool = field(
        default=True, metadata=_env("SWITCHBOARD_KEEP_SUCCESSFUL_BUNDLES", _boolean)
    )
    queue_lease_seconds: float = field(
        default=300.0, metadata=_env("SWITCHBOARD_QUEUE_LEASE_SECONDS", _positive_float)
    )
    heartbeat_seconds: float = field(
        default=30.0, metadata=_env("SWITCHBOARD_HEARTBEAT_SECONDS", _positive_float)
    )
    stale_after_seconds: float = field(
        default=120.0, metadata=_env("SWITCHBOARD_STALE_AFTER_SECONDS", _positive_float)
    )
    max_reaps: int = field(default=3, metadata=_env("SWITCHBOARD_MAX_REAPS", _count))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] = os.environ, *, cwd: Path | None = None
    ) -> Settings:
        """Settings from ``environ``; unset variables take their defaults.

        ``var_dir`` defaults to ``<cwd>/var`` and ``database_url`` to a SQLite file inside it.

        Raises:
            ConfigError: naming the variable whose value cannot be parsed.
        """
        values = {
            item.name: _parse_variable(
                item.metadata["env"], environ[item.metadata["env"]], item.metadata["parse"]
            )
            for item in fields(cls)
            if item.metadata["env"] in environ
        }
        var_dir = Path(values.pop("var_dir", (cwd or Path.cwd()) / "var")).resolve()
        database_url = values.pop("database_url", "") or default_database_url(var_dir)
        return cls(var_dir=var_dir, database_url=database_url, **values)

    def secret_box(self) -> SecretBox:
        """The box for ``secret_key``.

        Raises:
            SecretKeyError: the key is missing or invalid.
        """
        if self.secret_key is None:
            return SecretBox("")  # raises the explanatory "not set" error
        return SecretBox(self.secret_key)

    def with_secret_key_file(self) -> Settings:
        """These settings with ``secret_key`` from ``var_dir/secret.key`` (made if absent),
        unless a key is already set."""
        if self.secret_key is not None:
            return self
        return replace(self, secret_key=ensure_secret_key(self.var_dir))


def default_database_url(var_dir: Path) -> str:
    """The embedded default: a SQLite file ``switchboard.db`` under ``var_dir``."""
    return f"sqlite:///{Path(var_dir).resolve() / 'switchboard.db'}"


def ensure_secret_key(var_dir: Path | str) -> str:
    """The key in ``var_dir/secret.key``, creating the file (mode 0600) on first start.

    Safe when two processes start at once: the file is created exclusively, and the loser
    reads what the winner wrote.

    Raises:
        SecretKeyError: the file exists but does not hold a valid key.
    """
    directory = Path(var_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SECRET_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    key = generate_key()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _read_key_file(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    try:
        SecretBox(key)
    except SecretKeyError:
        raise SecretKeyError(f"{path} does not hold a valid Fernet key") from None
    return key


def _parse_variable(name: str, text: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(text)
    except ValueError as error:
        # The secret key is never echoed back; other values help the user find the typo.
        shown = "***" if "SECRET" in name else repr(text)
        raise ConfigError(f"{name}={shown} is not valid: {error}") from None
