"""Accounts: users (unique case-insensitive emails, one first user), API tokens, sessions."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from engine.store import DuplicateEmail, LastOwner, NotFound, SqlStore


def make_user(store, email="ada@example.com", role="owner"):
    return store.create_user(email, "Ada", role, "scrypt$hash")


def test_create_and_read_back(store):
    user = make_user(store, "  Ada@Example.COM ")
    assert user.email == "ada@example.com"
    assert (user.name, user.role, user.password_hash) == ("Ada", "owner", "scrypt$hash")
    assert store.get_user(user.id) == user
    assert store.find_user_by_email("ADA@example.com") == user
    assert store.find_user_by_email("bob@example.com") is None
    assert "scrypt$hash" not in repr(user)


def test_emails_are_unique_whatever_their_case(store):
    first = make_user(store)
    with pytest.raises(DuplicateEmail):
        make_user(store, "ADA@example.com")
    other = make_user(store, "bob@example.com", role="viewer")
    with pytest.raises(DuplicateEmail):
        store.update_user(other.id, email="Ada@example.com")
    assert store.get_user(first.id).email == "ada@example.com"


def test_first_user_only_once(store):
    assert store.create_first_user("a@x.io", "A", "owner", "h") is not None
    assert store.create_first_user("b@x.io", "B", "owner", "h") is None
    assert store.count_users() == 1


def test_first_user_is_created_once_under_concurrency(database_url, secret_box):
    stores = [SqlStore(database_url, secret_box=secret_box) for _ in range(6)]
    results = []
    barrier = threading.Barrier(len(stores))

    def attempt(index):
        barrier.wait()
        results.append(stores[index].create_first_user(f"u{index}@x.io", "U", "owner", "h"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sum(result is not None for result in results) == 1
        assert stores[0].count_users() == 1
    finally:
        for opened in stores:
            opened.close()


def test_list_count_update_delete(store, clock):
    owner = make_user(store)
    viewer = make_user(store, "v@example.com", role="viewer")
    assert [user.id for user in store.list_users()] == [owner.id, viewer.id]
    assert store.count_users(role="owner") == 1
    clock.advance(5)
    updated = store.update_user(viewer.id, role="editor", name="Vic", password_hash="h2")
    assert (updated.role, updated.name, updated.password_hash) == ("editor", "Vic", "h2")
    assert updated.updated_at > updated.created_at
    store.delete_user(viewer.id)
    with pytest.raises(NotFound):
        store.get_user(viewer.id)
    with pytest.raises(NotFound):
        store.delete_user(viewer.id)
    with pytest.raises(NotFound):
        store.update_user(viewer.id, name="x")


def test_api_tokens(store, clock):
    user = make_user(store)
    expires = clock.now + timedelta(days=30)
    token = store.create_api_token(user.id, "CI", "a" * 64, expires)
    assert token.last_used_at is None and token.expires_at == expires
    assert store.get_api_token(token.id) == token
    clock.advance(10)
    found = store.find_api_token("a" * 64)
    assert found.id == token.id
    assert found.last_used_at == clock.now
    assert store.find_api_token("b" * 64) is None
    assert store.list_api_tokens(user_id=user.id) == [found]
    store.delete_api_token(token.id)
    assert store.find_api_token("a" * 64) is None
    with pytest.raises(NotFound):
        store.delete_api_token(token.id)
    with pytest.raises(NotFound):
        store.create_api_token(999, "x", "c" * 64, expires)


def test_api_tokens_expire(store, clock):
    user = make_user(store)
    token = store.create_api_token(user.id, "CI", "a" * 64, clock.now + timedelta(hours=1))
    clock.advance(3599)
    assert store.find_api_token("a" * 64).last_used_at == clock.now
    last_use = clock.now
    clock.advance(1)
    assert store.find_api_token("a" * 64) is None
    # Still listed (its owner sees it expired), and the failed use did not count as a use.
    assert store.get_api_token(token.id).last_used_at == last_use


def test_revoking_every_token_of_a_user(store, clock):
    user, other = make_user(store), make_user(store, "bob@example.com", role="viewer")
    later = clock.now + timedelta(days=1)
    store.create_api_token(user.id, "CI", "a" * 64, later)
    store.create_api_token(user.id, "cron", "b" * 64, later)
    store.create_api_token(other.id, "mine", "c" * 64, later)
    assert store.delete_user_api_tokens(user.id) == 2
    assert store.find_api_token("a" * 64) is None and store.find_api_token("b" * 64) is None
    assert store.find_api_token("c" * 64).user_id == other.id
    assert store.delete_user_api_tokens(user.id) == 0


def test_sessions_expire_and_end(store, clock):
    user = make_user(store)
    session = store.create_session("s" * 64, user.id, "csrf", clock.now + timedelta(hours=1))
    assert store.find_session("s" * 64) == session
    assert store.find_session("t" * 64) is None
    clock.advance(3601)
    assert store.find_session("s" * 64) is None
    assert store.purge_expired_sessions() == 1
    store.create_session("u" * 64, user.id, "csrf", clock.now + timedelta(hours=1))
    assert store.delete_session("u" * 64)
    assert not store.delete_session("u" * 64)
    store.create_session("v" * 64, user.id, "csrf", clock.now + timedelta(hours=1))
    assert store.delete_user_sessions(user.id) == 1


def test_deleting_a_user_ends_their_tokens_and_sessions(store, clock):
    user = make_user(store)
    store.create_api_token(user.id, "CI", "a" * 64, clock.now + timedelta(days=1))
    store.create_session("s" * 64, user.id, "csrf", clock.now + timedelta(hours=1))
    store.delete_user(user.id)
    assert store.find_api_token("a" * 64) is None
    assert store.find_session("s" * 64) is None


@pytest.mark.parametrize("how", ["demote", "delete"])
def test_two_concurrent_demotions_cannot_remove_the_last_owner(database_url, secret_box, how):
    """Two owners, each demoted (or deleted) by another request at the same moment: one wins,
    the other is refused, and an owner is left. A count-then-update lets both through."""
    stores = [SqlStore(database_url, secret_box=secret_box) for _ in range(2)]
    try:
        owners = [stores[0].create_user(f"o{i}@x.io", "O", "owner", "h") for i in range(2)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def change(index: int) -> None:
            barrier.wait()
            try:
                if how == "demote":
                    stores[index].update_user(owners[index].id, role="editor", keep_an_owner=True)
                else:
                    stores[index].delete_user(owners[index].id, keep_an_owner=True)
                outcomes.append("done")
            except LastOwner:
                outcomes.append("refused")

        for _ in range(5):  # several rounds: the race is real, not staged
            threads = [threading.Thread(target=change, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes) == ["done", "refused"]
            assert stores[0].count_users(role="owner") == 1
            outcomes.clear()
            # Reset: both owners again, for the next round.
            for owner in owners:
                try:
                    stores[0].update_user(owner.id, role="owner")
                except NotFound:
                    owners[owners.index(owner)] = stores[0].create_user(
                        f"again{time.monotonic_ns()}@x.io", "O", "owner", "h"
                    )
            barrier.reset()
    finally:
        for opened in stores:
            opened.close()


def test_the_last_owner_may_stay_an_owner_and_others_change_freely(store):
    owner = store.create_user("o@x.io", "O", "owner", "h")
    editor = store.create_user("e@x.io", "E", "editor", "h")
    with pytest.raises(LastOwner):
        store.update_user(owner.id, role="viewer", keep_an_owner=True)
    with pytest.raises(LastOwner):
        store.delete_user(owner.id, keep_an_owner=True)
    assert store.update_user(owner.id, name="Still", keep_an_owner=True).role == "owner"
    store.update_user(editor.id, role="viewer", keep_an_owner=True)
    store.delete_user(editor.id, keep_an_owner=True)
    assert store.get_user(owner.id).role == "owner"
