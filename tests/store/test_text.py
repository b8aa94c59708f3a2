"""What text the store keeps, the same on every backend: names, emails and record keys refuse
the NUL character and lone surrogates (``UnstorableText`` naming the field, never the driver's
error); JSON values keep both, unchanged; no error the store raises shows SQL or parameters."""

from __future__ import annotations

import pytest
import sqlalchemy

from engine.store import ExecutionStatus, IntegrityViolation, TriggerKind, UnstorableText

NUL = "a\x00b"
HALF = "a\ud800b"  # a lone surrogate: what JSON's "\ud800" decodes to


@pytest.mark.parametrize("text", [NUL, HALF], ids=["nul", "lone-surrogate"])
def test_names_emails_and_keys_refuse_what_no_backend_can_hold(store, scenario, text):
    data_store = store.create_data_store("Contacts", max_size_bytes=10_000)
    writes = {
        "name": [
            lambda: store.create_webhook(text),
            lambda: store.create_data_store(text, max_size_bytes=10),
            lambda: store.create_scenario(text, '{"name": "x", "flow": []}'),
            lambda: store.update_scenario(scenario.id, name=text),
            lambda: store.create_user("u@example.com", text, "viewer", "hash"),
        ],
        "email": [lambda: store.create_user(f"{text}@example.com", "U", "viewer", "hash")],
        "key": [lambda: store.put_record(data_store.id, text, {"n": 1})],
    }
    for field, attempts in writes.items():
        for attempt in attempts:
            with pytest.raises(UnstorableText) as refused:
                attempt()
            assert refused.value.path == field
    # Looking such a text up is refused the same way (PostgreSQL used to fail with a 500).
    with pytest.raises(UnstorableText):
        store.find_user_by_email(text)
    assert [w.name for w in store.list_webhooks()] == []
    assert store.count_records(data_store.id) == 0


def test_json_values_keep_nul_and_lone_surrogates_unchanged(store, scenario):
    value = {"nul": NUL, "half": HALF, "in\udc00key": [HALF, "\U0001f600"], "ok": "é"}
    data_store = store.create_data_store("Contacts", max_size_bytes=10_000)
    stored = store.put_record(data_store.id, "k", value)
    assert store.get_record(data_store.id, "k") == value
    assert stored.data == value
    execution = store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK)
    assert store.claim_execution(execution.id, "w")
    store.finish_execution(
        execution.id, ExecutionStatus.SUCCESS, {"out": value}, operations=1, data_size=1
    )
    assert store.get_execution(execution.id).record == {"out": value}


def test_store_errors_show_neither_sql_nor_parameters(store, scenario):
    execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    with pytest.raises(IntegrityViolation) as duplicate:
        store.create_execution(
            scenario.id, 1, TriggerKind.MANUAL, "secret-ref", execution_id=execution.id
        )
    for error in (duplicate.value, duplicate.value.__cause__):
        message = str(error)
        assert "INSERT" not in message and "[SQL" not in message
        assert "secret-ref" not in message and "parameters" not in message
    assert isinstance(duplicate.value.__cause__, sqlalchemy.exc.IntegrityError)
