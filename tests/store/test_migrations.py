"""Migrations: empty → head, idempotent, concurrent-safe, and equal to ``schema.py``."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.store import (
    SchemaOutOfDate,
    SqlStore,
    check_schema,
    current_revision,
    head_revision,
    open_store,
    upgrade_database,
)
from engine.store.migrate import alembic_config
from engine.store.sql.engine import create_store_engine, normalise_url
from engine.store.sql.schema import metadata
from tests.store.conftest import BACKENDS, connect_postgres, postgres_url_with_schema


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """A database with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'dir' / 'fresh.db'}"
        return
    admin = connect_postgres()
    schema = f"sb_mig_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield postgres_url_with_schema(schema)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def schema_differences(url):
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def table_names(url):
    engine = create_store_engine(url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_empty_to_head_matches_schema(empty_url):
    upgrade_database(empty_url)
    assert schema_differences(empty_url) == []
    assert {table.name for table in metadata.sorted_tables} <= table_names(empty_url)


def test_upgrade_is_idempotent(empty_url):
    upgrade_database(empty_url)
    upgrade_database(empty_url)
    engine = create_store_engine(empty_url)
    try:
        assert current_revision(engine) == head_revision()
        check_schema(engine)
    finally:
        engine.dispose()


def test_concurrent_upgrades_are_safe(empty_url):
    errors = []

    def upgrade():
        try:
            upgrade_database(empty_url)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert schema_differences(empty_url) == []


def test_downgrade_to_base_and_back(empty_url):
    upgrade_database(empty_url)
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert current_revision(engine) is None
    finally:
        engine.dispose()
    assert table_names(empty_url) <= {"alembic_version"}
    upgrade_database(empty_url)
    assert schema_differences(empty_url) == []


def test_an_unmigrated_database_is_refused(empty_url):
    with pytest.raises(SchemaOutOfDate, match="switchboard db upgrade"):
        open_store(empty_url, upgrade=False)
    with open_store(empty_url) as store:
        assert store.list_scenarios() == []
    with open_store(empty_url, upgrade=False) as store:
        assert isinstance(store, SqlStore)


def test_urls_are_normalised_and_memory_is_refused():
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ValueError, match="file"):
        normalise_url("sqlite://")
    with pytest.raises(ValueError, match="unsupported"):
        normalise_url("mysql://u@h/db")
