"""Test helpers that watch for forbidden side effects and bound how long code may run.

``SideEffects`` uses ``sys.addaudithook``: CPython raises an audit event for every file open,
socket, subprocess, ``os.system``/``exec``/``spawn``/``fork``, ``ctypes`` load and dynamic
code execution, including from C extensions, so monkeypatching cannot be bypassed by calling
``io.open`` or ``_socket`` directly. An audit hook cannot be removed, so one hook is installed
per process and only records while a ``watching()`` block is active (on this thread).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
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

# The engine compiles its own generated functions, once per template shape, under these names
# (engine/mapping, engine/runtime/inline.py): their source is made of the shape alone, and the
# expression's parts are the function's globals, never its text. Which test first meets a shape
# depends on the order the tests run in.
_ENGINE_SOURCES = ("<mapper>", "<values>", "<arithmetic>", "<item>", "<apply>")


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
        elif event == "compile" and len(args) > 1 and args[1] in _ENGINE_SOURCES:
            return
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


WALL_FLOOR_SECONDS = 60.0


@contextlib.contextmanager
def time_limit(seconds: float, wall: float | None = None) -> Iterator[None]:
    """Interrupt the block with ``Hang`` after ``seconds`` of CPU time (SIGPROF), or after ten
    times that of wall time but at least a minute, or ``wall`` seconds when given (SIGALRM, for
    code that waits: on a loaded machine a block waits for the CPU too); main thread only.

    CPU time keeps the limit meaningful on a loaded machine. Python code and the ``regex``
    engine check for signals, so a runaway loop is stopped; a single long C call (``str.replace``
    of gigabytes) is only stopped when it returns, which the check on exit then reports.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = {
        number: signal.signal(number, interrupt) for number in (signal.SIGPROF, signal.SIGALRM)
    }
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, wall or max(seconds * 10, WALL_FLOOR_SECONDS))
    started = time.process_time()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for number, handler in previous.items():
            signal.signal(number, handler)
    used = time.process_time() - started
    if used > seconds:
        raise Hang(f"used {used:.1f} s of CPU, over {seconds} s")


def run_bounded(
    setup: str, attack: str, *, memory_bytes: int = 3 << 29, cpu_seconds: int = 120
) -> dict[str, Any]:
    """Run ``setup`` then ``attack`` (Python source) in a fresh interpreter whose address space
    is capped at ``memory_bytes`` (1.5 GiB) and CPU time at ``cpu_seconds``, so that a
    regression fails there with a ``MemoryError`` instead of taking the shared machine's memory.

    ``attack`` leaves what the test needs in ``result`` (JSON). Returns ``{"result": …,
    "grown_mb": …}``: how much the peak resident memory grew while ``attack`` ran (after
    ``setup``'s imports). A crash in the child fails the calling test with its stderr.
    """
    program = "\n".join(
        [
            "import json, resource",
            setup,
            f"resource.setrlimit(resource.RLIMIT_AS, ({memory_bytes}, {memory_bytes}))",
            f"resource.setrlimit(resource.RLIMIT_CPU, ({cpu_seconds}, {cpu_seconds}))",
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
            "result = None",
            attack,
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
            "print(json.dumps({'result': result, 'grown_mb': (after - before) / 1024}))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=cpu_seconds * 10,
        check=False,
    )
    if done.returncode != 0:
        failure = done.stderr[-3000:]
        raise AssertionError(f"the bounded child failed ({done.returncode}):\n{failure}")
    return json.loads(done.stdout.strip().splitlines()[-1])
