"""Commit and rollback of what modules wrote during a cycle.

Modules whose writes can be undone (data stores, in Make's words "ACID" modules) register an
undo action for each write, and optionally a commit action. With auto-commit on, each
operation's actions are committed right after it succeeds; otherwise they wait for the end of
the cycle. A rollback undoes whatever is not yet committed, newest first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Action = Callable[[], None]


@dataclass
class _Entry:
    undo: Action
    commit: Action | None


@dataclass
class Transaction:
    """The uncommitted writes of the current cycle."""

    auto_commit: bool = True
    _pending: list[_Entry] = field(default_factory=list)
    _operation_start: int = 0

    def on_rollback(self, undo: Action, *, on_commit: Action | None = None) -> None:
        """Register how to undo a write just made (and, optionally, how to make it final)."""
        self._pending.append(_Entry(undo, on_commit))

    def begin_operation(self) -> None:
        self._operation_start = len(self._pending)

    def end_operation(self) -> None:
        """The operation succeeded: with auto-commit, its writes become final now."""
        if self.auto_commit:
            self.commit()

    def commit(self) -> None:
        if not self._pending:  # the usual case, once per bundle with auto-commit
            return
        pending, self._pending = self._pending, []
        for entry in pending:
            if entry.commit is not None:
                entry.commit()

    def rollback(self) -> int:
        """Undo every uncommitted write, newest first; returns how many were undone."""
        pending, self._pending = self._pending, []
        for entry in reversed(pending):
            entry.undo()
        return len(pending)

    def rollback_operation(self) -> None:
        """Undo the writes of the failing operation only (what auto-commit leaves open)."""
        failed = self._pending[self._operation_start :]
        del self._pending[self._operation_start :]
        for entry in reversed(failed):
            entry.undo()
