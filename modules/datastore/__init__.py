"""Make's Data store app: keyed records kept in Switchboard's own store.

Every write registers its undo with the run's transaction, so a Rollback (or an error with
auto-commit off) takes the cycle's writes back, as Make's ACID data store modules do.
"""

from modules.datastore.modules import DATASTORE_MODULES

__all__ = ["DATASTORE_MODULES"]
