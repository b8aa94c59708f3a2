"""Connections: secrets encrypted at rest, hidden from repr, compare-and-set on refresh."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy

from engine.secrets import SecretBox, SecretDecryptionError, SecretKeyError, generate_key
from engine.store import NotFound, SqlStore, StaleRevision

TOKEN = "ya29.super-secret-access-token"


def test_create_and_read_back(store):
    created = store.create_connection(
        "xero", "oauth2", "My Xero", data={"tenant": "t-1"}, secrets={"access_token": TOKEN}
    )
    assert created.revision == 1
    read = store.get_connection(created.id)
    assert read.app == "xero"
    assert read.kind == "oauth2"
    assert read.data == {"tenant": "t-1"}
    assert read.secrets["access_token"] == TOKEN
    assert read.secrets.reveal() == {"access_token": TOKEN}


def test_secrets_are_encrypted_at_rest(store):
    created = store.create_connection("xero", "oauth2", "x", secrets={"access_token": TOKEN})
    with store.engine.connect() as connection:
        raw = connection.execute(
            sqlalchemy.text("SELECT * FROM connections WHERE id = :id"), {"id": created.id}
        ).one()
    assert TOKEN not in repr(tuple(raw))
    assert "access_token" not in raw.secrets_encrypted


def test_secrets_never_in_repr_str_or_logs(store, caplog):
    created = store.create_connection("xero", "oauth2", "x", secrets={"access_token": TOKEN})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("connection %s / %r", created, created)
    for text in (
        repr(created),
        str(created),
        repr(created.secrets),
        str(created.secrets),
        caplog.text,
        repr(store.list_connections()),
    ):
        assert TOKEN not in text


def test_list_and_filter_by_app(store):
    first = store.create_connection("xero", "oauth2", "a")
    second = store.create_connection("qbo", "oauth2", "b")
    assert [c.id for c in store.list_connections()] == [first.id, second.id]
    assert [c.id for c in store.list_connections(app="qbo")] == [second.id]


def test_update_public_fields_bumps_revision(store):
    created = store.create_connection("xero", "oauth2", "a", secrets={"k": "v"})
    updated = store.update_connection(created.id, name="b", data={"tenant": "t"})
    assert (updated.name, updated.data, updated.revision) == ("b", {"tenant": "t"}, 2)
    assert updated.secrets == {"k": "v"}
    with pytest.raises(NotFound):
        store.update_connection(999, name="x")


def test_update_secrets_with_expected_revision(store):
    created = store.create_connection("xero", "oauth2", "a", secrets={"token": "old"})
    updated = store.update_connection_secrets(created.id, {"token": "new"}, created.revision)
    assert updated.revision == 2
    assert store.get_connection(created.id).secrets == {"token": "new"}
    with pytest.raises(StaleRevision) as raised:
        store.update_connection_secrets(created.id, {"token": "newer"}, created.revision)
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert store.get_connection(created.id).secrets == {"token": "new"}
    with pytest.raises(NotFound):
        store.update_connection_secrets(999, {}, 1)


def test_two_workers_refreshing_at_once_one_wins(store):
    created = store.create_connection("xero", "oauth2", "a", secrets={"token": "old"})
    barrier = threading.Barrier(8)
    outcomes = []

    def refresh(worker):
        barrier.wait()
        try:
            store.update_connection_secrets(created.id, {"token": f"w{worker}"}, created.revision)
            outcomes.append(("won", worker))
        except StaleRevision:
            outcomes.append(("stale", worker))

    threads = [threading.Thread(target=refresh, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [worker for outcome, worker in outcomes if outcome == "won"]
    assert len(winners) == 1
    assert len(outcomes) == 8
    final = store.get_connection(created.id)
    assert final.revision == 2
    assert final.secrets == {"token": f"w{winners[0]}"}


def test_delete(store):
    created = store.create_connection("xero", "oauth2", "a")
    store.delete_connection(created.id)
    with pytest.raises(NotFound):
        store.get_connection(created.id)
    with pytest.raises(NotFound):
        store.delete_connection(created.id)


def test_without_a_secret_box_secrets_are_refused(database_url):
    with SqlStore(database_url) as bare, pytest.raises(SecretKeyError, match="secret box"):
        bare.create_connection("xero", "oauth2", "a", secrets={"k": "v"})


def test_a_different_key_cannot_decrypt(store, database_url):
    created = store.create_connection("xero", "oauth2", "a", secrets={"k": "v"})
    with (
        SqlStore(database_url, secret_box=SecretBox(generate_key())) as other,
        pytest.raises(SecretDecryptionError, match="SWITCHBOARD_SECRET_KEY"),
    ):
        other.get_connection(created.id)


def test_key_rotation_reads_old_secrets_and_writes_with_the_new_key(database_url):
    old_key, new_key = generate_key(), generate_key()
    with SqlStore(database_url, secret_box=SecretBox(old_key)) as before:
        created = before.create_connection("xero", "oauth2", "a", secrets={"k": "v"})
    with SqlStore(database_url, secret_box=SecretBox(f"{new_key},{old_key}")) as rotating:
        assert rotating.get_connection(created.id).secrets == {"k": "v"}
        rotating.update_connection_secrets(created.id, {"k": "w"}, created.revision)
    with SqlStore(database_url, secret_box=SecretBox(new_key)) as after:
        assert after.get_connection(created.id).secrets == {"k": "w"}
