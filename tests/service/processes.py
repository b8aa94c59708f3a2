"""Real processes for the end-to-end tests: servers, Celery workers, Redis; bounded waits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Process:
    """A child process whose output goes to a log file (no pipes to leak)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                args,
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole process group (a prefork worker's children too, gunicorn's
        worker) and wait until none of it is left: a child still exiting keeps its listening
        socket, and a server restarted on that port would be reached through it, then reset."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)
        wait_until(lambda: not live_members(self.popen.pid), 10, "the killed processes to exit")

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} ---\n" + "\n".join(text[-lines:])


def switchboard(name: str, args: list[str], env: dict[str, str], logs: Path) -> Process:
    return Process(name, [str(BIN / "switchboard"), *args], env, logs)


def redis_server(port: int, env: dict[str, str], logs: Path) -> Process:
    """A private redis-server on ``port`` that keeps nothing on disk (a restart empties it)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server must be installed for this test"
    args = [binary, "--port", str(port), "--save", "", "--appendonly", "no"]
    return Process("redis", args, env, logs)


def explain(processes: Iterable[Process]) -> str:
    """The last lines each process logged, to attach to a failed assertion."""
    return "\n".join(process.tail() for process in processes)


def celery_worker(env: dict[str, str], logs: Path, concurrency: int = 2) -> Process:
    args = [
        str(BIN / "celery"),
        "-A",
        "engine.celery_app",
        "worker",
        "-P",
        "threads",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return Process("worker", args, env, logs)


def wait_for_http(port: int, timeout: float = 120) -> None:
    """Wait until an HTTP server on ``port`` answers a request (any status), not only accepts
    connections: gunicorn's master listens before its worker processes have loaded the app,
    and on a loaded machine several booting at once took over 30 s, so the first requests
    sent after the port opened timed out."""

    def answers() -> bool:
        try:
            requests.head(f"http://127.0.0.1:{port}/hooks/ready-check", timeout=5)
            return True
        except requests.RequestException:
            return False

    wait_until(answers, timeout, f"a server answering on port {port}", every=0.5)


def post_webhooks(
    url: str,
    numbers: Iterable[int],
    threads: int = 8,
    timeout: float = 30,
    payload: Callable[[int], dict[str, Any]] = lambda n: {"n": n},
) -> list[int]:
    """POST ``payload(n)`` (``{"n": n}``) for each number; returns the status codes in order."""
    numbers = list(numbers)
    sessions: list[requests.Session] = []

    def session() -> requests.Session:
        import threading

        local = getattr(session, "local", None) or threading.local()
        session.local = local  # type: ignore[attr-defined]
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        return local.session

    def post(n: int) -> int:
        response = session().post(
            url,
            data=json.dumps(payload(n)),
            timeout=timeout,
            headers={"Content-Type": "application/json"},
        )
        response.close()
        return response.status_code

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(post, numbers))
    finally:
        for opened in sessions:
            opened.close()


def base_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(
        {
            "SWITCHBOARD_VAR_DIR": str(var_dir),
            "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "1000000",
            "SWITCHBOARD_HEARTBEAT_SECONDS": "1",
            "SWITCHBOARD_STALE_AFTER_SECONDS": "4",
            "SWITCHBOARD_QUEUE_LEASE_SECONDS": "5",
            "SWITCHBOARD_TICK_SECONDS": "1",
            "SWITCHBOARD_DISPATCH_GRACE_SECONDS": "3",
            "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandboxes listen on loopback
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra)
    return env


@contextmanager
def empty_redis_database(db: int) -> Iterator[str]:
    """The URL of database ``db`` of the shared Redis (127.0.0.1:6379), emptied before and
    after; a Redis that does not answer fails the test, it never skips it."""
    client = redis.Redis(host="127.0.0.1", port=6379, db=db, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        client.close()
        pytest.fail(f"these tests need Redis at 127.0.0.1:6379 ({error})")
    client.flushdb()
    try:
        yield f"redis://127.0.0.1:6379/{db}"
    finally:
        client.flushdb()
        client.close()


@contextmanager
def started_processes() -> Iterator[list[Process]]:
    """A list the test appends the processes it starts to; stopped (then killed) in reverse
    order afterwards."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            process.stop()


def live_members(group: int) -> list[int]:
    """The processes of a process group that have not exited (zombies have: their sockets are
    closed)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members
