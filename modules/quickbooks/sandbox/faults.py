"""QuickBooks Online error answers, raised as exceptions and rendered in one place.

Exception tree::

    QboFault                      {"Fault": {"Error": [...], "type"}, "time"}; status 400 mostly
    └── AuthFault                 the gateway's lower-case {"fault": {"error": [...]}} (401/403)

Codes and messages follow Intuit's published error list (``2020`` required param, ``2500``
invalid reference, ``2170`` invalid enumeration, ``4000``/``4001`` query, ``5010`` stale
object, ``610`` not found, ``6240`` duplicate name, ``3001`` throttle, ``3200``
authentication, ``3100`` authorization).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class QboFault(Exception):
    """An error answer with one ``Error`` element."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str,
        *,
        status: int = 400,
        element: str = "",
        fault_type: str = "ValidationFault",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code, self.message, self.detail, self.element = code, message, detail, element
        self.status, self.fault_type = status, fault_type
        self.headers = dict(headers or {})

    def body(self, time: str) -> dict[str, Any]:
        """The JSON answer, stamped with the server ``time``."""
        error = {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }
        return {"Fault": {"Error": [error], "type": self.fault_type}, "time": time}


class AuthFault(QboFault):
    """401/403 from Intuit's gateway: lower-case keys and epoch-millisecond ``time``."""

    def body(self, time: str) -> dict[str, Any]:
        """The gateway's JSON answer (``time`` is ignored: the gateway sends epoch millis)."""
        del time
        error = {"message": self.message, "detail": self.detail, "code": self.code, "element": None}
        return {
            "warnings": None,
            "intuitObject": None,
            "fault": {"error": [error], "type": self.fault_type},
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": None,
            "status": None,
            "cdcresponse": [],
        }


def authentication_failed(detail: str) -> AuthFault:
    """401: missing, unknown or expired bearer token, or an unknown realm."""
    return AuthFault(
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        status=401,
        fault_type="AUTHENTICATION",
    )


def authorization_failed() -> AuthFault:
    """403: the token is valid but not for this company."""
    return AuthFault(
        "3100",
        "message=AuthorizationFailed; errorCode=003100; statusCode=403",
        "",
        status=403,
        fault_type="SERVICE",
    )


def throttled(retry_after: int) -> QboFault:
    """429 past the per-realm request budget."""
    return QboFault(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.",
        status=429,
        fault_type="SERVICE",
        headers={"Retry-After": str(retry_after)},
    )


def required(param: str) -> QboFault:
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {param} is missing in the request",
        element=param,
    )


def invalid_reference(kind: str, ref_id: Any) -> QboFault:
    return QboFault(
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {kind} with id {ref_id} not found",
        element=kind,
    )


def not_found() -> QboFault:
    return QboFault(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to "
        "use has been made inactive. Check the fields with accounts, customers, "
        "items, vendors or employees.",
    )


def stale_object(sync_token: Any) -> QboFault:
    return QboFault(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and another user "
        "were working on the same thing. Please try again. (SyncToken "
        f"{sync_token} is not current)",
    )


def duplicate_name(existing_id: str) -> QboFault:
    return QboFault(
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Id={existing_id}",
    )


def business(detail: str, element: str = "") -> QboFault:
    return QboFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element=element,
    )


def invalid_enumeration(value: Any, element: str) -> QboFault:
    """2170: a value outside the field's enumeration (an item ``Type``, an estimate's
    ``TxnStatus`` …)."""
    return QboFault(
        "2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", element=element
    )


def invalid_property(detail: str, element: str = "") -> QboFault:
    return QboFault("2010", "Request has invalid or unsupported property", detail, element=element)


def unsupported(detail: str) -> QboFault:
    return QboFault("500", "Unsupported Operation", f"Operation {detail} is not supported.")


def query_error(detail: str, parse: bool) -> QboFault:
    if parse:
        return QboFault("4000", "Error parsing query", detail)
    return QboFault("4001", "Invalid query", detail)
