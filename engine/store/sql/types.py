"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import zstandard
from sqlalchemy import BigInteger, DateTime, Dialect, Integer, LargeBinary, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from engine.jsonvalues import dump_compact, load_trusted, plain_text_problem
from engine.store.errors import UnstorableText

# SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime``.

    PostgreSQL stores ``timestamptz``; SQLite stores the UTC wall time as fixed-width text
    (``YYYY-MM-DD HH:MM:SS.ffffff``), which sorts and compares in time order. Either way the
    value read back is aware UTC, so both backends give the same answers. Naive datetimes are
    refused: guessing their zone is how history ends up an hour off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class PlainText(TypeDecorator[str]):
    """A name, an email or a key: text a person reads, never JSON.

    Refuses (``UnstorableText`` naming ``field``) text with the NUL character or a lone
    surrogate, on both backends and in lookups too, so a value no row can hold never reaches
    the driver (where PostgreSQL's refusal was a 500 showing the SQL).
    """

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = Text
    cache_ok = True

    def __init__(self, length: int | None = None, *, field: str) -> None:
        super().__init__()
        if length is not None:  # the column is VARCHAR(length), as its migration made it
            self.impl = String(length)
        self.field = field

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None:
            problem = plain_text_problem(value)
            if problem is not None:
                raise UnstorableText(self.field, problem)
        return value


class JSONText(TypeDecorator[Any]):
    """Any JSON value, stored as compact text.

    Text rather than ``json``/``jsonb`` so both backends keep exactly the same value (key order,
    number spelling) and the store needs no dialect-specific JSON operators. Python ``None``
    is SQL ``NULL``.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dump_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else load_trusted(value)


class CompressedJSON(TypeDecorator[Any]):
    """A JSON value that may be large (an execution record), stored as bytes: its compact UTF-8
    JSON, compressed with Zstandard from ``COMPRESS_FROM`` bytes on. A record of a run over
    10,000 items (4.5 MB of JSON, the same items seen by six modules) takes about 340 KB,
    compressed in ~5 ms; reading decompresses it (~3 ms).

    Reading also takes the rows written before the column held bytes: JSON text (SQLite keeps
    a column's old values as they were written).
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        encoded = dump_compact(value)
        if len(encoded) < COMPRESS_FROM:
            return encoded
        # A compressor per value: they are not thread-safe, and one costs microseconds.
        return zstandard.ZstdCompressor(level=1).compress(encoded)

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, memoryview):
            value = value.tobytes()
        if isinstance(value, bytes) and value.startswith(_ZSTD_MAGIC):
            value = zstandard.ZstdDecompressor().decompress(value)
        return load_trusted(value)


COMPRESS_FROM = 4096
"""Bytes of JSON from which a ``CompressedJSON`` value is stored compressed: below, Zstandard's
frame and the work are not worth it."""

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # JSON text never starts with "(": a frame is never mistaken


def dump_json(value: Any) -> str:
    """Compact JSON text, as stored (its UTF-8 length is a value's stored size).

    It never fails on what the strings hold: NUL is written as ``\\u0000`` (JSON escapes it),
    a lone surrogate as its ``\\udXXX`` escape, so both databases store it and it reads back
    unchanged (``engine.jsonvalues.dump_compact``).
    """
    return dump_compact(value).decode("utf-8")


def json_size(value: Any) -> int:
    """Bytes ``value`` takes as stored JSON."""
    return len(dump_json(value).encode("utf-8"))
