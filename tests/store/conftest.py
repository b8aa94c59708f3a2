"""One contract suite, every backend: the ``store`` fixture is parametrised over SQLite (a temp
file) and the real PostgreSQL (a private schema per test session).

PostgreSQL is never skipped: if it does not answer, its tests fail and say why. Point them at
another server with ``SWITCHBOARD_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from engine.secrets import SecretBox, generate_key
from engine.store import SqlStore, upgrade_database
from engine.store.sql.schema import metadata

POSTGRES_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def postgres_url_with_schema(schema: str) -> str:
    """``POSTGRES_URL`` whose connections use ``schema`` first (and only)."""
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def connect_postgres() -> sqlalchemy.Engine:
    engine = sqlalchemy.create_engine(
        POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sqlalchemy.exc.OperationalError as error:
        engine.dispose()
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} does not answer ({error.orig}); the store's "
            "PostgreSQL contract tests need it (set SWITCHBOARD_TEST_POSTGRES_URL to use another)",
            pytrace=False,
        )
    return engine


@contextmanager
def private_postgres_schema(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema named ``<prefix>_<random>``, dropped after."""
    admin = connect_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield postgres_url_with_schema(schema)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema():
    """A fresh schema for this test session, dropped at the end (parallel runs never clash)."""
    admin = connect_postgres()
    schema = f"sb_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_migrated(postgres_schema):
    url = postgres_url_with_schema(postgres_schema)
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("store") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


def empty_postgres(url: str) -> None:
    """Delete every row and restart the id sequences (DELETE is much faster than TRUNCATE on
    a handful of tiny tables)."""
    statements = [f'DELETE FROM "{table.name}"' for table in reversed(metadata.sorted_tables)]
    statements += [
        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"
        for table in metadata.sorted_tables
        if "id" in table.c
        and table.c.id.autoincrement is not False
        and isinstance(table.c.id.type, sqlalchemy.Integer | sqlalchemy.BigInteger)
    ]
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(";".join(statements))
    finally:
        engine.dispose()


@pytest.fixture
def database_url(request, tmp_path: Path) -> str:
    """The URL of an empty, migrated database of the backend named by ``request.param``."""
    if request.param == "sqlite":
        path = tmp_path / "switchboard.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_migrated")
    empty_postgres(url)
    return url


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def secret_box():
    return SecretBox(generate_key())


@pytest.fixture
def store(database_url, clock, secret_box):
    with SqlStore(database_url, secret_box=secret_box, clock=clock) as opened:
        yield opened


def pytest_generate_tests(metafunc):
    # Every test that uses the store (directly or through database_url) runs on each backend.
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
def scenario(store):
    return store.create_scenario("Orders", '{"name": "Orders", "flow": []}')
