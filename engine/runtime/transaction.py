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
    """The uncommitted writes of the current cycle (``pending``: empty in the usual case, read
    by the runner before it calls ``commit`` for each bundle)."""

    auto_commit: bool = True
    pending: list[_Entry] = field(default_factory=list)
    _operation_start: int = 0

    def on_rollback(self, undo: Action, *, on_commit: Action | None = None) -> None:
        """Register how to undo a write just made (and, optionally, how to make it final)."""
        self.pending.append(_Entry(undo, on_commit))

    def begin_operation(self) -> None:
        self._operation_start = len(self.pending)

    def end_operation(self) -> None:
        """The operation succeeded: with auto-commit, its writes become final now."""
        if self.auto_commit:
            self.commit()

    def commit(self) -> None:
        if not self.pending:  # the usual case, once per bundle with auto-commit
            return
        pending, self.pending = self.pending, []
        for entry in pending:
            if entry.commit is not None:
                entry.commit()

    def rollback(self) -> int:
        """Undo every uncommitted write, newest first; returns how many were undone."""
        pending, self.pending = self.pending, []
        for entry in reversed(pending):
            entry.undo()
        return len(pending)

    def rollback_operation(self) -> None:
        """Undo the writes of the failing operation only (what auto-commit leaves open)."""
        failed = self.pending[self._operation_start :]
        del self.pending[self._operation_start :]
        for entry in reversed(failed):
            entry.undo()
