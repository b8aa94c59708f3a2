"""The benchmarks' server start-up wait: a server counts as up when it answers HTTP, not when
its port opens (gunicorn's arbiter listens before its worker has the app)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.benchmarks.servers import free_port, wait_for

SLOW_WORKER = """
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

class Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(404)  # a floor app's answer to GET /: up all the same
        self.end_headers()

server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Answer)  # listening from here on
time.sleep(5)  # the worker still building its app
Path(sys.argv[2]).write_text("serving")
server.serve_forever()
"""


def test_wait_for_returns_once_the_server_answers_not_when_its_port_opens(tmp_path: Path):
    port, serving = free_port(), tmp_path / "serving"
    process = subprocess.Popen([sys.executable, "-c", SLOW_WORKER, str(port), str(serving)])
    try:
        wait_for(port, process)
        assert serving.read_text() == "serving"
    finally:
        process.terminate()
        process.wait(30)
