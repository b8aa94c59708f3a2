"""Statements of the webhook hot path run on the DB-API cursor, compiled once per dialect.

A webhook run writes the same few statements every time (store the request with its
execution; finish the execution with its record). Through SQLAlchemy Core each costs its
execution machinery (execution context, parameter processing, result wrapping, events) on top
of the driver's work, and each transaction a ``Connection`` with its begin and commit events:
about as much CPU as the rest of the run. ``Prepared`` compiles a Core statement once for the
store's dialect and runs it on a pooled DB-API connection's cursor with the same column types
converting the values (``JSONText``, ``UTCDateTime`` …), so what reaches the database is
exactly what Core would send. ``SqlBase._raw_write`` gives the cursor, in the write turn and
transaction rules every other write keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement

_GIVEN = object()
"""A parameter the caller gives (not a literal of the statement)."""


def _converted(value: Any, convert: Callable[[Any], Any] | None) -> Any:
    return value if convert is None else convert(value)


class Prepared:
    """A Core statement compiled once; ``run`` executes it on a DB-API cursor.

    Args:
        statement: the statement, with every value a named ``bindparam`` (or, for an INSERT,
            the columns named by ``columns``).
        dialect: the store's dialect.
        columns: an INSERT's columns, in any order (``compile(column_keys=…)``).
    """

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        columns: Sequence[str] | None = None,
    ) -> None:
        compiled: Any = statement.compile(
            dialect=dialect, column_keys=list(columns) if columns is not None else None
        )
        processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors
        binds = compiled.binds
        escaped = compiled.escaped_bind_names or {}
        self.sql = compiled.string
        self._named = compiled.positiontup is None  # PostgreSQL's ``%(name)s``
        named = dict.fromkeys(compiled.bind_names.values())
        names = list(named) if self._named else list(compiled.positiontup or ())
        # (the driver's name, the caller's name, its column type's conversion, the value a
        # literal of the statement binds, converted once here)
        self._order = [
            (
                escaped.get(name, name),
                name,
                processors.get(name),
                _GIVEN
                if binds[name].required
                else _converted(binds[name].effective_value, processors.get(name)),
            )
            for name in names
        ]
        self._keys = [entry[0] for entry in self._order]
        # What the statement returns: each column's name and its type's conversion of what
        # the driver reads (as Core's result would convert it).
        self._returned = [
            (entry[0], entry[3]._cached_result_processor(dialect, None))
            for entry in compiled._result_columns
        ]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: each value converted by its column type (one loop, no
        call per value: a run's statements bind ~30 values)."""
        converted: list[Any] = []
        for _, name, convert, fixed in self._order:
            if fixed is not _GIVEN:
                converted.append(fixed)
            elif convert is None:
                converted.append(values[name])
            else:
                converted.append(convert(values[name]))
        if self._named:
            return dict(zip(self._keys, converted, strict=True))
        return tuple(converted)

    def run(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        """Execute on ``cursor``; returns the cursor (``rowcount``, ``fetchone``)."""
        cursor.execute(self.sql, self.parameters(values))
        return cursor

    def fetch(self, cursor: Any) -> dict[str, Any] | None:
        """The next row of what ``run`` returned, by column name, each value converted by
        its column type; ``None`` when there is none."""
        row = cursor.fetchone()
        if row is None:
            return None
        return {
            name: _converted(value, convert)
            for (name, convert), value in zip(self._returned, row, strict=True)
        }


class PreparedSet:
    """Statements prepared on first use for one store's dialect, by name."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._made: dict[str, Prepared] = {}

    def get(
        self,
        name: str,
        make: Callable[[], ClauseElement],
        columns: Sequence[str] | None = None,
    ) -> Prepared:
        prepared = self._made.get(name)
        if prepared is None:
            prepared = self._made[name] = Prepared(make(), self._dialect, columns)
        return prepared
