"""Group commit: concurrent threads' hot-path writes committed together in one transaction.

On SQLite the writers of one store take turns (``SqlBase._write_turn``) and each pays its
own ``BEGIN IMMEDIATE`` and commit (WAL frames for every page it touched, the executions
table's indexes shared by all of them). While one writer holds the turn the next ones wait;
``GroupCommit`` lets the first of them (the *leader*) take every write waiting at that moment
and run them in one transaction, with one commit. Each thread
returns from ``run`` only once the transaction holding its write has committed: what a caller
is told was stored is durable as a lone transaction would have made it (the database's
``synchronous`` setting decides how durable that is, not this class).

A shared transaction adds no statement (no savepoints). When one of its writes raises, the
whole transaction is rolled back and each write of the batch is run again alone, in its own
transaction, exactly as it would have run without group commit: only the write that fails
alone fails, with its own error. When the transaction itself fails (its ``BEGIN`` or its
commit), nothing of the batch is stored and every thread of it gets the store's error, each
its own copy; nothing is retried, so no thread is told of a write that was not committed.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from engine.store.errors import DatabaseError, StoreUnavailable

T = TypeVar("T")

Job = Callable[[Any], T]
"""A write: given a DB-API cursor inside the transaction, does its statements, returns its
result (it must not commit, roll back, or keep the cursor)."""

MAX_BATCH = 64
"""Writes one transaction takes at most (the rest wait for the next)."""


class _Ticket(Generic[T]):
    __slots__ = ("done", "error", "job", "result", "wake")

    def __init__(self, job: Job[T]) -> None:
        self.job = job
        self.wake: Any = None
        """While its thread waits: a lock it holds and waits to acquire again, released to
        wake it (``GroupCommit._wait``). A commit wakes the threads it settled and the next
        leader, not every waiting thread; a thread that never waits makes none."""
        self.result: Any = None
        # Until a commit settles it: a ticket whose transaction never completed reports so.
        self.error: BaseException | None = StoreUnavailable(
            "the write's transaction did not complete: nothing of it was stored"
        )
        self.done = False

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Runs writes given to ``run`` in shared transactions.

    Args:
        begin: a write transaction as a context manager yielding a DB-API cursor, committed
            when the block ends without error, rolled back otherwise, driver errors raised as
            the store's (``SqlBase._raw_write``).
    """

    def __init__(self, begin: Callable[[], AbstractContextManager[Any]]) -> None:
        self._begin = begin
        self._lock = threading.Lock()
        self._waiting: list[_Ticket[Any]] = []
        self._leading = False
        self.transactions = 0
        """Transactions committed or tried (for tests and measurements)."""

    def run(self, job: Job[T]) -> T:
        """Run ``job`` in a transaction, perhaps shared; return its result once committed."""
        ticket: _Ticket[T] = _Ticket(job)
        with self._lock:
            self._waiting.append(ticket)
        while True:
            with self._lock:
                while self._leading and not ticket.done:
                    self._wait(ticket)
                if ticket.done:
                    return ticket.outcome()
                self._leading = True
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
            try:
                self._commit(batch)
            finally:
                self._settled(batch)

    def _wait(self, ticket: _Ticket[Any]) -> None:
        """Wait, with ``_lock`` held (and held again on return), until ``_wake(ticket)``."""
        wake = threading.Lock()
        wake.acquire()
        ticket.wake = wake
        self._lock.release()
        try:
            wake.acquire()  # until ``_wake`` releases it (at once if it already did)
        finally:
            self._lock.acquire()

    @staticmethod
    def _wake(ticket: _Ticket[Any]) -> None:
        """With ``_lock`` held: wake ``ticket``'s thread if it waits."""
        if ticket.wake is not None:
            ticket.wake.release()
            ticket.wake = None

    def _settled(self, batch: list[_Ticket[Any]]) -> None:
        """Wake the threads of ``batch`` (their outcomes are set) and hand the lead to the
        oldest thread still waiting: every waiting thread waits for one of the two."""
        with self._lock:
            for each in batch:
                each.done = True
                self._wake(each)
            self._leading = False
            if self._waiting:
                self._wake(self._waiting[0])

    def _commit(self, batch: list[_Ticket[Any]]) -> None:
        """Settle every ticket of ``batch``: its result once committed, else its error."""
        if len(batch) > 1:
            try:
                self._together(batch)
                return
            except _OneFailed:  # rolled back: each write again, alone
                for ticket in batch:
                    self._commit([ticket])
                return
        ticket = batch[0]
        self.transactions += 1
        try:
            with self._begin() as cursor:
                result = ticket.job(cursor)
        except BaseException as error:
            ticket.error = error
            if not isinstance(error, Exception):
                raise
            return
        ticket.result, ticket.error = result, None  # committed

    def _together(self, batch: list[_Ticket[Any]]) -> None:
        """Every write of ``batch`` in one transaction; ``_OneFailed`` (the transaction rolled
        back) when one of them raised."""
        self.transactions += 1
        results = []
        try:
            with self._begin() as cursor:
                for ticket in batch:
                    try:
                        results.append(ticket.job(cursor))
                    except Exception as error:
                        raise _OneFailed from error
        except _OneFailed:
            raise
        except BaseException as error:  # the transaction failed: none of it is stored
            for ticket in batch:
                ticket.error = _own_copy(error)
            if not isinstance(error, Exception):
                raise
            return
        for ticket, result in zip(batch, results, strict=True):  # committed
            ticket.result, ticket.error = result, None


class _OneFailed(Exception):
    """A write of a shared transaction raised: the transaction is rolled back."""


def _own_copy(error: BaseException) -> BaseException:
    """A copy of ``error`` for one waiting thread (an exception raised in several threads at
    once would share one traceback)."""
    if isinstance(error, DatabaseError):
        copied: BaseException = type(error)(str(error), error.driver_error)
    else:
        try:
            copied = copy.copy(error)
        except Exception:
            return error
    copied.__cause__ = error
    return copied
