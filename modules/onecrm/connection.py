"""The 1CRM connection: instance URL, a 1CRM user's name and password (HTTP Basic — off on a
new instance until an admin enables it), and the default "Assigned to" user id for records the
scenarios create (the guide's §1.1)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.spec import AuthType, ConnectionField, ConnectionKind
from modules.connections import ApiClient
from modules.onecrm.check import check_connection
from modules.onecrm.client import onecrm_settings


def try_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """``GET /version`` (no credentials: the API is there) then ``GET /me`` (the user signs
    in). A 401 says to check the password or to have Basic auth enabled.

    Raises:
        AccountValidationError: the credentials are refused or Basic auth is disabled.
    """
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    version = api.get("version") or {}
    me = api.get("me") or {}
    return {
        "instance": connection.get("url"),
        "version": version.get("version"),
        "edition": ", ".join(str(p) for p in version.get("products") or []),
        "user": me.get("id"),
    }


ONECRM_CONNECTION = ConnectionKind(
    id="onecrm",
    label="1CRM",
    auth=AuthType.BASIC,
    fields=(
        ConnectionField(
            name="url",
            label="Domain",
            help="Your 1CRM instance URL, e.g. https://demo.1crmcloud.com",
        ),
        ConnectionField(
            name="username",
            label="Username",
            help="A 1CRM user allowed to read and write the synced modules (Basic auth must "
            "be enabled for the API).",
        ),
        ConnectionField(name="password", label="Password", secret=True),
        ConnectionField(
            name="assigned_user_id",
            label="Assigned ID",
            default="1",
            help="The default Assigned to user of new records (1 = the administrator).",
        ),
    ),
    test=try_connection,
    check=check_connection,
)
