"""Zoho CRM API v2: the connector (connection, client, modules, notifications) and its local
sandbox (``modules.zohocrm.sandbox``) with fixtures."""

from modules.zohocrm.connection import ZOHOCRM_CONNECTION
from modules.zohocrm.modules import ZOHOCRM_MODULES

__all__ = ["ZOHOCRM_CONNECTION", "ZOHOCRM_MODULES"]
