"""Xero Accounting API: the connector (connection, client, modules, webhook checks) and its
local sandbox (``modules.xero.sandbox``)."""

from modules.xero.connection import XERO_CONNECTION
from modules.xero.modules import XERO_MODULES

__all__ = ["XERO_CONNECTION", "XERO_MODULES"]
