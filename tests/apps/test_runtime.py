"""An app defined as data runs like any module: requests built from templates, answers through
Make's directives, against its sandbox over real HTTP (the ``todo`` app in tests/apps/fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import AccountValidationError
from tests.apps.harness import AppSandboxes

TODO = Path(__file__).parent / "fixtures" / "todo"


@pytest.fixture
def todo():
    with AppSandboxes(custom=[TODO]) as sandboxes:
        yield sandboxes


def _flow(*modules):
    return {"name": "t", "flow": list(modules), "metadata": {}}


def _module(id_, name, mapper=None, parameters=None):
    return {
        "id": id_,
        "module": f"todo:{name}",
        "version": 1,
        "parameters": parameters or {},
        "mapper": mapper or {},
    }


def _outputs(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    return [bundle for call in module["calls"] for bundle in call["output"]]


def _error(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    return module["calls"][-1]["error"]


def test_an_action_sends_the_base_and_its_own_parts(todo):
    record = todo.run(_flow(_module(1, "createItem", {"title": "Buy milk", "priority": "2"})))
    assert record["status"] == "success"
    [created] = _outputs(record, 1)
    assert created["id"] == "1" and created["title"] == "Buy milk"
    [sent] = todo.requests("/items")
    assert sent["headers"]["X-Api-Key"] == "todo-key"  # the base's header
    assert sent["query"] == {"client": ["switchboard"]}  # the base's query
    # Unmapped parameters are left out, as IML's undefined; a literal null stays.
    assert sent["json"] == {"title": "Buy milk", "priority": 2, "owner": None}


def test_the_error_directive_names_message_and_type_by_status(todo):
    record = todo.run(
        _flow(_module(1, "createItem", {"title": "taken"}), _module(2, "getItem", {"id": "x"}))
    )
    error = _error(record, 1)
    assert error["type"] == "DuplicateDataError"
    assert "an item with this title exists" in error["message"]
    record = todo.run(_flow(_module(2, "getItem", {"id": "nope"})))
    error = _error(record, 2)
    assert (error["type"], error["message"]) == ("DataError", "Todo: No such item (nope)")


def test_a_required_parameter_without_a_value_is_refused_before_any_request(todo):
    record = todo.run(_flow(_module(1, "createItem", {"title": ""})))
    assert "missing value of required parameter 'title'" in _error(record, 1)["message"]
    assert todo.requests("/items") == []


def test_a_search_iterates_pages_filters_and_stops_at_its_limit(todo):
    todo.seed({"items": [{"title": f"t{n}", "done": n % 2 == 0} for n in range(1, 8)]})
    record = todo.run(_flow(_module(1, "listItems", {"limit": 5})))
    found = _outputs(record, 1)
    assert [b["title"] for b in found] == ["T1", "T2", "T3", "T4", "T5"]
    assert [b["__IMTINDEX__"] for b in found] == [1, 2, 3, 4, 5]
    assert {b["__IMTLENGTH__"] for b in found} == {5}
    assert [r["query"]["page"] for r in todo.requests("/items")] == [["1"], ["2"], ["3"]]
    record = todo.run(_flow(_module(1, "listItems", {"onlyOpen": True})))
    assert [b["title"] for b in _outputs(record, 1)] == ["T1", "T3", "T5", "T7"]


def test_a_polling_trigger_outputs_new_items_after_its_cursor(todo):
    todo.seed({"items": [{"title": "old 1"}, {"title": "old 2"}]})
    trigger = _flow(_module(1, "watchItems", parameters={"limit": 2}))
    committed = {}

    def commit(module_id, cursor):
        committed[module_id] = cursor

    # From now on (the default start): nothing, and the newest item is remembered.
    record = todo.run(trigger, commit_cursor=commit)
    assert _outputs(record, 1) == []
    assert committed == {1: {"lastId": "2", "lastDate": None}}
    todo.seed({"items": [{"title": f"new {n}"} for n in range(3)]})
    record = todo.run(trigger, cursors=dict(committed), commit_cursor=commit)
    assert [b["title"] for b in _outputs(record, 1)] == ["new 0", "new 1"]  # oldest first, limit 2
    record = todo.run(trigger, cursors=dict(committed), commit_cursor=commit)
    assert [b["title"] for b in _outputs(record, 1)] == ["new 2"]
    record = todo.run(trigger, starts={1: {"type": "all"}})
    assert [b["title"] for b in _outputs(record, 1)] == ["old 1", "old 2"]


def test_requests_pass_temp_and_request_less_steps_choose_by_condition(todo):
    todo.seed({"items": [{"title": "a"}]})
    record = todo.run(
        _flow(
            _module(1, "countItems"),
            _module(2, "greet", {"name": "Ada"}),
            _module(3, "greet", {"name": ""}),
        )
    )
    assert _outputs(record, 1) == [{"owner": "ada@example.com", "count": 1}]
    assert _outputs(record, 2) == [{"greeting": "Hello Ada"}]
    assert _outputs(record, 3) == [{"greeting": "nobody to greet"}]


def test_files_go_up_as_multipart_and_come_back_as_bytes(todo):
    record = todo.run(
        _flow(
            _module(1, "uploadNote", {"fileName": "n.txt", "data": "{{toBinary('hello')}}"}),
            _module(2, "downloadNote", {"id": "{{1.id}}"}),
        )
    )
    assert _outputs(record, 1)[0]["name"] == "n.txt"
    [stored] = todo.records("files")
    assert stored["kind"] == "note"
    assert _outputs(record, 2) == [{"data": "hello", "size": 5}]  # bytes, shown as text in records


def test_an_instant_trigger_turns_a_webhook_request_into_bundles(todo):
    spec = todo.registry["todo:newEvent"]
    request = {
        "type": "batch",
        "events": [{"id": "e1", "kind": "created"}, {"id": "e2", "kind": "deleted"}],
        "__IMTHEADERS__": [{"name": "X-Signature", "value": "sig"}],
    }
    bundles = spec.hooks["webhook_bundles"](request, {})
    assert bundles == [
        {"id": "e1", "kind": "created", "signature": "sig"},
        {"id": "e2", "kind": "deleted", "signature": "sig"},
    ]
    assert spec.hooks["webhook_bundles"]({"type": "ping"}, {}) == []  # its condition


def test_an_instant_trigger_with_its_own_communication_reshapes_each_event(todo):
    """The module's communication reshapes the webhook's outputs (it used to fail building its
    Exchange without a clock: TypeError)."""
    spec = todo.registry["todo:newEventShaped"]
    request = {"type": "batch", "events": [{"id": "e1", "kind": "created"}]}
    assert spec.hooks["webhook_bundles"](request, {}) == [{"event": "e1", "what": "created"}]


def test_attach_registers_the_webhook_address_and_detach_removes_it(todo):
    spec = todo.registry["todo:newEvent"]
    connection = todo.connection("todo")
    with requests_session() as http:
        kept = spec.hooks["attach_webhook"](
            connection, http, "https://sb.example/hooks/abc", {"kind": "created"}
        )
        assert kept == {"hookId": "1"}
        assert todo.records("hooks") == [
            {"id": "1", "url": "https://sb.example/hooks/abc", "kind": "created"}
        ]
        spec.hooks["detach_webhook"](connection, http, kept)
    assert todo.records("hooks") == []


def test_an_rpc_lists_choices_and_the_connection_test_reports_the_account(todo):
    from modules.apps import load_app

    app = load_app(TODO / "app.yaml")
    todo.seed({"items": [{"title": "first"}]})
    kind = todo.registry.connection_kinds["todo"]
    with requests_session() as http:
        assert app.call_rpc("listItems", todo.connection("todo"), http, {}) == [
            {"label": "first", "value": "1"}
        ]
        assert kind.test(todo.connection("todo"), http) == {"account": "ada@example.com"}
        with pytest.raises(AccountValidationError, match="Todo: bad key"):
            kind.test(todo.connection("todo", apiKey="wrong"), http)


def test_an_idempotent_request_is_retried_after_a_server_error(todo):
    todo.seed({"items": [{"title": "a"}]})
    todo.fault(status=503, count=1, path_prefix="/_app/todo/items")
    record = todo.run(_flow(_module(1, "getItem", {"id": "1"})))
    assert _outputs(record, 1)[0]["title"] == "a"
    todo.fault(status=503, count=1, path_prefix="/_app/todo/items", method="POST")
    record = todo.run(_flow(_module(2, "createItem", {"title": "b"})))
    assert _error(record, 2)["type"] == "ConnectionError"  # a POST is not sent twice
    assert [i["title"] for i in todo.records("items")] == ["a"]


def requests_session():
    import requests

    return requests.Session()


def test_dates_and_binary_data_in_a_json_body_are_sent_as_make_writes_them(todo):
    record = todo.run(
        _flow(_module(1, "createItem", {"title": "Call", "note": "{{addDays(now; 1)}}"}))
    )
    assert record["status"] == "success"
    [sent] = todo.requests("/items")
    assert sent["json"]["note"] == "2026-04-02T08:00:00.000Z"
    assert sent["headers"]["Content-Type"] == "application/json"
