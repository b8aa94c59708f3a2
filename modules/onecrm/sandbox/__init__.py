"""Local emulator of a 1CRM instance's REST API (``/api.php/``), built from 1CRM's own API
client and docs (``shared/reference/vendor/1crm/``: NOTES.md and docs-pages/).

- ``schema.py``: the models, their fields, declared list filters and related links;
  ``GET /api.php/meta/fields/{Model}``.
- ``records.py``: what every create and update checks and fills in; ``values.py``: values as
  the text 1CRM answers.
- ``queries.py``: lists (declared filters only, ``filter_text``, ``order``, ``fields[]``).
- ``documents.py``: invoices, quotes and payments as 1CRM keeps them — ``Invoice`` +
  ``InvoiceLineGroup`` + ``InvoiceLine`` + ``InvoiceAdjustment``, ``Payment`` +
  ``invoices_payments`` — and a person's save of a whole document (fixtures, tests).
- ``webhooks.py``: subscriptions with a required filter; flat, unsigned deliveries.
- ``app.py``: routes, Basic auth (which can be switched off, as on a new instance), errors
  ``{"error", "message", "hint"}``, the ``/_sandbox`` controls.

See docs/sandboxes.md for what the sandbox models and where it is our choice.
"""

from modules.onecrm.sandbox.app import create_app
from modules.onecrm.sandbox.state import DEFAULTS, OneCrmSandboxState
from modules.sandboxing import run_sandbox_in_thread

__all__ = ["DEFAULTS", "OneCrmSandboxState", "create_app", "run_sandbox_in_thread"]
