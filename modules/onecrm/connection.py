"""The 1CRM connection: instance URL, an admin user's name and password (HTTP Basic), and
the default "Assigned to" user id for records the scenarios create (the guide's §1.1)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.spec import AuthType, ConnectionField, ConnectionKind
from modules.connections import ApiClient
from modules.onecrm.client import onecrm_settings


def check_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """List one account: proves the URL, the credentials and the API are there."""
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    body = api.get("data/Account", params={"limit": 1, "fields[]": ["name"]}) or {}
    return {"instance": connection.get("url"), "accounts": body.get("total_results")}


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
        ConnectionField(name="username", label="Username", help="An administrative user."),
        ConnectionField(name="password", label="Password", secret=True),
        ConnectionField(
            name="assigned_user_id",
            label="Assigned ID",
            default="1",
            help="The default Assigned to user of new records (1 = the administrator).",
        ),
    ),
    test=check_connection,
)
