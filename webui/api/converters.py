"""URL converters for ids, bounded by the database columns they name.

Werkzeug's ``int`` converter takes any number of digits, and an id past the column's range
reached the database driver: SQLite raised ``OverflowError`` beyond 2**63 - 1 and PostgreSQL
refuses anything beyond its ``integer`` (2**31 - 1) — a 500 for ``GET /api/scenarios/99…9``.
Bounded here, such an id matches no route: a 404 like any other id that does not exist. The
OpenAPI document declares the same bounds (``schema``).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

INT4_MAX = 2**31 - 1  # PostgreSQL ``integer``: the store's ids (BigId columns aside)
INT8_MAX = 2**63 - 1  # PostgreSQL ``bigint`` and SQLite ``INTEGER``


class IdConverter(IntegerConverter):
    """``<int:name>``: a non-negative id that fits an ``integer`` column."""

    maximum = INT4_MAX

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", self.maximum)
        super().__init__(map, *args, **kwargs)

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON Schema of the ids this converter matches."""
        return {"type": "integer", "minimum": 0, "maximum": cls.maximum}


class BigIdConverter(IdConverter):
    """``<bigid:name>``: a non-negative id of a ``BigId`` column (webhook queue items)."""

    maximum = INT8_MAX


CONVERTERS: dict[str, type[IdConverter]] = {"int": IdConverter, "bigid": BigIdConverter}
