"""External APIs misbehaving on loopback: one that never answers, and a connector's sandbox
answering 429/500 in bursts; each counts the calls it received."""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from typing import Any

import requests

from engine.config import Settings
from engine.queue import InlineQueue
from engine.service import build_service, shutdown_service
from engine.store import IncompleteStatus
from modules.onecrm import sandbox as onecrm_sandbox
from modules.sandboxing import run_sandbox_in_thread

_NUMBER = re.compile(rb"[?&]n=(\d+)")


class HangingApi:
    """A loopback HTTP server that reads each request and never answers it (the connection
    stays open until ``close``): the client's timeout is all that ends the call."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/hang"
        self.calls: list[int] = []
        self._open: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hanging-api", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(connection)
            self._note(connection)

    def _note(self, connection: socket.socket) -> None:
        """Record the request's ``n`` query parameter (one entry per call received)."""
        connection.settimeout(2)
        try:
            head = connection.recv(4096)
        except OSError:
            return
        found = _NUMBER.search(head.split(b"\r\n", 1)[0])
        self.calls.append(int(found.group(1)) if found else -1)

    def close(self) -> None:
        self._stopped.set()
        self._socket.close()
        self._thread.join(5)
        for connection in self._open:
            connection.close()


class OneCrmSandbox:
    """The 1CRM sandbox in a thread, with its ``/_sandbox`` control API."""

    def __init__(self) -> None:
        app = onecrm_sandbox.create_app({"rate_limit_per_minute": 1_000_000})
        self.url, self._stop = run_sandbox_in_thread(app)
        self._http = requests.Session()

    def control(self, path: str, body: Any = None, method: str = "POST") -> Any:
        response = self._http.request(method, f"{self.url}/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def fault(self, status: int, count: int, **extra: Any) -> None:
        """The next ``count`` record writes (POST) get ``status`` before the API sees them."""
        self.control("faults", {"status": status, "count": count, "method": "POST", **extra})

    def writes(self, model: str = "Account") -> tuple[list[int], Counter[int]]:
        """The ``n`` of each record write the API carried out (the name is ``fault-<n>``),
        and how many writes the sandbox refused, by status."""
        carried_out, refused = [], Counter()
        for request in self.control("state", method="GET")["requests"]:
            if request["method"] != "POST" or request["path"] != f"/api.php/data/{model}":
                continue
            if request["status"] < 300:
                name = request["json"]["data"]["name"]
                carried_out.append(int(name.removeprefix("fault-")))
            else:
                refused[request["status"]] += 1
        return carried_out, refused

    def close(self) -> None:
        self._http.close()
        self._stop()


def onecrm_connection(env: dict[str, str], sandbox: OneCrmSandbox) -> int:
    """A 1CRM connection in the store of ``env`` to the sandbox, made as a user makes it."""
    service = build_service(Settings.from_env(env), queue=InlineQueue(), upgrade=True)
    try:
        connection = service.store.create_connection(
            "onecrm",
            "basic",
            "Fault 1CRM",
            data={
                "url": sandbox.url,
                "username": "admin",
                "assigned_user_id": "1",
                "rate_limit": 1_000_000,
            },
            secrets={"password": "sandbox-password"},
        )
    finally:
        shutdown_service(service)
    return connection.id


def retry_every_incomplete(env: dict[str, str]) -> int:
    """What a person does with the Retry button: queue a retry of each pending incomplete
    execution (the server's sweep picks the queued runs up). Returns how many."""
    service = build_service(Settings.from_env(env), queue=InlineQueue())
    try:
        pending = service.list_incomplete(status=IncompleteStatus.PENDING, limit=100_000)
        for incomplete in pending:
            service.retry_incomplete(incomplete.id)
    finally:
        shutdown_service(service)
    return len(pending)
