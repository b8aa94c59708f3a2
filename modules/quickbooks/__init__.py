"""QuickBooks Online Accounting API: the connector (connection, client, modules, webhook checks)
and its local sandbox (``modules.quickbooks.sandbox``) with fixtures."""

from modules.quickbooks.connection import QUICKBOOKS_CONNECTION
from modules.quickbooks.modules import QUICKBOOKS_MODULES

__all__ = ["QUICKBOOKS_CONNECTION", "QUICKBOOKS_MODULES"]
