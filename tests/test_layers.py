"""The import graph keeps its layers: every arrow points down (``docs/architecture.md``).

Read from the source with the stdlib (``ast``), every ``import`` counted wherever it stands (a
function-level import is an arrow too):

    switchboard (the command)  ──►  webui  ──►  engine.service  ──►  engine adapters  ──►  core
                               └─►  modules  ─┘ (and engine core)

* the engine imports neither the web UI, the modules, nor the command;
* the web UI and the modules do not import each other, nor the command;
* nothing above the store (``engine.store``) imports SQLAlchemy: the store maps driver errors;
* the backplane (``engine.queue``) and the store do not import the service;
* nothing imports the Celery worker entry (``engine.celery_app``) but the command, so no import
  loop runs through it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGES = ("switchboard", "engine", "modules", "webui")


def source_modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            if "node_modules" in parts or "frontend" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def imports_of(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


GRAPH = {name: imports_of(name, path) for name, path in source_modules()}


def importers(target: str, among: str = "") -> set[str]:
    """Modules (whose name starts with ``among``) importing ``target`` or anything inside it."""
    return {
        name
        for name, imported in GRAPH.items()
        if name.startswith(among)
        and any(i == target or i.startswith(target + ".") for i in imported)
    }


def test_the_engine_imports_no_layer_above_it():
    for above in ("webui", "modules", "switchboard", "scenarios"):
        assert importers(above, "engine") == set(), f"engine imports {above}"


def test_the_web_ui_and_the_modules_stand_side_by_side_below_the_command():
    assert importers("modules", "webui") == set()
    assert importers("webui", "modules") == set()
    assert importers("switchboard", "webui") | importers("switchboard", "modules") == set()


def test_nothing_above_the_store_imports_sqlalchemy():
    users = {name for name in importers("sqlalchemy") if not name.startswith("engine.store")}
    assert users == set()


def test_the_adapters_do_not_import_the_service():
    assert importers("engine.service", "engine.queue") == set()
    assert importers("engine.service", "engine.store") == set()
    assert importers("engine.service", "engine.ratelimit") == set()


def test_only_the_command_imports_the_celery_worker_entry():
    assert importers("engine.celery_app") <= {"switchboard.cli"}


def test_no_import_loop_runs_through_the_celery_worker_entry():
    start = "engine.celery_app"
    local = set(GRAPH)

    def arrows(name: str) -> set[str]:
        out = set()
        for imported in GRAPH.get(name, ()):
            # ``from engine.queue import x`` is an arrow to engine.queue (and to x if a module).
            while imported and imported not in local:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                out.add(imported)
        return out

    seen, todo = set(), list(arrows(start))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(arrows(name))
    assert start not in seen, "a module engine.celery_app imports imports it back"


def test_the_account_and_oauth_views_do_not_touch_the_store():
    """They call the service's ``accounts`` and ``connections`` parts (issue #18.2)."""
    for relative in ("webui/api/accounts.py", "webui/oauth.py", "webui/auth.py"):
        tree = ast.parse((REPO_ROOT / relative).read_text(encoding="utf-8"))
        touched = [
            node.lineno
            for node in ast.walk(tree)
            if (isinstance(node, ast.Attribute) and node.attr == "store")
            or (isinstance(node, ast.Name) and node.id == "Store")
        ]
        assert touched == [], f"{relative} reaches the store on lines {touched}"


def test_redis_or_in_process_is_decided_by_the_backplane_factory_alone():
    """``settings.redis_url`` is read by ``engine.queue`` (the factory) and nowhere else but the
    command's check that ``worker``/``scheduler`` have a Redis to serve (issue #18.1)."""
    readers = set()
    for name, path in source_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Attribute) and n.attr == "redis_url" for n in ast.walk(tree)):
            readers.add(name)
    assert readers <= {"engine.queue", "switchboard.cli"}
