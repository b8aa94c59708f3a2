"""Helpers shared by the browser tests: blueprint walking and canvas actions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def walk(flow: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every module of a flow, nested routes, branches and error routes included."""
    for module in flow:
        if not isinstance(module, dict):
            continue
        yield module
        for route in module.get("routes") or []:
            yield from walk(route.get("flow") or [])
        for branch in module.get("branches") or []:
            yield from walk(branch.get("flow") or [])
        yield from walk(module.get("onerror") or [])


def structure(
    flow: list[dict[str, Any]], ids: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """A blueprint flow without ids and positions: modules, filters, routes, error routes.

    ``ids`` maps module ids to role names, so ``{{2.key}}`` compares as ``{{search.key}}``."""
    ids = ids or {}

    def text(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for number, name in sorted(ids.items(), key=lambda item: -len(str(item[0]))):
            value = value.replace(f"{{{{{number}.", f"{{{{{name}.")
        return value

    out = []
    for module in flow:
        item: dict[str, Any] = {"module": module["module"]}
        flt = module.get("filter")
        if flt:
            item["filter"] = {
                "name": flt.get("name"),
                "conditions": [
                    [{k: text(v) for k, v in condition.items()} for condition in group]
                    for group in flt.get("conditions") or []
                ],
            }
        if "routes" in module:
            item["routes"] = [structure(route.get("flow") or [], ids) for route in module["routes"]]
        if module.get("onerror"):
            item["onerror"] = structure(module["onerror"], ids)
        out.append(item)
    return out


def api_session(page, base: str) -> dict[str, str]:
    """The CSRF header of the page's signed-in session, for setup calls through page.request."""
    state = page.request.get(base + "/api/auth/state").json()
    return {"X-CSRF-Token": state["csrf_token"]}


def create_scenario(page, base: str, blueprint: dict[str, Any]) -> int:
    response = page.request.post(
        base + "/api/scenarios",
        data=json.dumps({"name": blueprint["name"], "blueprint": blueprint}),
        headers={**api_session(page, base), "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    return response.json()["id"]


def add_after(page, module_id: int, module: str) -> None:
    """Hover a module, click its "+" and pick ``module`` in the catalogue."""
    page.get_by_test_id(f"module-{module_id}").hover()
    page.get_by_label(f"Add after {module_id}").click()
    pick(page, module)


def pick(page, module: str) -> None:
    dialog = page.get_by_role("dialog", name="Add a module")
    dialog.get_by_placeholder("Search apps and modules").fill(module.split(":")[1])
    dialog.locator(f"button[data-module='{module}']").click()


def close_panel(page) -> None:
    page.get_by_test_id("module-panel").get_by_role("button", name="OK", exact=True).click()


def save(page) -> None:
    """Click Save and wait until the editor has no unsaved change (the dot on Save is gone)."""
    button = page.get_by_test_id("save")
    button.click()
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='save']\").textContent.includes('•')"
    )
    page.get_by_role("status").filter(has_text="Saved").wait_for()


def save_1crm_connection(form, name: str, domain: str, password: str) -> None:
    """Fill a new 1CRM connection's form (the Connections page's or a module panel's) as user
    ``admin`` and click "Save connection"."""
    form.get_by_label("Connection name").fill(name)
    form.get_by_label("Domain").fill(domain)
    form.get_by_label("Username").fill("admin")
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Save connection").click()
