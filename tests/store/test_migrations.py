"""Migrations: empty → head, first → head with data in place, idempotent, concurrent-safe,
and equal to ``schema.py``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.secrets import SecretBox, generate_key
from engine.store import (
    SchemaOutOfDate,
    SqlStore,
    check_schema,
    current_revision,
    head_revision,
    open_store,
    upgrade_database,
)
from engine.store.migrate import alembic_config, known_revisions, migrate_engine_to
from engine.store.sql.engine import create_store_engine, normalise_url
from engine.store.sql.schema import metadata
from tests.store.conftest import BACKENDS, private_postgres_schema


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """A database with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'dir' / 'fresh.db'}"
        return
    with private_postgres_schema("sb_mig") as url:
        yield url


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


def test_first_to_newest_schema_keeps_the_data_in_place(empty_url):
    """Rows written under the first schema (and the accounts under the schema that brought
    them) read back through the newest store, every migration applied one at a time on top
    of them."""
    box = SecretBox(generate_key())
    engine = create_store_engine(empty_url)
    try:
        migrate_engine_to(engine, known_revisions()[0])
        with engine.begin() as connection:
            _write_first_schema_rows(connection, box)
        for revision in known_revisions()[1:]:
            migrate_engine_to(engine, revision)
            assert current_revision(engine) == revision
            if revision == ACCOUNTS_REVISION:
                with engine.begin() as connection:
                    _write_account_rows(connection)
        upgraded_at = datetime.now(UTC)
    finally:
        engine.dispose()
    assert schema_differences(empty_url) == []
    with open_store(empty_url, secret_box=box, upgrade=False) as store:
        _check_first_schema_rows(store)
        _check_account_rows(store, upgraded_at)


FIRST_BLUEPRINT = '{"name": "Orders", "flow": []}'
ACCOUNTS_REVISION = "0002"
OLD_TOKEN_HASH = "f" * 64


def _write_first_schema_rows(connection, box):
    from engine.store.sql import schema

    at = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    stamps = {"created_at": at, "updated_at": at}
    rows = [
        (
            schema.scenarios,
            {
                "id": 7,
                "name": "Orders",
                "current_version": 2,
                "active": True,
                "scheduling": {"type": "indefinitely", "interval": 900},
                "consecutive_errors": 1,
                **stamps,
            },
        ),
        (
            schema.scenario_versions,
            {
                "scenario_id": 7,
                "version": 1,
                "blueprint": FIRST_BLUEPRINT,
                "size_bytes": 31,
                "created_at": at,
            },
        ),
        (
            schema.scenario_versions,
            {
                "scenario_id": 7,
                "version": 2,
                "blueprint": FIRST_BLUEPRINT,
                "size_bytes": 31,
                "created_at": at,
            },
        ),
        (
            schema.connections,
            {
                "id": 3,
                "app": "xero",
                "kind": "oauth2",
                "name": "Xero",
                "data": {"tenant": "t"},
                "revision": 1,
                "secrets_encrypted": box.encrypt_json({"token": "s3cret"}),
                **stamps,
            },
        ),
        (
            schema.webhooks,
            {
                "id": 5,
                "token": "tok" * 10,
                "name": "Hook",
                "scenario_id": 7,
                "settings": {},
                "enabled": True,
                **stamps,
            },
        ),
        (
            schema.webhook_queue,
            {
                "webhook_id": 5,
                "received_at": at,
                "request": {"body": "{}"},
                "size_bytes": 2,
                "status": "queued",
                "attempts": 0,
            },
        ),
        (
            schema.executions,
            {
                "id": "e" * 36,
                "scenario_id": 7,
                "scenario_version": 2,
                "trigger_kind": "schedule",
                "status": "incomplete",
                "created_at": at,
                "operations": 3,
                "data_size": 10,
                "reaped_count": 0,
            },
        ),
        (
            schema.executions,
            {
                "id": "s" * 36,  # queued before "e…" but started after it was queued
                "scenario_id": 7,
                "scenario_version": 2,
                "trigger_kind": "webhook",
                "status": "success",
                "created_at": at - timedelta(hours=1),
                "started_at": at + timedelta(minutes=1),
                "finished_at": at + timedelta(minutes=2),
                "operations": 1,
                "data_size": 1,
                "reaped_count": 0,
            },
        ),
        # The first schema kept records as JSON text (0007 made them bytes).
        (FIRST_SCHEMA_RECORDS, {"execution_id": "e" * 36, "record": '{"modules":{}}'}),
        (
            schema.incomplete_executions,
            {
                "id": 2,
                "scenario_id": 7,
                "execution_id": "e" * 36,
                "blueprint_version": 2,
                "state": {"at": 1},
                "error": {"message": "boom"},
                "attempts": 0,
                "max_attempts": 3,
                "status": "pending",
                **stamps,
            },
        ),
        (schema.data_stores, {"id": 4, "name": "Customers", "max_size_bytes": 1000, **stamps}),
        (
            schema.data_store_records,
            {"store_id": 4, "key": "k", "data": {"a": 1}, "size_bytes": 7, **stamps},
        ),
        (
            schema.trigger_cursors,
            {"scenario_id": 7, "module_id": 1, "cursor": {"since": "x"}, "updated_at": at},
        ),
        (schema.organization_variables, {"name": "v", "value": [1, 2], "updated_at": at}),
    ]
    for table, values in rows:
        connection.execute(table.insert(), values)


FIRST_SCHEMA_RECORDS = sqlalchemy.table(
    "execution_records",
    sqlalchemy.column("execution_id", sqlalchemy.String(36)),
    sqlalchemy.column("record", sqlalchemy.Text()),
)


def _check_first_schema_rows(store):
    scenario = store.get_scenario(7)
    assert (scenario.name, scenario.current_version, scenario.active) == ("Orders", 2, True)
    assert store.get_scenario_version(7, 1).blueprint == FIRST_BLUEPRINT
    assert store.get_connection(3).secrets == {"token": "s3cret"}
    hook = store.find_webhook_by_token("tok" * 10)
    assert hook.id == 5 and store.count_queue(5) == 1
    assert store.get_execution("e" * 36).status.value == "incomplete"
    assert store.get_execution("e" * 36, with_record=True).record == {"modules": {}}
    # 0008: the history lists them by start (the one not started by when it was queued).
    assert [e.id for e in store.list_executions(scenario_id=7).items] == ["s" * 36, "e" * 36]
    assert store.get_incomplete(2).state == {"at": 1}
    assert store.get_record(4, "k") == {"a": 1}
    assert store.get_cursor(7, 1) == {"since": "x"}
    assert store.list_variables() == {"v": [1, 2]}
    # The accounts of migration 0002 work on top of it (after the one written under 0002).
    assert store.create_user("a@example.com", "A", "owner", "scrypt$x").id == 2
    assert store.save_scenario(7, FIRST_BLUEPRINT) == 3


def _write_account_rows(connection):
    """A user with an API token and a session as migration 0002 made them (no expiry)."""
    at = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    connection.execute(
        sqlalchemy.text(
            "INSERT INTO users (email, name, role, password_hash, created_at, updated_at) "
            "VALUES ('old@example.com', 'Old', 'editor', 'scrypt$x', :at, :at)"
        ),
        {"at": at},
    )
    connection.execute(
        sqlalchemy.text(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
            "SELECT id, 'cron', :hash, :at FROM users WHERE email = 'old@example.com'"
        ),
        {"hash": OLD_TOKEN_HASH, "at": at},
    )


def _check_account_rows(store, upgraded_at):
    user = store.find_user_by_email("old@example.com")
    # A token made before tokens expired keeps working for 90 days after the upgrade, then
    # stops: none is left that never expires.
    token = store.find_api_token(OLD_TOKEN_HASH)
    assert (token.name, token.user_id) == ("cron", user.id)
    lifetime = token.expires_at - upgraded_at
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    assert store.find_api_token(OLD_TOKEN_HASH, now=token.expires_at) is None
