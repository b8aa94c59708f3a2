"""Each 1CRM record type outputs its own fields (issue #22, defect 15): the New Event trigger
and the record modules declare an output per record type, and the mapping panel lists only
the chosen type's fields."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.registry import default_registry
from modules.onecrm.models import OUTPUTS_BY_MODEL, RecordOutput
from modules.onecrm.sandbox.schema import MODELS

ROOT = Path(__file__).resolve().parents[2]
RECORD_MODULES = ["NewEvent", "SearchRecords", "GetRecord", "CreateRecord", "UpdateRecord"]


@pytest.mark.parametrize("model", sorted(OUTPUTS_BY_MODEL))
def test_each_record_type_outputs_only_fields_that_type_has(model):
    fields = set(OUTPUTS_BY_MODEL[model].model_fields)
    assert fields <= set(MODELS[model].fields), fields - set(MODELS[model].fields)
    others = set().union(*(set(MODELS[m].fields) for m in OUTPUTS_BY_MODEL if m != model))
    assert fields - others  # fields of its own, not the union of every type


@pytest.mark.parametrize("name", RECORD_MODULES)
def test_the_chosen_record_type_picks_the_output(name):
    spec = default_registry()[f"onecrm:{name}"]
    for chosen in ("Accounts", "account", " Account "):
        assert spec.output_for({"model": chosen}) is OUTPUTS_BY_MODEL["Account"]
    assert spec.output_for({}, {"model": "Payments"}) is OUTPUTS_BY_MODEL["Payment"]
    assert spec.output_for({"model": "Invoice"}, {"model": "Quote"}) is OUTPUTS_BY_MODEL["Invoice"]
    # Nothing chosen, an expression or a type without its own output: every field.
    for value in (None, "", "{{1.model}}", "TaxCode"):
        assert spec.output_for({"model": value}) is RecordOutput


def test_prebuilt_triggers_map_only_fields_of_their_record_type():
    """What the prebuilt scenarios map from a New Event trigger is in that type's output."""
    checked = 0
    for path in sorted((ROOT / "scenarios").glob("*/*.json")):
        blueprint = json.loads(path.read_text())
        if not isinstance(blueprint, dict) or "flow" not in blueprint:
            continue
        text = json.dumps(blueprint)
        for module in blueprint["flow"]:
            if module.get("module") != "onecrm:NewEvent":
                continue
            output = default_registry()["onecrm:NewEvent"].output_for(module["parameters"])
            assert output is not RecordOutput, path.name
            used = set(re.findall(rf"\b{module['id']}\.([A-Za-z_][A-Za-z0-9_]*)", text))
            assert used <= set(output.model_fields), (path.name, used - set(output.model_fields))
            checked += 1
    assert checked >= 8
