"""The ``Store`` interface: everything Switchboard keeps, behind one documented contract.

Each area is its own abstract base (so its contract reads in one short file); ``Store``
combines them. ``tests/store`` runs one contract suite over every implementation.

Common rules every method keeps:

* Each call is its own transaction: when it returns, its writes are committed — unless it runs
  inside ``transaction()``, which makes every write of the block one transaction.
* ``get_*`` raise ``NotFound`` for a missing id; ``find_*``/lookups by key return ``None``.
* Timestamps are timezone-aware UTC; arguments named ``now`` default to the store's clock.
* JSON arguments are copied; what comes back is a fresh ``dict``/``list``.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager
from types import TracebackType

from engine.store.interface.connections import ConnectionStore
from engine.store.interface.datastores import DataStoreStore
from engine.store.interface.executions import ExecutionStore, IncompleteExecutionStore
from engine.store.interface.scenarios import ScenarioStore
from engine.store.interface.state import CursorStore, DeliveryMemory, VariableStore
from engine.store.interface.users import ApiTokenStore, SessionStore, UserStore
from engine.store.interface.webhooks import WebhookQueue, WebhookStore


class Store(
    ScenarioStore,
    ConnectionStore,
    WebhookStore,
    WebhookQueue,
    ExecutionStore,
    IncompleteExecutionStore,
    DataStoreStore,
    CursorStore,
    VariableStore,
    DeliveryMemory,
    UserStore,
    ApiTokenStore,
    SessionStore,
):
    """Everything Switchboard persists. Use it as a context manager, or call ``close()``."""

    @abstractmethod
    def close(self) -> None:
        """Release connections. The store is unusable afterwards; closing twice is harmless."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A block whose writes (made by this thread through this store) commit together
        when it ends, or not at all when it raises. Blocks nest: the outermost one commits.

        Reads inside the block may not see the block's own uncommitted writes; the methods
        that write return what they wrote."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "ApiTokenStore",
    "ConnectionStore",
    "CursorStore",
    "DataStoreStore",
    "DeliveryMemory",
    "ExecutionStore",
    "IncompleteExecutionStore",
    "ScenarioStore",
    "SessionStore",
    "Store",
    "UserStore",
    "VariableStore",
    "WebhookQueue",
    "WebhookStore",
]
