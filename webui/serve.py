"""``switchboard serve``: the web app on gunicorn (production), or Werkzeug's threaded server.

Embedded (no ``SWITCHBOARD_REDIS_URL``): runs go to ``InlineQueue`` threads and the scheduler
is a thread of this process, so one process is the whole product: gunicorn serves it with
**one** worker process (its queue, write turn, locks and waiting answers live in it) and many
threads. With Redis this process only accepts requests (``switchboard worker`` and
``switchboard scheduler`` do the rest), so gunicorn runs several worker processes.

The background parts (service, queue threads, scheduler, mailhook receiver) are started in the
process that serves — gunicorn's worker, after the fork — never in gunicorn's master: threads
do not survive a fork. A gunicorn worker dies with its master (``PR_SET_PDEATHSIG``), so a
killed ``switchboard serve`` leaves no worker running runs behind, as the one-process server
did not.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from gunicorn.app.base import BaseApplication
from werkzeug.serving import make_server

from engine.config import ConfigError, Settings
from engine.queue import runs_in_process
from engine.scheduler import SchedulerThread
from engine.service import Service, build_service, shutdown_service
from engine.store import upgrade_database
from webui.app import create_app
from webui.mailhooks import MailhookReceiver, receiver_from_env

log = logging.getLogger("switchboard.serve")

SERVERS = ("gunicorn", "dev")
"""``--server`` choices: gunicorn (gthread workers), Werkzeug's threaded development server."""


@dataclass(frozen=True)
class Layout:
    """gunicorn's worker processes and threads per process."""

    workers: int
    threads: int


def default_layout(cpus: int, *, embedded: bool, mailhooks: bool = False) -> Layout:
    """Workers and threads for a machine of ``cpus`` cores.

    Embedded: one process (the queue threads, scheduler and answers waiting for runs live in
    it), 8 threads a core, at least 16 and at most 64: a request thread mostly waits (on
    SQLite's write turn, on a run's answer) and one GIL bounds what more threads could add.
    With Redis: ``2 * cores`` processes (2 to 8), 8 threads each (callers waiting for a
    scenario's answer hold a thread); each process only stores requests and publishes ids.
    (For a while it was one: the fault test with four lost its Celery worker when Redis
    restarted, a Kombu/Celery fault now fixed in ``engine.queue.redis_transport``.) A
    mailhook receiver listens on one port: one process.
    """
    cores = max(1, cpus)
    if embedded or mailhooks:
        return Layout(workers=1, threads=min(64, max(16, 8 * cores)))
    return Layout(workers=min(8, max(2, 2 * cores)), threads=8)


def chosen_layout(
    cpus: int,
    *,
    embedded: bool,
    mailhooks: bool,
    workers: int | None,
    threads: int | None,
) -> Layout:
    """``default_layout`` with the operator's ``--workers``/``--threads``; ``ConfigError``
    for more than one process where one must do everything."""
    default = default_layout(cpus, embedded=embedded, mailhooks=mailhooks)
    layout = Layout(
        workers=default.workers if workers is None else workers,
        threads=default.threads if threads is None else threads,
    )
    if layout.workers < 1 or layout.threads < 1:
        raise ConfigError("--workers and --threads must be at least 1")
    if layout.workers > 1 and embedded:
        raise ConfigError(
            "embedded (no SWITCHBOARD_REDIS_URL), one process runs the queue and the "
            "scheduler: --workers must be 1 (use --threads, or Redis with switchboard worker)"
        )
    if layout.workers > 1 and mailhooks:
        raise ConfigError(
            "SWITCHBOARD_MAILHOOK_PORT is received by one process: --workers must be 1 "
            "(or serve mail from a second 'switchboard serve --workers 1')"
        )
    return layout


def serve(
    settings: Settings,
    host: str,
    port: int,
    announce: Callable[[str], None] = print,
    *,
    server: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> None:
    """Migrate the database, then serve (and run the background parts) until SIGINT/SIGTERM."""
    settings = settings.with_secret_key_file()
    upgrade_database(settings.database_url)
    server = server or "gunicorn"
    if server not in SERVERS:
        raise ConfigError(f"--server must be one of {', '.join(SERVERS)}, not {server!r}")
    if server == "dev":
        if workers not in (None, 1) or threads is not None:
            raise ConfigError("--workers and --threads are gunicorn's: not with --server dev")
        _serve_dev(settings, host, port, announce)
        return
    embedded = runs_in_process(settings)
    layout = chosen_layout(
        os.cpu_count() or 1,
        embedded=embedded,
        mailhooks=bool(os.environ.get("SWITCHBOARD_MAILHOOK_PORT")),
        workers=workers,
        threads=threads,
    )
    _Gunicorn(settings, host, port, layout, announce).run()


class _Parts:
    """What ``switchboard serve`` runs beside the web app, in the serving process."""

    def __init__(self, settings: Settings, announce: Callable[[str], None]) -> None:
        self.service: Service = build_service(settings)
        self.embedded = self.service.queue.in_process  # the backplane decided
        self.scheduler = SchedulerThread(self.service.tick, self.service.options.tick_seconds)
        if self.embedded:
            # This process is the only worker: nothing is running. (A gunicorn worker that
            # replaced a dead one comes here too: the dead one ran nothing any more.)
            self.service.recover_abandoned_work()
        self.service.queue.start()
        if self.embedded:
            self.scheduler.start()
        self.mailhooks: MailhookReceiver | None = receiver_from_env(self.service)
        if self.mailhooks is not None:
            self.mailhooks.start()
            announce(f"Mailhooks: SMTP on port {self.mailhooks.port}")

    def stop(self) -> None:
        if self.mailhooks is not None:
            self.mailhooks.stop()
        self.scheduler.stop()
        shutdown_service(self.service)


def _mode(embedded: bool) -> str:
    return "embedded: SQLite queue threads and scheduler" if embedded else "with Redis workers"


def _serve_dev(settings: Settings, host: str, port: int, announce: Callable[[str], None]) -> None:
    parts = _Parts(settings, announce)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per webhook request
    server = make_server(
        host, port, create_app({"SWITCHBOARD_SERVICE": parts.service}), threaded=True
    )
    _stop_on_signals(server.shutdown)
    announce(
        f"Switchboard serving on http://{host}:{server.port} ({_mode(parts.embedded)}; "
        "Werkzeug's development server)"
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
        parts.stop()


def _stop_on_signals(shutdown: Callable[[], None]) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on the serving thread.
        threading.Thread(target=shutdown, daemon=True).start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Gunicorn(BaseApplication):
    """gunicorn run from here (``BaseApplication``): gthread workers, the parts started in
    each worker after the fork (``load``), stopped when it exits (``worker_exit``)."""

    def __init__(
        self,
        settings: Settings,
        host: str,
        port: int,
        layout: Layout,
        announce: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._announce = announce
        self._parts: _Parts | None = None
        embedded = runs_in_process(settings)
        self._options: dict[str, Any] = {
            "bind": [_bind(host, port)],
            "workers": layout.workers,
            "threads": layout.threads,
            "worker_class": "gthread",
            "proc_name": "switchboard",
            "post_fork": _die_with_parent,
            # gunicorn 24+: no control socket (one path per user, shared by every server)
            "control_socket_disable": True,
            "worker_exit": _stop_parts,
            "when_ready": lambda arbiter: announce(
                f"Switchboard serving on http://{_listening(arbiter, host, port)} "
                f"({_mode(embedded)}; gunicorn, {layout.workers} worker"
                f"{'s' if layout.workers > 1 else ''}, {layout.threads} threads)"
            ),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # settings of newer gunicorns are left out on older
                self.cfg.set(key, value)

    def load(self) -> Any:
        self._parts = _Parts(self._settings, self._announce)
        return create_app({"SWITCHBOARD_SERVICE": self._parts.service})


def _listening(arbiter: Any, host: str, port: int) -> str:
    """``host:port`` as bound (the port the system chose for ``--port 0``)."""
    for listener in getattr(arbiter, "LISTENERS", []):
        address = listener.sock.getsockname()
        if isinstance(address, tuple):
            return _bind(host, address[1])
    return _bind(host, port)


def _die_with_parent(arbiter: Any, worker: Any) -> None:
    """gunicorn ``post_fork``: the worker gets SIGKILL when the master dies (Linux), so a
    killed ``switchboard serve`` is gone with its runs, as a one-process server would be; the
    restarted server's recovery then finds them (``recover_abandoned_work``)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker notices its new parent itself
        return
    if os.getppid() != arbiter.pid:  # the master died before the call
        os.kill(os.getpid(), signal.SIGKILL)


def _stop_parts(arbiter: Any, worker: Any) -> None:
    """gunicorn ``worker_exit``: stop the parts ``load`` started in this worker."""
    parts = getattr(worker.app, "_parts", None)
    if parts is not None:
        parts.stop()
