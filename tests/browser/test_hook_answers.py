"""The attack of issue 17 replayed in Chromium: an editor's scenario answers its webhook with
HTML whose script, opened by a signed-in owner, tries to make a new owner account through the
API with the owner's session (and CSRF token, if it can read one). It used to succeed; now the
answer runs sandboxed in an opaque origin — and, with ``SWITCHBOARD_HOOKS_URL``, on an origin
of its own."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.browser.conftest import EMAIL, PASSWORD, shot
from tests.browser.helpers import api_session

MALLORY = "mallory@example.com"

# Script an editor may write. No "{{" or "}}": the body is a mapping template.
ATTACK = """<!doctype html><html><head><title>loading</title></head><body><p>Thanks!</p><script>
(async function () {
  const tried = [];
  document.title = "running";
  try { tried.push("cookie=" + (document.cookie || "none")); }
  catch (e) { tried.push("cookie=blocked"); }
  let csrf = "";
  try {
    const state = await fetch("/api/auth/state", { credentials: "include" });
    const data = await state.json();
    csrf = data.csrf_token || "";
    tried.push("state=" + state.status + ":" + (data.user ? data.user.email : "anonymous"));
  } catch (e) { tried.push("state=blocked"); }
  const owner = JSON.stringify(
    { email: "MALLORY", name: "Mallory", password: "PASSWORD", role: "owner" });
  try {
    const made = await fetch("/api/users", { method: "POST", credentials: "include",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: owner });
    tried.push("users=" + made.status);
  } catch (e) { tried.push("users=blocked"); }
  try {
    await fetch("/api/users", { method: "POST", mode: "no-cors", credentials: "include",
      headers: { "Content-Type": "text/plain" }, body: owner });
    tried.push("no-cors=sent");
  } catch (e) { tried.push("no-cors=blocked"); }
  document.body.setAttribute("data-tried", tried.join(" "));
  document.title = "done";
})();
</script></body></html>
""".replace("MALLORY", MALLORY).replace("PASSWORD", PASSWORD)

# What the editor sets so the script may run on main: its own CSP and a page content type.
ATTACK_HEADERS = [
    {"key": "Content-Type", "value": "text/html; charset=utf-8"},
    {"key": "Content-Security-Policy", "value": "default-src 'self' 'unsafe-inline'"},
]


def attack_blueprint() -> dict:
    return {
        "name": "Thank-you page",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "mapper": {},
             "parameters": {"maxResults": 1}, "metadata": {"designer": {"x": 0, "y": 0}}},
            {"id": 2, "module": "gateway:WebhookRespond", "version": 1, "parameters": {},
             "mapper": {"status": "200", "body": ATTACK, "headers": ATTACK_HEADERS},
             "metadata": {"designer": {"x": 300, "y": 0}}},
        ],
        "metadata": {"version": 1, "instant": True},
    }  # fmt: skip


def json_headers(page, server: str) -> dict[str, str]:
    return {**api_session(page, server), "Content-Type": "application/json"}


def editors_hook(browser, page, server: str) -> str:
    """An editor account (made by the owner) imports and activates the scenario; returns the
    webhook URL the API shows the editor."""
    made = page.request.post(
        f"{server}/api/users",
        data=json.dumps(
            {"email": "eve@example.com", "name": "Eve", "password": PASSWORD, "role": "editor"}
        ),
        headers=json_headers(page, server),
    )
    assert made.status == 201, made.text()
    editor = browser.new_context()
    try:
        login = editor.request.post(
            f"{server}/api/auth/login",
            data=json.dumps({"email": "eve@example.com", "password": PASSWORD}),
            headers={"Content-Type": "application/json"},
        )
        assert login.ok, login.text()
        csrf = editor.request.get(f"{server}/api/auth/state").json()["csrf_token"]
        write = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        scenario = editor.request.post(
            f"{server}/api/scenarios",
            data=json.dumps({"name": "Thank-you page", "blueprint": attack_blueprint()}),
            headers=write,
        ).json()
        activated = editor.request.post(
            f"{server}/api/scenarios/{scenario['id']}/activate", headers=write
        )
        assert activated.ok, activated.text()
        hooks = editor.request.get(f"{server}/api/webhooks?scenario_id={scenario['id']}").json()
        return hooks[0]["url"]
    finally:
        editor.close()


def open_attack(page, url: str) -> str:
    """Open the webhook as the signed-in owner; what its script reports it tried. The run
    behind the answer may take a while on a loaded machine: the waits are generous."""
    assert "{{" not in ATTACK and "}}" not in ATTACK
    page.goto(url, timeout=120_000)
    page.wait_for_function("() => document.title === 'done'", timeout=120_000)
    return page.locator("body").get_attribute("data-tried") or ""


def owners_emails(page, server: str) -> list[str]:
    return [user["email"] for user in page.request.get(f"{server}/api/users").json()]


def session_cookie_value(page) -> str:
    cookies = page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == "switchboard_session")


@pytest.fixture(autouse=True)
def patient_callers(service):
    """Callers wait for the scenario's answer as long as a loaded machine needs."""
    service.options = dataclasses.replace(service.options, webhook_response_timeout=120)


def test_a_scenarios_answer_cannot_act_as_the_owner_who_opens_it(browser, signed_in, server):
    page = signed_in
    url = editors_hook(browser, page, server)
    tried = open_attack(page, url)
    shot(page, "hook-answer-attack")
    # The script ran to its end (the test sees what it did), in an opaque origin: no cookie
    # to read, no session state, no CSRF token; its writes went without the owner's session.
    assert "cookie=blocked" in tried and "no-cors=" in tried, tried
    assert "state=blocked" in tried, tried
    assert f"state=200:{EMAIL}" not in tried
    assert "users=201" not in tried
    assert MALLORY not in owners_emails(page, server)
    # The owner's session cookie went with the request (same host) but was not stored.
    hook_id = page.request.get(f"{server}/api/webhooks").json()[0]["id"]
    items = page.request.get(f"{server}/api/webhooks/{hook_id}/queue?status=all").json()
    for item in items:
        detail = page.request.get(f"{server}/api/webhooks/{hook_id}/queue/{item['id']}").json()
        assert session_cookie_value(page) not in json.dumps(detail)
    # The owner is still signed in and nothing else changed.
    assert page.request.get(f"{server}/api/auth/state").json()["user"]["email"] == EMAIL


def test_with_a_hooks_url_the_answer_runs_on_an_origin_of_its_own(
    browser, signed_in, server, service
):
    # The app is at 127.0.0.1, its webhooks at localhost: the same server, two origins.
    page = signed_in
    port = server.rsplit(":", 1)[1]
    hooks_url = f"http://localhost:{port}"
    service.options = dataclasses.replace(service.options, base_url=server, hooks_url=hooks_url)
    url = editors_hook(browser, page, server)
    assert url.startswith(f"{hooks_url}/hooks/")

    # The editor shows the hooks URL.
    page.goto(server + "/")
    page.locator(".topbar").get_by_role("link", name="Webhooks").click()
    page.get_by_text(url).wait_for()

    # An old link on the app's origin ends up on the hooks origin too.
    token = url.rsplit("/hooks/", 1)[1]
    tried = open_attack(page, f"{server}/hooks/{token}")
    assert page.url == url
    shot(page, "hook-answer-own-origin")
    assert "cookie=blocked" in tried and "state=blocked" in tried, tried
    assert "users=201" not in tried
    page.goto(server + "/")
    assert MALLORY not in owners_emails(page, server)
    # The hooks origin serves no editor and no API.
    refused = page.request.get(f"{hooks_url}/api/auth/state")
    assert refused.status == 404 and refused.json()["error"]["code"] == "hooks_origin"
