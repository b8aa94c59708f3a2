"""``SqlStore``: the ``Store`` on SQLAlchemy 2 Core, for SQLite (default) and PostgreSQL.

Each area lives in its own module as a mixin over ``SqlBase``; ``SqlStore`` puts them together
behind the ``Store`` interface. The schema must be migrated first (``upgrade_database``).
"""

from __future__ import annotations

from engine.store.interface import Store
from engine.store.sql.base import SqlBase, utc_now
from engine.store.sql.connections import SqlConnections
from engine.store.sql.datastores import SqlDataStores
from engine.store.sql.executions import SqlExecutions
from engine.store.sql.incomplete import SqlIncompleteExecutions
from engine.store.sql.scenarios import SqlScenarios
from engine.store.sql.state import SqlCursors, SqlDeliveryMemory, SqlVariables
from engine.store.sql.users import SqlApiTokens, SqlSessions, SqlUsers
from engine.store.sql.webhooks import SqlWebhookQueue, SqlWebhooks


class SqlStore(
    SqlScenarios,
    SqlConnections,
    SqlWebhooks,
    SqlWebhookQueue,
    SqlExecutions,
    SqlIncompleteExecutions,
    SqlDataStores,
    SqlCursors,
    SqlVariables,
    SqlDeliveryMemory,
    SqlUsers,
    SqlApiTokens,
    SqlSessions,
    Store,
):
    """The store on a SQL database: ``SqlStore(url, secret_box=box)``; see ``SqlBase``.

    Safe to share between threads (each call takes its own pooled connection); give each
    process its own instance.
    """


__all__ = ["SqlBase", "SqlStore", "utc_now"]
