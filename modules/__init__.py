"""Switchboard's own module packages: built-in tools, the app connectors and the apps defined
as data (``modules.apps``: its library and ``SWITCHBOARD_APPS_PATH``).

``register_all`` is the ``switchboard.modules`` entry point (see ``engine.registry``).
"""

from __future__ import annotations

from engine.registry import ModuleRegistry
from modules.apps import register_apps
from modules.builtin import SPECS as BUILTIN_SPECS
from modules.datastore import DATASTORE_MODULES
from modules.http import HTTP_MODULES
from modules.mail import EMAIL_CONNECTION, EMAIL_MODULES
from modules.onecrm import ONECRM_CONNECTION, ONECRM_MODULES
from modules.packs.taxes import READERS as TAX_READERS
from modules.quickbooks import QUICKBOOKS_CONNECTION, QUICKBOOKS_MODULES
from modules.reconcile import BooksReconciler
from modules.rss import RSS_MODULES
from modules.xero import XERO_CONNECTION, XERO_MODULES
from modules.zohocrm import ZOHOCRM_CONNECTION, ZOHOCRM_MODULES


def register_all(registry: ModuleRegistry) -> None:
    """Register every module this distribution ships."""
    registry.register_all(BUILTIN_SPECS)
    registry.register_all(HTTP_MODULES)
    registry.register_all(DATASTORE_MODULES)
    registry.register_all(RSS_MODULES)
    registry.register_all(EMAIL_MODULES)
    registry.register_all(ONECRM_MODULES)
    registry.register_all(XERO_MODULES)
    registry.register_all(QUICKBOOKS_MODULES)
    registry.register_all(ZOHOCRM_MODULES)
    registry.register_connection_kind(EMAIL_CONNECTION)
    registry.register_connection_kind(ONECRM_CONNECTION)
    registry.register_connection_kind(XERO_CONNECTION)
    registry.register_connection_kind(QUICKBOOKS_CONNECTION)
    registry.register_connection_kind(ZOHOCRM_CONNECTION)
    register_apps(registry)
    registry.register_reconciler(BooksReconciler())
    for app, reader in TAX_READERS.items():
        registry.register_tax_reader(app, reader)
