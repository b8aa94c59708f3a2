"""The service is a facade over plain parts: no mixins, each constructor names what it uses
(issue #18.2)."""

from __future__ import annotations

import inspect
from pathlib import Path

import engine.service as service_package
from engine.service import Service

PARTS = {
    "run_events": "EventOperations",
    "history": "HistoryOperations",
    "incomplete": "IncompleteOperations",
    "webhooks": "WebhookOperations",
    "deliveries": "AppDeliveryOperations",
    "runs": "RunOperations",
    "scenarios": "ScenarioOperations",
    "maintenance": "MaintenanceOperations",
    "queues": "QueueViewOperations",
    "module_runs": "ModuleRunOperations",
    "previews": "PreviewOperations",
    "resources": "ResourceOperations",
    "connections": "ConnectionOperations",
    "accounts": "AccountOperations",
    "sync_logs": "SyncLogOperations",
    "reconciliation": "ReconcileOperations",
}


def test_the_service_inherits_nothing_and_holds_its_parts(service):
    assert Service.__bases__ == (object,)
    for name, kind in PARTS.items():
        part = getattr(service, name)
        assert type(part).__name__ == kind
        assert type(part).__bases__ == (object,), f"{kind} is a mixin"


def test_every_part_names_what_it_uses():
    for kind in PARTS.values():
        part = next(
            cls
            for module in Path(service_package.__file__).parent.glob("*.py")
            for cls in [getattr(_module(module.stem), kind, None)]
            if cls is not None
        )
        parameters = inspect.signature(part.__init__).parameters.values()
        assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters), (
            f"{kind} takes *args or **kwargs"
        )


def test_no_part_hides_a_missing_attribute():
    folder = Path(service_package.__file__).parent
    for path in folder.glob("*.py"):
        assert "attr-defined" not in path.read_text(encoding="utf-8"), path.name


def test_replacing_a_shared_collaborator_reaches_every_part_that_uses_it(service):
    options = service.options.__class__(execution_retention_days=0)
    service.options = options
    assert service.history.options is options and service.webhooks.options is options
    assert service.runs.options is options and service.maintenance.options is options


def _module(stem: str):
    import importlib

    return importlib.import_module(f"engine.service.{stem}")
