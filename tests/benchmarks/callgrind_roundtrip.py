"""B6 in process, counted in instructions: webhook → run → answer straight into the WSGI app.

The app ``switchboard serve`` builds (embedded: SQLite, queue threads started) gets B6's
invoice posted through a hand-made WSGI environ (no test client, no HTTP server), each
answer checked; ``--floor`` posts to the bare Flask floor instead. The measured requests run
inside ``itertools.starmap``, so callgrind can count them alone, whatever the machine's load:

    valgrind --tool=callgrind --toggle-collect=starmap_next \\
        .venv/bin/python -m tests.benchmarks.callgrind_roundtrip 100 [--floor] [--threads=10]

The instructions per request are callgrind's total divided by the requests. Without valgrind
it prints ``time.process_time`` per request (all threads of the process).
"""

from __future__ import annotations

import collections
import io
import itertools
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.bench_roundtrip import EXPECTED, INVOICE
from tests.benchmarks.profile_roundtrip import _product
from tests.benchmarks.servers import answer_floor_app

BODY = json.dumps(INVOICE).encode()


def environ(path: str, body: bytes = BODY) -> dict[str, Any]:
    """What gunicorn gives the app for a POST of JSON (B6's invoice unless told)."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_CONNECTION": "close",
        "HTTP_USER_AGENT": "Python-urllib/3.11",
        "HTTP_ACCEPT_ENCODING": "identity",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _post(app: Any, path: str, check: bool) -> None:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    answer = b"".join(app(environ(path), start_response))
    if check and (not statuses[0].startswith("200") or json.loads(answer) != EXPECTED):
        raise AssertionError(f"wrong answer: {statuses} {answer[:200]!r}")


def _posts(app: Any, path: str, check: bool, count: int) -> None:
    """``count`` posts inside ``starmap`` (callgrind's ``--toggle-collect=starmap_next``)."""
    collections.deque(itertools.starmap(_post, [(app, path, check)] * count), 0)


def main(argv: list[str]) -> None:
    numbers = [int(a) for a in argv if not a.startswith("--")]
    count = numbers[0] if numbers else 100
    threads = next((int(a.split("=")[1]) for a in argv if a.startswith("--threads=")), 0)
    with tempfile.TemporaryDirectory() as temp:
        if "--floor" in argv:
            app, path, check = answer_floor_app(), "/hooks/x", False
        else:
            app, token, _ = _product(Path(temp) / "var")
            path, check = f"/hooks/{token}", True
        for _ in range(30):  # warm: plans, caches, connections
            _post(app, path, check)
        started = time.process_time()
        if threads:
            each = [
                threading.Thread(target=_posts, args=(app, path, check, count // threads))
                for _ in range(threads)
            ]
            for thread in each:
                thread.start()
            for thread in each:
                thread.join()
        else:
            _posts(app, path, check, count)
        cpu_ms = (time.process_time() - started) * 1000 / count
    print(f"{count} requests, {cpu_ms:.3f} ms CPU a request")


if __name__ == "__main__":
    main(sys.argv[1:])
