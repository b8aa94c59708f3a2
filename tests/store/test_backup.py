"""Backup and restore: a SQLite installation full of data → one file → a fresh SQLite and a
fresh PostgreSQL, where everything is equal, its webhook URL still runs its scenario and its
connection secrets still decrypt; and every way a restore must refuse, with a clear message."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.secrets import SecretBox, generate_key
from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus, QueueItemStatus, TriggerKind, open_store
from engine.store.backup import (
    BackupKeyMismatch,
    DatabaseNotEmpty,
    InvalidBackup,
    _document_digest,
    _table_digest,
    backup_database,
    dump_backup,
    load_backup,
    restore_database,
)
from engine.store.migrate import current_revision, head_revision
from engine.store.sql.engine import create_store_engine
from engine.store.sql.schema import metadata
from switchboard import cli
from tests.service.blueprints import HOOK_WITH_RESPONSE, blueprint, set_variable
from tests.store.conftest import private_postgres_schema
from webui import create_app

SECRETS = {"password": "pa55-PLAIN-secret-1", "refresh_token": "rt-PLAIN-secret-2"}
ODD_TEXT = {"note": "a\x00b", "half": "\ud800", "emoji": "\U0001f600"}
POLLING = blueprint(set_variable(1, value="polled"), name="Every ten minutes")


def settings_for(var_dir, key, url=None) -> Settings:
    environ = {"SWITCHBOARD_VAR_DIR": str(var_dir), "SWITCHBOARD_SECRET_KEY": key}
    if url is not None:
        environ["SWITCHBOARD_DATABASE_URL"] = url
    return Settings.from_env(environ)


def service_for(settings: Settings) -> Service:
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    options = ServiceOptions(webhook_response_timeout=5, dispatch_grace_seconds=1)
    clock = lambda: datetime.now(UTC)  # noqa: E731 - the real clock, as served
    queue = InlineQueue(workers=1)
    service = Service(store, queue, settings, default_registry(), clock, options=options)
    queue.start()  # as `switchboard serve` does: webhook runs answer their callers
    return service


def close(service: Service) -> None:
    service.queue.close()
    service.close()
    service.store.close()


def call_webhook(service: Service, token: str, n: int):
    app = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service})
    return app.test_client().post(f"/hooks/{token}", json={"n": n})


def populate(service: Service) -> dict:
    """One of everything an installation holds; returns what the checks look for."""
    store = service.store
    hooked = service.import_scenario(HOOK_WITH_RESPONSE, active=True)
    service.save_scenario(hooked.scenario.id, HOOK_WITH_RESPONSE.replace("got ", "received "))
    token = hooked.webhooks[0].token
    assert call_webhook(service, token, 1).get_data(as_text=True) == "received 1"  # history
    polling = service.import_scenario(
        POLLING, scheduling={"type": "indefinitely", "interval": 600}
    ).scenario
    store.set_cursor(polling.id, 1, {"since": "2026-01-01T00:00:00Z", "ids": [1, 2]})
    store.set_variable("company", {"name": "Acme", "vat": 0.2})
    connection = store.create_connection(
        "onecrm", "basic", "CRM", data={"url": "https://crm.example"}, secrets=SECRETS
    )
    data_store = store.create_data_store(
        "Customers", structure={"spec": [{"name": "email", "type": "text"}]}, max_size_bytes=10**6
    )
    store.put_record(data_store.id, "c-1", {"email": "ann@example.com", "tags": ["a", "b"]})
    # Text a run may put into data: NUL and a lone surrogate travel unchanged (the backup's
    # JSON used to fail to encode the surrogate).
    store.put_record(data_store.id, "c-2", ODD_TEXT)
    user = store.create_user("owner@example.com", "Olga", "owner", "scrypt$salt$hash")
    store.create_api_token(user.id, "ci", "ab" * 32, datetime.now(UTC) + timedelta(days=90))
    store.create_session("cd" * 32, user.id, "csrf", datetime.now(UTC) + timedelta(days=1))
    failed = store.create_execution(polling.id, 1, TriggerKind.SCHEDULE)
    store.claim_execution(failed.id, worker_id="w1")
    store.finish_execution(
        failed.id, ExecutionStatus.INCOMPLETE, {"modules": {}}, operations=1, data_size=10
    )
    incomplete = store.create_incomplete(
        polling.id, 1, {"bundle": 1}, {"message": "boom"}, execution_id=failed.id, max_attempts=3
    )
    service.deactivate_scenario(hooked.scenario.id)
    waiting = call_webhook(service, token, 2)  # queued while the scenario is off
    assert waiting.get_data(as_text=True) == "Accepted"
    assert store.count_queue(hooked.webhooks[0].id) == 1
    return {
        "token": token,
        "hooked": hooked.scenario.id,
        "connection": connection.id,
        "incomplete": incomplete.id,
        "failed_execution": failed.id,
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A SQLite installation with data, its secret key and what ``populate`` made."""
    var_dir = tmp_path_factory.mktemp("source")
    key = generate_key()
    settings = settings_for(var_dir, key)
    service = service_for(settings)
    try:
        made = populate(service)
    finally:
        close(service)
    return {"url": settings.database_url, "key": key, "made": made}


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request, tmp_path):
    """A database that has never been used: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'switchboard.db'}"
        return
    with private_postgres_schema("sb_restore") as url:
        yield url


def test_round_trip_restores_everything(source, target_url, tmp_path):
    document = backup_database(source["url"], with_history=True)
    data = dump_backup(document, compress=True)
    summary = restore_database(target_url, load_backup(data), secret_box=SecretBox(source["key"]))
    assert summary.rows["scenarios"] == 2 and summary.rows["connections"] == 1
    again = backup_database(target_url, with_history=True)
    assert again["tables"] == document["tables"]  # every row of every table, ids included
    engine = create_store_engine(target_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()

    made = source["made"]
    service = service_for(settings_for(tmp_path / "var", source["key"], target_url))
    try:
        store = service.store
        assert store.get_connection(made["connection"]).secrets == SECRETS
        assert [v.version for v in store.list_scenario_versions(made["hooked"])] == [2, 1]
        assert store.get_incomplete(made["incomplete"]).execution_id == made["failed_execution"]
        assert store.count_queue(store.find_webhook_by_token(made["token"]).id) == 1
        assert store.find_session("cd" * 32) is None  # sign-ins do not travel
        [data_store] = store.list_data_stores()
        assert store.get_record(data_store.id, "c-2") == ODD_TEXT
        # New rows get fresh ids after the restored ones (PostgreSQL's sequences moved on).
        assert store.create_scenario("New", POLLING).id == 3
        # The webhook URL from before the backup still runs its scenario.
        service.activate_scenario(made["hooked"])
        answer = call_webhook(service, made["token"], 3)
        assert answer.status_code == 201 and answer.get_data(as_text=True) == "received 3"
    finally:
        close(service)


def test_without_history_keeps_work_in_progress_only(source):
    document = backup_database(source["url"])
    tables = document["tables"]
    statuses = {
        row[tables["executions"]["columns"].index("status")] for row in tables["executions"]["rows"]
    }
    # The finished webhook run is history; the incomplete execution's run is kept.
    assert statuses == {ExecutionStatus.INCOMPLETE.value}
    queue = tables["webhook_queue"]
    assert [row[queue["columns"].index("status")] for row in queue["rows"]] == [
        QueueItemStatus.QUEUED.value
    ]
    with_history = backup_database(source["url"], with_history=True)["tables"]
    assert len(with_history["executions"]["rows"]) == 2
    assert len(with_history["execution_records"]["rows"]) == 2


def test_every_table_is_backed_up_except_sessions(source):
    tables = backup_database(source["url"])["tables"]
    assert set(metadata.tables) - set(tables) == {"user_sessions"}


def test_the_backup_holds_no_plaintext_secret(source):
    for with_history in (False, True):
        data = dump_backup(backup_database(source["url"], with_history=with_history))
        for value in SECRETS.values():
            assert value.encode() not in data
        assert source["key"].encode() not in data


def test_a_wrong_secret_key_is_refused_before_anything_is_written(source, tmp_path):
    document = backup_database(source["url"])
    url = f"sqlite:///{tmp_path / 'target.db'}"
    with pytest.raises(BackupKeyMismatch, match=r"connection 1 \('CRM'\).*SWITCHBOARD_SECRET_KEY"):
        restore_database(url, document, secret_box=SecretBox(generate_key()))
    with pytest.raises(BackupKeyMismatch, match="no secret key is configured"):
        restore_database(url, document, secret_box=None)
    assert not (tmp_path / "target.db").exists()


def test_a_database_with_data_is_refused_unless_forced(source, tmp_path):
    document = backup_database(source["url"])
    box = SecretBox(source["key"])
    url = f"sqlite:///{tmp_path / 'target.db'}"
    with open_store(url, secret_box=box) as store:
        store.create_scenario("In the way", POLLING)
    with pytest.raises(DatabaseNotEmpty, match=r"holds 1 scenarios.*--force"):
        restore_database(url, document, secret_box=box)
    restore_database(url, document, secret_box=box, force=True)
    assert backup_database(url)["tables"] == document["tables"]


COLUMNS_AFTER_0003 = [
    ("scenario_versions", "saved_by"),  # migration 0004
    ("api_tokens", "expires_at"),  # migration 0006
    ("executions", "started_or_queued_at"),  # migration 0008
]


def as_made_at_0003(document: dict) -> dict:
    """The backup as Switchboard made it at schema 0003: without the columns added since."""
    for table, column in COLUMNS_AFTER_0003:
        dumped = document["tables"][table]
        position = dumped["columns"].index(column)
        del dumped["columns"][position]
        for row in dumped["rows"]:
            del row[position]
        dumped["sha256"] = _table_digest(dumped)
    document["schema_revision"] = "0003"
    document["checksum"] = _document_digest(document)
    return document


def test_a_backup_of_an_older_schema_restores_and_is_upgraded(source, tmp_path):
    document = as_made_at_0003(backup_database(source["url"]))
    box = SecretBox(source["key"])
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    restore_database(fresh, document, secret_box=box)
    at_head = f"sqlite:///{tmp_path / 'at_head.db'}"
    with open_store(at_head, secret_box=box) as store:
        store.create_scenario("In the way", POLLING)
    restore_database(at_head, document, secret_box=box, force=True)  # down to 0003, then up
    for url in (fresh, at_head):
        restored = backup_database(url)["tables"]
        versions = restored["scenario_versions"]
        assert {row[versions["columns"].index("saved_by")] for row in versions["rows"]} == {None}
        tokens = restored["api_tokens"]
        assert None not in {row[tokens["columns"].index("expires_at")] for row in tokens["rows"]}
        assert as_made_at_0003({"tables": restored})["tables"] == document["tables"]


def _edit(document: dict, change) -> bytes:
    copy = json.loads(json.dumps(document))
    change(copy)
    return json.dumps(copy).encode()


CORRUPTIONS = {
    "empty": (lambda doc, data: b"", "the file is empty"),
    "cut short": (lambda doc, data: data[: len(data) // 2], "not valid JSON at line"),
    "gzip cut short": (
        lambda doc, data: gzip.compress(data)[:200],
        "gzip stream is damaged or cut short",
    ),
    "not a backup": (lambda doc, data: b'{"name": "a blueprint", "flow": []}', "not a Switchboard"),
    "edited row": (
        lambda doc, data: _edit(
            doc, lambda d: d["tables"]["scenarios"]["rows"][0].__setitem__(1, "X")
        ),
        "table 'scenarios': its rows do not match their checksum",
    ),
    "edited header": (
        lambda doc, data: _edit(doc, lambda d: d.__setitem__("with_history", True)),
        "header does not match its checksum",
    ),
    "newer format": (
        lambda doc, data: _edit(doc, lambda d: d.__setitem__("format_version", 99)),
        "backup format 99 is newer",
    ),
    "newer schema": (
        lambda doc, data: _edit(doc, lambda d: d.__setitem__("schema_revision", "9999")),
        "schema revision '9999' is unknown here",
    ),
    "unknown table": (
        lambda doc, data: _edit(doc, lambda d: d["tables"].__setitem__("secrets", {"rows": []})),
        "table 'secrets' is not one of Switchboard's tables",
    ),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_damaged_file_is_refused_naming_what_is_wrong(source, corruption):
    document = backup_database(source["url"])
    damage, message = CORRUPTIONS[corruption]
    with pytest.raises(InvalidBackup, match=message):
        load_backup(damage(document, dump_backup(document)))


def test_the_commands(source, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SWITCHBOARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", source["key"])
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", source["url"])
    output = tmp_path / "backup.json.gz"
    assert cli.main(["backup", "--output", str(output), "--with-history"]) == cli.EXIT_OK
    assert output.read_bytes()[:2] == b"\x1f\x8b" and output.stat().st_mode & 0o077 == 0
    assert "2 scenarios" in capsys.readouterr().err
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'restored.db'}")
    assert cli.main(["restore", str(output)]) == cli.EXIT_OK
    assert "2 scenarios" in capsys.readouterr().out
    assert cli.main(["restore", str(output)]) == cli.EXIT_FAILURE
    assert "not empty" in capsys.readouterr().err
    assert cli.main(["restore", str(output), "--force"]) == cli.EXIT_OK
    damaged = tmp_path / "damaged.json"
    damaged.write_bytes(b'{"format": "switchboard-backup"')
    assert cli.main(["restore", str(damaged)]) == cli.EXIT_BAD_INPUT
    assert "damaged.json: not valid JSON" in capsys.readouterr().err
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", generate_key())
    assert cli.main(["restore", str(output), "--force"]) == cli.EXIT_FAILURE
    assert "cannot be decrypted" in capsys.readouterr().err
