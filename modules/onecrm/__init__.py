"""1CRM REST API: the connector (connection, client, modules) and its local sandbox
(``modules.onecrm.sandbox``)."""

from modules.onecrm.connection import ONECRM_CONNECTION
from modules.onecrm.modules import ONECRM_MODULES

__all__ = ["ONECRM_CONNECTION", "ONECRM_MODULES"]
