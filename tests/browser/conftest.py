"""Browser tests: the real app (SQLite store, InlineQueue) served by werkzeug on a loopback port,
driven by Playwright in headless Debian Chromium.

Chromium is required: a missing browser fails these tests, it never skips them. The editor is
built (``npm ci && npm run build`` in ``webui/frontend``) when ``webui/static`` has no build.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from webui import create_app

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "webui" / "frontend"
STATIC = ROOT / "webui" / "static"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
EMAIL = "owner@example.com"
PASSWORD = "correct horse battery"


def _sources_newer_than_build() -> bool:
    index = STATIC / "index.html"
    if not index.is_file():
        return True
    built = index.stat().st_mtime
    sources = [*FRONTEND.glob("src/**/*"), FRONTEND / "index.html", FRONTEND / "package.json"]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


@pytest.fixture(scope="session")
def editor_build():
    """The built editor; built here when missing or older than its sources."""
    if _sources_newer_than_build():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to build the editor (webui/frontend)")
        if not (FRONTEND / "node_modules").is_dir():
            subprocess.run([npm, "ci"], cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    assert (STATIC / "index.html").is_file()
    return STATIC


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium is required for the browser tests: {CHROMIUM} is missing")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def service(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_HEARTBEAT_SECONDS": "1",
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandboxes listen on loopback
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    queue = InlineQueue(workers=2)
    options = ServiceOptions(webhook_response_timeout=5, dispatch_grace_seconds=1)
    service = Service(store, queue, settings, default_registry().copy(), options=options)
    queue.start()  # "Run once" and webhooks run as in production, on the queue's threads
    yield service
    service.close()
    queue.close()
    store.close()


@pytest.fixture
def server(service, editor_build):
    """The real app on a free loopback port; yields its base URL."""
    app = create_app({"SWITCHBOARD_SERVICE": service})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(5)


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport={"width": 1600, "height": 950}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(30_000)  # generous: the suite also runs on loaded machines
    page.base_url = server  # type: ignore[attr-defined]
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"))
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def signed_in(page, server):
    """A page on the scenario list, signed in as the owner created through the first-start form."""
    page.goto(server + "/")
    page.get_by_label("Name").fill("Olga")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Scenarios").wait_for()
    return page


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
