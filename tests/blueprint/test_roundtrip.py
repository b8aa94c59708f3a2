"""Import then export gives back exactly what was imported, for every corpus blueprint."""

from __future__ import annotations

import json

import pytest

from engine.blueprint import export_blueprint, load_blueprint, read_document
from tests.conftest import corpus_files

CORPUS = corpus_files()


@pytest.mark.parametrize("path", CORPUS, ids=[p.name[:70] for p in CORPUS])
def test_corpus_file_round_trips_exactly(path):
    raw = path.read_bytes()
    original = json.loads(raw.decode("utf-8-sig"))

    exported = read_document(raw).export()

    assert exported == original
    assert json.dumps(exported) == json.dumps(original), "key order changed"


def test_corpus_is_the_expected_size():
    assert len(CORPUS) >= 55


def test_byte_order_mark_is_accepted_as_bytes_and_as_text():
    text = '\ufeff{"name": "bom", "flow": [], "metadata": {"version": 1}}'
    assert load_blueprint(text.encode("utf-8")).name == "bom"
    assert load_blueprint(text).name == "bom"


def test_api_wrapper_is_unwrapped_and_rewrapped():
    wrapped = {
        "code": "OK",
        "response": {
            "blueprint": {"name": "api", "flow": [], "metadata": {"version": 1}},
            "scheduling": {"type": "indefinitely", "interval": 900},
        },
    }
    document = read_document(wrapped)
    assert document.blueprint.name == "api"
    assert document.scheduling == {"type": "indefinitely", "interval": 900}
    assert document.export() == wrapped


def test_template_wrapper_keeps_its_scheduling():
    wrapped = {
        "blueprint": {"name": "tpl", "flow": [], "metadata": {"version": 1}},
        "scheduling": {"type": "immediately"},
        "language": "en",
    }
    document = read_document(json.dumps(wrapped))
    assert document.scheduling == {"type": "immediately"}
    assert json.dumps(document.export()) == json.dumps(wrapped)


def test_unknown_keys_survive_and_edits_show_in_export():
    source = {
        "name": "edit",
        "zzz": {"kept": True},
        "flow": [{"id": 1, "module": "x:y", "mapper": {"a": "{{1.b}}"}, "custom": [1, 2]}],
        "metadata": {"version": 1, "scenario": {"roundtrips": 1, "extra": "kept"}},
    }
    blueprint = load_blueprint(source)
    blueprint.name = "renamed"
    blueprint.flow[0].mapper = {"a": "changed"}
    exported = export_blueprint(blueprint)
    assert list(exported) == ["name", "zzz", "flow", "metadata"]
    assert exported["name"] == "renamed"
    assert exported["flow"][0] == {
        "id": 1,
        "module": "x:y",
        "mapper": {"a": "changed"},
        "custom": [1, 2],
    }
    assert exported["metadata"]["scenario"] == {"roundtrips": 1, "extra": "kept"}


def test_defaults_are_read_but_never_added_on_export():
    blueprint = load_blueprint({"name": "d", "flow": [], "metadata": {"version": 1}})
    assert blueprint.settings.max_errors == 3
    assert blueprint.settings.auto_commit is True
    assert export_blueprint(blueprint) == {"name": "d", "flow": [], "metadata": {"version": 1}}


def test_null_values_stay_null():
    source = {
        "name": "n",
        "flow": [{"id": 1, "module": "builtin:BasicRouter", "mapper": None}],
        "metadata": {"version": 1},
    }
    assert export_blueprint(load_blueprint(source)) == source
