"""Backups: everything an installation holds, in one versioned, checksummed JSON document.

``switchboard backup`` and ``switchboard restore`` are thin over this module::

    document = backup_database(url, with_history=False)
    Path("backup.json.gz").write_bytes(dump_backup(document, compress=True))
    restore_database(other_url, load_backup(data), secret_box=box)

The document::

    {"format": "switchboard-backup", "format_version": 1, "created_at": "…",
     "switchboard_version": "0.1.0", "schema_revision": "0003", "with_history": false,
     "tables": {"scenarios": {"columns": [...], "rows": [[...]], "sha256": "…"}, …},
     "checksum": "sha256:…"}

Every table of the store is in it (``engine.store.sql.dump``) with its ids, so webhook URLs,
connection references in blueprints and API tokens keep working after a restore. Connection
secrets stay the Fernet tokens they are in the database — never decrypted here — so a restore
needs the same ``SWITCHBOARD_SECRET_KEY`` and checks that it decrypts them before writing.
Each table carries the SHA-256 of its rows and ``checksum`` covers the rest, so a damaged or
edited file is refused with the name of what does not match.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from typing import Any

from engine.jsonvalues import dumps
from engine.secrets import SECRET_KEY_VARIABLE, SecretBox, SecretDecryptionError
from engine.store.errors import (
    BackupError,
    BackupKeyMismatch,
    DatabaseNotEmpty,
    InvalidBackup,
    StoreError,
)
from engine.store.migrate import (
    check_schema,
    current_revision,
    head_revision,
    known_revisions,
    migrate_engine_to,
    upgrade_engine,
)
from engine.store.sql.dump import delete_everything, read_tables, row_counts, write_tables
from engine.store.sql.engine import WRITE_OPTION, create_store_engine
from engine.store.sql.errors import map_driver_errors
from engine.store.sql.schema import metadata

FORMAT = "switchboard-backup"
FORMAT_VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds: its schema revision, when it was made, rows per table."""

    schema_revision: str
    created_at: str
    with_history: bool
    rows: dict[str, int]

    def describe(self) -> str:
        """``"2 scenarios, 5 scenario_versions, 1 connections …"`` (tables with rows only)."""
        held = ", ".join(f"{count} {table}" for table, count in self.rows.items() if count)
        return held or "nothing"


# -- making a backup ----------------------------------------------------------------------------


@map_driver_errors()
def backup_database(
    url: str, *, with_history: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """The backup document of the database at ``url`` (read in one consistent snapshot; the
    service may keep running). Without ``with_history`` finished executions, their records
    and handled webhook requests are left out; runs still to finish, the executions of
    incomplete executions and waiting webhook requests are always in.

    Raises:
        SchemaOutOfDate: the database is not at the newest schema (``switchboard db upgrade``).
    """
    engine = create_store_engine(url)
    try:
        check_schema(engine)
        tables = read_tables(engine, with_history=with_history)
    finally:
        engine.dispose()
    for dumped in tables.values():
        dumped["sha256"] = _table_digest(dumped)
    document: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "switchboard_version": _version(),
        "schema_revision": head_revision(),
        "with_history": with_history,
        "tables": tables,
    }
    document["checksum"] = _document_digest(document)
    return document


def dump_backup(document: Mapping[str, Any], *, compress: bool = False) -> bytes:
    """The document as UTF-8 JSON, one row a line, gzip'd when ``compress``."""
    data = _pretty(document).encode("utf-8")
    return gzip.compress(data, mtime=0) if compress else data


def _pretty(document: Mapping[str, Any]) -> str:
    # One row per line: a backup stays readable with less/grep and diffs well.
    header = {k: v for k, v in document.items() if k not in ("tables", "checksum")}
    lines = ["{"]
    lines += [f"{json.dumps(k)}: {dumps(v)}," for k, v in header.items()]
    lines.append('"tables": {')
    names = list(document["tables"])
    for position, name in enumerate(names):
        dumped = document["tables"][name]
        lines.append(f"{json.dumps(name)}: {{")
        lines.append(f'"columns": {json.dumps(dumped["columns"])},')
        lines.append(f'"sha256": {json.dumps(dumped["sha256"])},')
        rows = [dumps(row) for row in dumped["rows"]]
        lines.append('"rows": [' + (("\n" + ",\n".join(rows) + "\n") if rows else "") + "]")
        lines.append("}," if position < len(names) - 1 else "}")
    lines.append("},")
    lines.append(f'"checksum": {json.dumps(document["checksum"])}')
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- reading and checking one -------------------------------------------------------------------


def load_backup(data: bytes) -> dict[str, Any]:
    """The backup document in ``data`` (JSON, or gzip'd JSON), fully checked.

    Raises:
        InvalidBackup: naming what is wrong — an empty or damaged gzip stream, text that is not
            JSON (with line and column), another format, a format or schema newer than this
            Switchboard, a malformed table, or a table or header whose checksum does not match.
    """
    document = _parse(_uncompress(data))
    _check_header(document)
    for name, dumped in document["tables"].items():
        _check_table(name, dumped)
    if _document_digest(document) != document["checksum"]:
        raise InvalidBackup(
            "the backup's header does not match its checksum: the file was changed or "
            "damaged after it was written"
        )
    return document


def summarize(document: Mapping[str, Any]) -> BackupSummary:
    return BackupSummary(
        schema_revision=document["schema_revision"],
        created_at=document["created_at"],
        with_history=bool(document.get("with_history")),
        rows={name: len(dumped["rows"]) for name, dumped in document["tables"].items()},
    )


def _uncompress(data: bytes) -> bytes:
    if not data.strip():
        raise InvalidBackup("the file is empty")
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as error:
        raise InvalidBackup(f"the gzip stream is damaged or cut short ({error})") from None


def _parse(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidBackup(f"not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidBackup(
            f"not valid JSON at line {error.lineno} column {error.colno} ({error.msg}): "
            "the file is damaged or cut short"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidBackup(f'not a Switchboard backup (no "format": "{FORMAT}")')
    return document


def _check_header(document: Mapping[str, Any]) -> None:
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidBackup('"format_version" is missing or not a number')
    if version > FORMAT_VERSION:
        raise InvalidBackup(
            f"backup format {version} is newer than this Switchboard reads ({FORMAT_VERSION}): "
            "restore it with the Switchboard version that made it, or a newer one"
        )
    for field, kind in (
        ("created_at", str),
        ("schema_revision", str),
        ("tables", dict),
        ("checksum", str),
    ):
        if not isinstance(document.get(field), kind):
            raise InvalidBackup(f'"{field}" is missing or not a {kind.__name__}')
    revisions = known_revisions()
    if document["schema_revision"] not in revisions:
        raise InvalidBackup(
            f"the backup's schema revision {document['schema_revision']!r} is unknown here "
            f"(this Switchboard knows up to {revisions[-1]!r}): it was made by a newer "
            "Switchboard; upgrade this one first"
        )


def _check_table(name: str, dumped: Any) -> None:
    where = f"table {name!r}"
    if name not in metadata.tables:
        raise InvalidBackup(f"{where} is not one of Switchboard's tables")
    if not isinstance(dumped, dict) or not isinstance(dumped.get("rows"), list):
        raise InvalidBackup(f"{where} has no list of rows")
    columns = dumped.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InvalidBackup(f"{where} has no list of columns")
    unknown = [c for c in columns if c not in metadata.tables[name].c]
    if unknown:
        raise InvalidBackup(f"{where}: column {unknown[0]!r} is not part of Switchboard's schema")
    if dumped.get("sha256") != _table_digest(dumped):
        raise InvalidBackup(
            f"{where}: its rows do not match their checksum (the file was changed or damaged "
            "after it was written)"
        )
    for position, row in enumerate(dumped["rows"]):
        if not isinstance(row, list) or len(row) != len(columns):
            raise InvalidBackup(f"{where}: row {position + 1} does not have {len(columns)} values")


def check_secret_key(document: Mapping[str, Any], secret_box: SecretBox | None) -> None:
    """Make sure ``secret_box`` decrypts every connection's secrets in the backup (without
    keeping what it decrypts), before anything is written.

    Raises:
        BackupKeyMismatch: naming the first connection that does not decrypt, or saying no key
            is configured while the backup holds connections.
    """
    dumped = document["tables"].get("connections", {"columns": [], "rows": []})
    if not dumped["rows"]:
        return
    position = {name: index for index, name in enumerate(dumped["columns"])}
    if secret_box is None:
        raise BackupKeyMismatch(
            f"the backup holds {len(dumped['rows'])} connection(s) with encrypted secrets and "
            f"no secret key is configured: set {SECRET_KEY_VARIABLE} to the key of the "
            "installation that made the backup; nothing was restored"
        )
    for row in dumped["rows"]:
        try:
            secret_box.decrypt_json(row[position["secrets_encrypted"]])
        except SecretDecryptionError:
            raise BackupKeyMismatch(
                f"the secrets of connection {row[position['id']]} ({row[position['name']]!r}) "
                f"cannot be decrypted with the configured {SECRET_KEY_VARIABLE}: restoring "
                "needs the key of the installation that made the backup (set "
                f"{SECRET_KEY_VARIABLE}, or put it in var/secret.key); nothing was restored"
            ) from None


# -- restoring one ------------------------------------------------------------------------------


@map_driver_errors()
def restore_database(
    url: str,
    document: Mapping[str, Any],
    *,
    secret_box: SecretBox | None,
    force: bool = False,
) -> BackupSummary:
    """Write a checked backup (``load_backup``) into the database at ``url``, ids and all, and
    bring it to the newest schema.

    The rows are loaded at the schema revision the backup was made under (a fresh database is
    migrated to it, an emptied one moved to it), in one transaction, then the schema is
    upgraded: a backup of an older Switchboard restores into a newer one.

    Args:
        force: delete everything the database holds first, instead of refusing.

    Raises:
        BackupKeyMismatch: ``secret_box`` cannot decrypt the backup's connection secrets.
        DatabaseNotEmpty: the database holds rows and ``force`` is false.
        StoreError: the database is at a schema revision this Switchboard does not know.
    """
    check_secret_key(document, secret_box)
    engine = create_store_engine(url)
    try:
        held = row_counts(engine)
        if held and not force:
            raise DatabaseNotEmpty(held)
        current = current_revision(engine)
        if current is not None and current not in known_revisions():
            raise StoreError(
                f"the database is at schema revision {current!r}, which this Switchboard does "
                "not know: restore with the Switchboard that made it"
            )
        if held and current != document["schema_revision"]:
            _wipe(engine)  # the rows must go before the schema moves under them
            held = {}
        migrate_engine_to(engine, document["schema_revision"])
        write_tables(engine, document["tables"], wipe=bool(held))
        upgrade_engine(engine)
    finally:
        engine.dispose()
    return summarize(document)


def _wipe(engine: Any) -> None:
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            delete_everything(connection)


# -- digests ------------------------------------------------------------------------------------


def _canonical(value: Any) -> bytes:
    # Lone surrogates (kept by the store) as their escapes: the text always encodes.
    return dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _table_digest(dumped: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        _canonical({"columns": dumped.get("columns"), "rows": dumped.get("rows")})
    ).hexdigest()


def _document_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 over the header and each table's own digest (the rows are covered by those)."""
    manifest = {k: v for k, v in document.items() if k not in ("tables", "checksum")}
    manifest["tables"] = {name: dumped.get("sha256") for name, dumped in document["tables"].items()}
    return "sha256:" + hashlib.sha256(_canonical(manifest)).hexdigest()


def _version() -> str:
    try:
        return package_metadata.version("switchboard")
    except package_metadata.PackageNotFoundError:
        return "unknown"


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "BackupError",
    "BackupKeyMismatch",
    "BackupSummary",
    "DatabaseNotEmpty",
    "InvalidBackup",
    "backup_database",
    "check_secret_key",
    "dump_backup",
    "load_backup",
    "restore_database",
    "summarize",
]
