"""Test helpers that watch for forbidden side effects and bound how long code may run.

``SideEffects`` uses ``sys.addaudithook``: CPython raises an audit event for every file open,
socket, subprocess, ``os.system``/``exec``/``spawn``/``fork``, ``ctypes`` load and dynamic
code execution, including from C extensions, so monkeypatching cannot be bypassed by calling
``io.open`` or ``_socket`` directly. An audit hook cannot be removed, so one hook is installed
per process and only records while a ``watching()`` block is active (on this thread).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORBIDDEN_PREFIXES = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.kill",
    "os.putenv",
    "os.unsetenv",
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.listdir",
    "os.scandir",
    "os.chmod",
    "shutil.",
    "ctypes.",
    "urllib.Request",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "webbrowser.",
    "pty.",
    "exec",
    "compile",
    "builtins.input",
    "code.__new__",
    "sys._getframe",
    "object.__getattr__",
    "object.__setattr__",
    "marshal.",
    "pickle.",
)

# Time-zone data is the only file an expression may read (``formatDate(…; "Europe/Prague")``).
_TZ_DIRS = ("zoneinfo", "tzdata")


class SideEffects:
    """Records forbidden audit events raised on the watching thread."""

    _installed = False
    _local = threading.local()

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        if not SideEffects._installed:
            sys.addaudithook(SideEffects._hook)
            SideEffects._installed = True

    @staticmethod
    def _hook(event: str, args: tuple[Any, ...]) -> None:
        recorder = getattr(SideEffects._local, "recorder", None)
        if recorder is None:
            return
        if event == "open":
            path = str(args[0]) if args and args[0] is not None else ""
            if any(part in Path(path).parts for part in _TZ_DIRS):
                return
            recorder.events.append((event, args[:2]))
        elif event.startswith(FORBIDDEN_PREFIXES):
            recorder.events.append((event, tuple(repr(a)[:80] for a in args[:2])))

    @contextlib.contextmanager
    def watching(self) -> Iterator[SideEffects]:
        SideEffects._local.recorder = self
        try:
            yield self
        finally:
            SideEffects._local.recorder = None


class Hang(BaseException):  # a BaseException: no `except Exception` swallows it
    """Code ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block with ``Hang`` after ``seconds`` (main thread only, SIGALRM).

    Python code and the ``regex`` engine check for signals, so a runaway loop is stopped; a
    single long C call (``str.replace`` of gigabytes) is only stopped when it returns, which the
    caller's elapsed-time assertion then catches.
    """

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if time.monotonic() - started > seconds:
        raise Hang(f"took {time.monotonic() - started:.1f} s, over {seconds} s")
