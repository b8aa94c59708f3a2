"""Built-in tools called directly: compose, switch, sleep, match pattern, webhooks."""

from __future__ import annotations

import pytest

from engine.errors import BundleValidationError, DataError, InvalidConfigurationError
from engine.registry import default_registry
from engine.webhooks import request_to_bundle
from tests.modules.helpers import call_module

REGISTRY = default_registry()


def test_compose_makes_text():
    assert call_module(REGISTRY["util:ComposeTransformer"], {"value": 12}) == [{"value": "12"}]
    assert call_module(REGISTRY["util:ComposeTransformer"], {}) == [{"value": ""}]


@pytest.mark.parametrize(
    ("value", "use_regex", "expected"),
    [("15", False, 4), ("10", False, 8), ("7", False, None), ("A-15", True, 4)],
)
def test_switcher(value, use_regex, expected):
    cases = [
        {"pattern": "15" if not use_regex else r"\d5$", "output": 4},
        {"pattern": "10", "output": 8},
    ]
    mapped = {"input": value, "casesTable": cases, "useRegExpMatch": use_regex, "elseOutput": None}
    assert call_module(REGISTRY["util:Switcher"], mapped) == [{"output": expected}]


def test_switcher_refuses_a_broken_pattern():
    with pytest.raises(
        BundleValidationError, match=r"casesTable\[0\]\.pattern: invalid regular expression"
    ):
        call_module(
            REGISTRY["util:Switcher"],
            {"input": "x", "casesTable": [{"pattern": "(", "output": 1}], "useRegExpMatch": True},
        )


def test_sleep_goes_through_the_run_clock():
    from datetime import UTC, datetime

    from engine.runtime import RunContext

    slept = []
    context = RunContext(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), sleep=slept.append)
    assert call_module(REGISTRY["util:FunctionSleep"], {"duration": "2"}, run_context=context) == [
        {}
    ]
    assert slept == [2.0]
    with pytest.raises(Exception, match="less than or equal to 300"):
        call_module(REGISTRY["util:FunctionSleep"], {"duration": 301}, run_context=context)


def test_match_pattern_outputs_groups_per_match():
    parser = REGISTRY["regexp:Parser"]
    text = "INV-1 total 20; INV-2 total 35"
    parameters = {"pattern": r"INV-(?<n>\d+) total (\d+)", "global": True}
    assert call_module(parser, {"text": text}, parameters) == [
        {"$1": "1", "$2": "20", "n": "1", "__IMTMATCH__": 1},
        {"$1": "2", "$2": "35", "n": "2", "__IMTMATCH__": 2},
    ]
    first_only = call_module(parser, {"text": text}, {**parameters, "global": False})
    assert len(first_only) == 1
    assert call_module(parser, {"text": "nothing"}, parameters) == []


def test_match_pattern_reports_bad_patterns_and_runaway_ones():
    parser = REGISTRY["regexp:Parser"]
    with pytest.raises(
        InvalidConfigurationError, match=r"parameters\.pattern: invalid regular expression '\('"
    ):
        call_module(parser, {"text": "x"}, {"pattern": "("})
    with pytest.raises(BundleValidationError, match=r"parameters\.pattern: .* took longer than"):
        call_module(parser, {"text": "a" * 60 + "b"}, {"pattern": r"(a|aa)+$"})


NESTED_REPETITION = "(?:a{400}){400}"  # 160,000 repetitions: over the engine's limit


@pytest.mark.parametrize(
    ("module", "mapped", "parameters", "error"),
    [
        ("regexp:Parser", {"text": "a"}, {"pattern": NESTED_REPETITION}, InvalidConfigurationError),
        (
            "regexp:Replace",
            {"text": "a", "pattern": NESTED_REPETITION, "value": ""},
            {},
            InvalidConfigurationError,
        ),
        (
            "util:Switcher",
            {
                "input": "a",
                "casesTable": [{"pattern": NESTED_REPETITION, "output": 1}],
                "useRegExpMatch": True,
            },
            {},
            BundleValidationError,
        ),
    ],
)
def test_user_patterns_go_through_the_engines_checked_compile(module, mapped, parameters, error):
    with pytest.raises(error, match="repeats too much"):
        call_module(REGISTRY[module], mapped, parameters)


def test_webhook_bodies_become_bundles():
    bundle = request_to_bundle(
        method="post",
        headers={"Content-Type": "application/json", "X-Id": "7"},
        query={"source": "form"},
        body=b'{"email": "a@b.c", "items": [1, 2]}',
        include_headers=True,
        include_method=True,
    )
    assert bundle == {
        "source": "form",
        "email": "a@b.c",
        "items": [1, 2],
        "__IMTHEADERS__": [
            {"name": "content-type", "value": "application/json"},
            {"name": "x-id", "value": "7"},
        ],
        "__IMTMETHOD__": "POST",
    }
    form = request_to_bundle(
        method="POST",
        headers={"content-type": "application/x-www-form-urlencoded"},
        query={},
        body=b"a=1&b=two+words",
    )
    assert form == {"a": "1", "b": "two words"}


def test_bad_json_webhook_bodies_say_why():
    with pytest.raises(DataError, match="not valid JSON"):
        request_to_bundle(
            method="POST", headers={"content-type": "application/json"}, query={}, body=b"{nope"
        )


def test_webhook_respond_answers_the_caller():
    from datetime import UTC, datetime

    from engine.runtime import RunContext

    answers = []
    context = RunContext(
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        respond=lambda status, body, headers: answers.append((status, body, headers)),
    )
    mapped = {"status": "201", "body": '{"ok": true}', "headers": [{"key": "x-a", "value": 1}]}
    call_module(REGISTRY["gateway:WebhookRespond"], mapped, run_context=context)
    assert answers == [(201, '{"ok": true}', {"x-a": "1"})]
    with pytest.raises(BundleValidationError):
        call_module(REGISTRY["gateway:WebhookRespond"], {"status": "abc"}, run_context=context)


def answering_context():
    """A run context whose webhook answers land in the returned list."""
    from datetime import UTC, datetime

    from engine.runtime import RunContext

    answers = []
    context = RunContext(
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        respond=lambda status, body, headers: answers.append((status, body, headers)),
    )
    return answers, context


@pytest.mark.parametrize(
    ("mapped", "message"),
    [
        ({"status": "101"}, "status 101 is not a final HTTP status"),
        ({"status": "199"}, "status 199 is not a final HTTP status"),
        (
            {"headers": [{"key": "X-A", "value": "ok"}, {"key": "X-B", "value": "a\r\nX-C: 1"}]},
            "headers[1]: the value holds a line break",
        ),
        ({"headers": [{"key": "X-Nul", "value": "a\x00"}]}, "headers[0]: the value holds"),
        ({"headers": [{"key": "X-Euro", "value": "€"}]}, "headers[0]: the value holds characters"),
        ({"headers": [{"key": "Bad Name", "value": "v"}]}, "headers[0]: 'Bad Name' is not"),
        ({"headers": [{"key": "X:Y", "value": "v"}]}, "headers[0]: 'X:Y' is not a header name"),
    ],
)
def test_webhook_respond_refuses_what_http_cannot_carry(mapped, message):
    # A line break in a value used to be a 500 after the request was stored (or, on servers
    # that do not check, a header of the scenario's making); a 1xx a broken final answer.
    answers, context = answering_context()
    with pytest.raises(BundleValidationError) as error:
        call_module(REGISTRY["gateway:WebhookRespond"], mapped, run_context=context)
    assert message in str(error.value)
    assert answers == []


def test_webhook_respond_skips_rows_without_a_name():
    answers, context = answering_context()
    rows = [{"key": "", "value": "x"}, {"key": " X-Tab ", "value": "a\tb"}]
    call_module(REGISTRY["gateway:WebhookRespond"], {"headers": rows}, run_context=context)
    assert answers == [(200, "", {"X-Tab": "a\tb"})]


def test_increment_counts_per_cycle_run_or_forever():
    from datetime import UTC, datetime

    from engine.blueprint import load_blueprint
    from engine.graph import compile_blueprint
    from engine.runtime import RunContext, run_scenario

    def counts(reset, state):
        blueprint = {
            "name": "count",
            "flow": [
                {"id": 1, "module": "builtin:BasicRepeater", "mapper": {"repeats": "3"}},
                {"id": 2, "module": "util:FunctionIncrement", "parameters": {"reset": reset}},
            ],
            "metadata": {"version": 1},
        }
        plan = compile_blueprint(load_blueprint(blueprint), REGISTRY)
        context = RunContext(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), module_state=state)
        record = run_scenario(plan, context).to_dict()
        return [b["i"] for call in record["modules"][1]["calls"] for b in call["output"]]

    state = {}
    assert counts("run", state) == [1, 2, 3]
    assert counts("execution", state) == [1, 2, 3]
    assert counts("scenario", state) == [1, 2, 3]
    assert counts("scenario", state) == [4, 5, 6]
