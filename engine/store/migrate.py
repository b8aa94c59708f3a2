"""Schema migrations, run from code: ``upgrade_database(url)``.

``switchboard db upgrade`` and the service start call ``upgrade_database``; it is idempotent
and safe when two processes start at once (PostgreSQL: an advisory lock; SQLite: the write
lock), so every process may simply call it on start.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from engine.store.errors import SchemaOutOfDate
from engine.store.sql.engine import WRITE_OPTION, create_store_engine
from engine.store.sql.errors import map_driver_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant will do: it only has to be the same in every Switchboard process.
_ADVISORY_LOCK_ID = 0x5377_6974_6368


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` for the store's migrations (no ``alembic.ini`` involved)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the store has no migrations"
    return head


@map_driver_errors()
def upgrade_database(url: str | URL) -> None:
    """Bring the database at ``url`` to the newest schema; a database already there is left
    untouched. Creates the SQLite file (and its directory) when needed."""
    engine = create_store_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine) -> None:
    """``upgrade_database`` on an existing engine."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Held until commit: a second process waits, then finds nothing to do.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID}
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def known_revisions() -> list[str]:
    """Every migration's revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def migrate_engine_to(engine: Engine, revision: str) -> None:
    """Upgrade or downgrade the database to ``revision`` (a restore loads a backup's rows at
    the schema they were written under, then upgrades to the newest)."""
    current = current_revision(engine)
    if current == revision:
        return
    order = known_revisions()
    backwards = current is not None and order.index(revision) < order.index(current)
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if backwards else command.upgrade)(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@map_driver_errors()
def check_schema(engine: Engine) -> None:
    """Raise ``SchemaOutOfDate`` unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `switchboard db upgrade`"
        )


def make_revision(message: str) -> Any:
    """Autogenerate a migration for what ``schema.py`` adds beyond the current head."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.db'}"
        upgrade_database(url)
        return command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":  # python -m engine.store.migrate revision "message"
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m engine.store.migrate revision "what changed"')
    make_revision(sys.argv[2])
