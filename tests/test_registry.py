"""The module registry fails loudly and loads module packages from entry points."""

from __future__ import annotations

import pytest

from engine.errors import UnknownModuleError
from engine.registry import DuplicateModuleError, ModuleRegistry, default_registry
from engine.spec import GENERIC_NAMING, Effect, ModuleKind, ModuleSpec, RecordNaming


def spec(module_id="test:Thing", **extra):
    return ModuleSpec(
        id=module_id, kind=ModuleKind.ACTION, label="Thing", run=lambda c: [], **extra
    )


def test_unknown_module_id_raises_naming_it():
    with pytest.raises(UnknownModuleError) as caught:
        ModuleRegistry()["google-sheets:addRow"]
    assert str(caught.value) == "module google-sheets:addRow is not available in this installation"


def test_duplicate_ids_are_refused():
    registry = ModuleRegistry([spec()])
    with pytest.raises(DuplicateModuleError, match="test:Thing is registered twice"):
        registry.register(spec())


def test_get_and_contains_do_not_raise():
    registry = ModuleRegistry([spec()])
    assert "test:Thing" in registry
    assert registry.get("test:Other") is None


def test_builtin_modules_arrive_through_the_entry_point():
    registry = default_registry()
    assert registry["builtin:BasicRouter"].kind is ModuleKind.ROUTER
    assert registry["builtin:BasicAggregator"].kind is ModuleKind.AGGREGATOR
    assert registry["builtin:Break"].kind is ModuleKind.DIRECTIVE


def test_copies_are_independent():
    original = ModuleRegistry([spec()])
    copy = original.copy()
    copy.register(spec("test:Other"))
    assert "test:Other" not in original


@pytest.mark.parametrize("bad_id", ["nocolon", ":Name", "app:"])
def test_spec_ids_must_look_like_makes(bad_id):
    with pytest.raises(ValueError, match="must look like app:ModuleName"):
        spec(bad_id)


def test_a_computing_module_needs_a_run_function():
    with pytest.raises(ValueError, match="needs a run function"):
        ModuleSpec(id="test:Lazy", kind=ModuleKind.ACTION, label="Lazy")


WRITE_WORDS = (
    "create",
    "update",
    "upsert",
    "delete",
    "add",
    "allocate",
    "void",
    "edit",
    "upload",
    "send",
    "reply",
    "share",
)
"""Names that promise a write. Only this test reads names: it checks the declarations the sync
log relies on, so a write module that forgot (or mis-stated) its effect fails here."""

NOT_WRITES = {
    "anthropic-claude:createAMessage": "a completion: the model answers, nothing is stored",
    "gemini-ai:createACompletionGeminiPro": "a completion",
    "openai-gpt-3:CreateCompletion": "a completion",
    "perplexity-ai:createAChatCompletion": "a completion",
    "http:ActionSendData": "a request of any method to anywhere: a call",
    "http:ActionSendDataAPIKeyAuth": "a request of any method to anywhere: a call",
    "http:ActionSendDataBasicAuth": "a request of any method to anywhere: a call",
    "http:ActionSendDataOAuth": "a request of any method to anywhere: a call",
}


def test_every_installed_module_declares_what_it_does_to_records():
    undeclared = [spec.id for spec in default_registry().values() if spec.effect is None]
    assert undeclared == [], f"declare an engine.spec.Effect for {undeclared}"


def named_like_a_write(module_id: str) -> bool:
    name = module_id.partition(":")[2].removeprefix("Action").lower()
    return name.startswith(WRITE_WORDS)


def test_modules_named_like_writes_declare_a_write():
    misdeclared = [
        (spec.id, str(spec.effect))
        for spec in default_registry().values()
        if named_like_a_write(spec.id)
        and not spec.writes
        and spec.id not in NOT_WRITES
        and spec.effect is not Effect.COMPUTE  # json:CreateJSON builds text; it writes nothing
        and spec.kind is not ModuleKind.AGGREGATOR  # csv:CreateAggregator collects
    ]
    assert misdeclared == []


def test_flow_control_kinds_are_control_unless_they_say_otherwise():
    router = ModuleSpec(id="test:Route", kind=ModuleKind.ROUTER, label="Route")
    assert router.effect is Effect.CONTROL
    assert default_registry()["builtin:BasicFeeder"].effect is Effect.CONTROL
    assert spec().effect is None  # an action must say


def test_a_module_states_its_effect_and_how_its_output_names_a_record():
    plain = spec()
    assert plain.effect is None and plain.record_naming is GENERIC_NAMING
    assert not plain.writes
    naming = RecordNaming(key=("InvoiceID",), name=("InvoiceNumber", "Reference"))
    declared = spec(effect=Effect.CREATE, naming=naming)
    assert declared.writes
    invoice = {"InvoiceID": "i-1", "InvoiceNumber": "", "Reference": "PO 7", "Contact": {}}
    assert (naming.key_of(invoice), naming.name_of(invoice)) == ("i-1", "PO 7")
    assert naming.key_of({"Contact": {"ContactID": "c"}}) is None


def test_app_modules_name_their_records_with_their_own_fields():
    registry = default_registry()
    created = {"InvoiceID": "x-1", "InvoiceNumber": "INV-7"}
    naming = registry["xero:CreateInvoice"].record_naming
    assert (naming.key_of(created), naming.name_of(created)) == ("x-1", "INV-7")
    event = {"name": "Customer", "id": "58", "operation": "Create"}
    naming = registry["quickbooks:NewEvent"].record_naming
    assert (naming.key_of(event), naming.name_of(event)) == ("58", None)  # name is its type
    naming = registry["onecrm:NewEvent"].record_naming
    document = {"id": "i-1", "name": "March work", "prefix": "INV-", "invoice_number": 1003}
    assert (naming.key_of(document), naming.name_of(document)) == ("i-1", "INV-1003")
    assert naming.name_of({"id": "a-1", "name": "Acme", "prefix": None}) == "Acme"
    apps = {"onecrm", "xero", "quickbooks", "zohocrm"}
    generic = [s.id for s in registry.values() if s.app in apps and s.naming is None]
    assert generic == []
