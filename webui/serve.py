"""``switchboard serve``: the web app on Werkzeug's threaded server.

Embedded (no ``SWITCHBOARD_REDIS_URL``): runs go to ``InlineQueue`` threads and the scheduler
is a thread of this process, so one process is the whole product. With Redis this process only
accepts requests; ``switchboard worker`` and ``switchboard scheduler`` do the rest.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from werkzeug.serving import make_server

from engine.config import Settings
from engine.scheduler import SchedulerThread
from engine.service import build_service, shutdown_service
from engine.store import upgrade_database
from webui.app import create_app
from webui.mailhooks import receiver_from_env

log = logging.getLogger("switchboard.serve")


def serve(
    settings: Settings, host: str, port: int, announce: Callable[[str], None] = print
) -> None:
    """Migrate the database, start the service and serve until SIGINT/SIGTERM."""
    settings = settings.with_secret_key_file()
    upgrade_database(settings.database_url)
    service = build_service(settings)
    embedded = service.queue.in_process  # the backplane decided: no workers elsewhere
    scheduler = SchedulerThread(service.tick, service.options.tick_seconds)
    if embedded:
        service.recover_abandoned_work()  # this process is the only worker: nothing is running
    service.queue.start()
    if embedded:
        scheduler.start()
    mailhooks = receiver_from_env(service)
    if mailhooks is not None:
        mailhooks.start()
        announce(f"Mailhooks: SMTP on port {mailhooks.port}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per webhook request
    server = make_server(host, port, create_app({"SWITCHBOARD_SERVICE": service}), threaded=True)
    _stop_on_signals(server.shutdown)
    mode = "embedded: SQLite queue threads and scheduler" if embedded else "with Redis workers"
    announce(f"Switchboard serving on http://{host}:{server.port} ({mode})")
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if mailhooks is not None:
            mailhooks.stop()
        scheduler.stop()
        shutdown_service(service)


def _stop_on_signals(shutdown: Callable[[], None]) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on the serving thread.
        threading.Thread(target=shutdown, daemon=True).start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
