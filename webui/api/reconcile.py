"""Reconciliation: 1CRM's books against an accounting system's, every difference with the
sync-log entries of its record (``service.reconcile``)."""

from __future__ import annotations

from flask import Response

from engine.errors import ModuleError
from webui.api.models import ReconciliationOut
from webui.api.problems import ApiError
from webui.api.routing import answer, route
from webui.api.scenarios import connection_bindings
from webui.app import current_service


@route("/reconcile/<library>", "GET", answer=ReconciliationOut)
def reconcile(library: str) -> Response:
    """Compare 1CRM with ``xero`` or ``quickbooks`` record by record (customers, invoices with
    lines, totals, tax, currency, status and amount due, payments and their allocations);
    ``?connection=onecrm:3&connection=xero:5`` picks the connections, else the library's
    scenarios' are read. 502 when a side cannot be read."""
    try:
        result = current_service().reconcile(library, connections=connection_bindings())
    except ModuleError as error:
        raise ApiError(502, "upstream_error", f"the books could not be read: {error}") from None
    return answer(ReconciliationOut.model_validate(result.to_dict()))
