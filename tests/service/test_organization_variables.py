"""``var.organization`` reaches the runs that refer to it; plans that do not skip the read."""

from __future__ import annotations

import pytest

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.service.runs import may_refer_to_organization
from tests.service.blueprints import blueprint, respond, set_variable, webhook_trigger
from tests.service.test_service import active_hook, post


def _plan(registry, *values: str):
    flow = [webhook_trigger(), *(set_variable(i + 2, v) for i, v in enumerate(values))]
    return compile_blueprint(load_blueprint(blueprint(*flow)), registry)


@pytest.mark.parametrize(
    ("values", "refers"),
    [
        (["{{1.n}}", "{{var.scenario.id}}", "{{var.execution.id}}", "{{var.input.x}}"], False),
        (["{{var.organization.region}}"], True),
        (["{{var}}"], True),
        (["{{1.n}}", '{{get(var; "organization")}}'], True),
    ],
)
def test_which_plans_may_read_the_organization_variables(registry, values, refers):
    assert may_refer_to_organization(_plan(registry, *values)) is refers


def test_a_run_reads_the_organization_variables_it_refers_to(service, store):
    store.set_variable("region", "north")
    text = blueprint(
        webhook_trigger(), set_variable(), respond(3, body="{{var.organization.region}}")
    )
    _, hook = active_hook(service, text)
    accepted = post(service, hook.token, {"n": 1})
    service.process_webhook(hook.id)
    assert service.wait_for_response(accepted, timeout=5).body == "north"
