"""The generic sandbox of apps defined as data: each app's ``sandbox.yaml`` served by one server
(``modules.apps.sandbox.server``), with the shared control routes of ``modules.sandboxing``."""

from __future__ import annotations

from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.apps.sandbox.server import create_app, create_app_from
from modules.sandboxing import run_sandbox_in_thread

__all__ = ["AppSandbox", "SandboxRequest", "create_app", "create_app_from", "run_sandbox_in_thread"]
