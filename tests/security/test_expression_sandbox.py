"""The expression sandbox: known template-injection payloads from other engines' advisories.

Each payload must be refused at compile time (``ExpressionError``) or evaluate to plain data
(``DataError`` is fine too) quickly; no result may expose a Python object, a file, the
environment or the network, and no payload may open a file, socket or process (checked with an
audit hook, which sees C-level calls too).

Sources of the payloads: n8n's expression escapes (CVE-2023-27562 class: ``constructor`` chains
and ``this`` walking), Jinja2 SSTI (``__class__.__mro__``, ``__subclasses__``, ``__globals__``,
``cycler.__init__.__globals__.os``), Handlebars/lodash prototype pollution (``__proto__``,
``constructor.prototype``), Python ``str.format`` attribute lookups (``{0.__class__}``) and
Make's own ``get``/``map`` paths.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

import pytest

from engine.errors import DataError, ExpressionError
from engine.mapping import EvalContext, compile_mapper, compile_template
from tests.security.guards import SideEffects, time_limit

CANARY = "sb-canary-7f3e9a1c"

BUNDLES = {
    1: {"name": "Ada", "items": [{"sku": "A"}, {"sku": "B"}], "n": 3, "text": "{0.__class__}"},
    2: {"__class__": "x", "constructor": {"prototype": 1}},
}

ATTRIBUTE_WALKING = [
    "{{1.__class__.__mro__}}",
    "{{1.__class__.__mro__[1].__subclasses__}}",
    "{{1.name.__class__}}",
    "{{1.name.__class__.__base__.__subclasses__()}}",
    "{{1.constructor.constructor}}",
    '{{1.constructor.constructor("return process")()}}',
    "{{1.items.constructor.prototype}}",
    "{{__proto__}}",
    "{{1.__proto__.polluted}}",
    "{{1.__dict__}}",
    "{{1.__globals__}}",
    "{{1.__init__.__globals__}}",
    "{{1.items.__len__}}",
    "{{1.name.upper}}",
    "{{`1`.__class__}}",
    "{{var.__class__}}",
    "{{var.__init__.__globals__.os}}",
    "{{var.scenario.__class__}}",
    "{{this}}",
    "{{this.constructor}}",
    "{{self}}",
    "{{self.__init__.__globals__}}",
    "{{cycler.__init__.__globals__.os.popen}}",
    "{{lipsum.__globals__.os}}",
    "{{config.__class__}}",
    "{{request.application.__globals__}}",
    "{{_.template}}",
    "{{process.env}}",
    "{{global.process}}",
    "{{globalThis}}",
    "{{$env}}",
    "{{$node}}",
    "{{$json.__class__}}",
    '{{get(1; "__class__")}}',
    '{{get(1; "__class__.__mro__")}}',
    '{{get(1.name; "__class__")}}',
    '{{get(1.items; "__len__")}}',
    '{{get(var; "__init__.__globals__")}}',
    '{{get(2; "constructor.prototype")}}',
    '{{map(1.items; "__globals__")}}',
    '{{map(1.items; "__class__.__name__")}}',
    '{{map(1.items; "sku.__class__")}}',
    '{{sort(1.items; asc; "__class__")}}',
    '{{distinct(1.items; "__class__")}}',
    '{{toCollection(1.items; "__class__"; "__dict__")}}',
    '{{pick(1; "__class__"; "__dict__")}}',
    "{{keys(1.__class__)}}",
    "{{1.items[1].__class__}}",
    '{{1.items["__class__"]}}',
    '{{1.items[1]["__globals__"]}}',
    '{{split(1.name; "")[1].__class__}}',
    "{{(1.name).__class__}}",
    "{{now.__class__}}",
    "{{now.tzinfo}}",
    "{{now.year}}",
]

FORMAT_STRING_TRICKS = [
    "{{1.text}}",
    '{{formatNumber(1; 2; "{0.__class__}"; "{0.__globals__}")}}',
    '{{formatDate(now; "{0.__class__} %s %n {0}")}}',
    '{{formatDate(now; "[{0.__class__}]")}}',
    '{{parseDate("{0.__class__}"; "{0.__class__}")}}',
    '{{replace(1.text; "/(?<cls>__class__)/"; "$<__class__>$1$&")}}',
    '{{replace("x"; "/x/"; "$<__init__>")}}',
    '{{replace(1.name; "Ada"; "{0.__class__.__mro__}")}}',
    "{{toString(1.text)}}",
    "{{escapeJSON(1.text)}}",
    '{{switch(1.text; "{0.__class__}"; "{1}"; "%s")}}',
    '{{sha256(1.text; "{0.__class__}")}}',
    '{{toBinary(1.text; "{0.__class__}")}}',
    '{{sort(1.items; "{0.__class__}")}}',
    '{{1.name + "{0.__class__}" + "%(x)s"}}',
    '{{"%s" % 1.name}}',
    "{{1.name % 1}}",
    "text {0.__class__} {{1.name}} %s {__class__}",
]

FUNCTION_NAME_TRICKS = [
    '{{eval("1+1")}}',
    '{{exec("import os")}}',
    '{{__import__("os")}}',
    '{{__import__("os").system("id")}}',
    '{{open("/etc/passwd")}}',
    '{{compile("1"; "x"; "eval")}}',
    '{{getattr(1; "__class__")}}',
    "{{globals()}}",
    "{{locals()}}",
    "{{vars()}}",
    "{{dir()}}",
    "{{breakpoint()}}",
    "{{input()}}",
    '{{print("x")}}',
    '{{require("child_process")}}',
    '{{Function("return this")()}}',
    '{{constructor("return process")()}}',
    '{{system("id")}}',
    '{{os.system("id")}}',
    '{{subprocess.run("id")}}',
    "{{__builtins__}}",
    "{{__builtins__.open}}",
    "{{FUNCTIONS}}",
    "{{impl(1)}}",
    "{{lower.impl(1)}}",
    "{{lower.__globals__}}",
    '{{LOWER("x")}}',
    '{{lower ("x")}}',
]

FILE_AND_ENV_READS = [
    '{{toBinary("/etc/passwd")}}',
    '{{toBinary("/etc/passwd"; base64)}}',
    '{{formatDate(now; YYYY; "../../../../etc/passwd")}}',
    '{{formatDate(now; YYYY; "/etc/passwd")}}',
    '{{formatDate(now; YYYY; "../../../../../proc/self/environ")}}',
    '{{parseDate("2024-01-01"; "YYYY-MM-DD"; "/proc/self/environ")}}',
    '{{formatDate(now; YYYY; "file:///etc/passwd")}}',
    '{{addDays("2024-01-01"; 1)}}',
    f"{{{{var.{CANARY}}}}}",
    "{{var.environ}}",
    "{{var.env.PATH}}",
    '{{get(var; "env")}}',
    "{{`/etc/passwd`}}",
    '{{decodeURL("file%3A%2F%2F%2Fetc%2Fpasswd")}}',
    '{{md5("/etc/passwd"; hex; "/etc/shadow"; hex)}}',
    '{{sha256("x"; hex; "/etc/shadow"; base64)}}',
]

PAYLOADS = ATTRIBUTE_WALKING + FORMAT_STRING_TRICKS + FUNCTION_NAME_TRICKS + FILE_AND_ENV_READS

PLAIN_TYPES = (str, int, float, bool, bytes, type(None), datetime)
LEAKS = (
    "<class",
    "<function",
    "<module",
    "<built-in",
    "object at 0x",
    "__globals__'",
    "mappingproxy",
    "<bound method",
    "root:x:0:0",
    CANARY,
)


def plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is Make data: JSON-like containers of plain scalars."""
    if depth > 50:
        return False
    if isinstance(value, list):
        return all(plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(type(k) is str and plain(v, depth + 1) for k, v in value.items())
    return type(value) in PLAIN_TYPES or repr(value) in ("IGNORE", "ERASE")


def leaks(value: Any) -> list[str]:
    text = repr(value)
    return [marker for marker in LEAKS if marker in text]


def run_hostile(source: str, watcher: SideEffects) -> Any:
    """Compile and evaluate ``source``; the outcome, or the user-facing exception."""
    context = EvalContext(bundles=BUNDLES, variables={"scenario": {"id": 1}})
    with time_limit(2.0), watcher.watching():
        try:
            return compile_template(source, where="hostile").evaluate(context)
        except (ExpressionError, DataError) as error:
            return error


@pytest.fixture(autouse=True)
def canary_in_environment(monkeypatch):
    monkeypatch.setenv("SB_SECRET_CANARY", CANARY)
    monkeypatch.setenv(CANARY, CANARY)


@pytest.mark.parametrize("source", PAYLOADS)
def test_escape_attempt_gives_plain_data_or_a_user_error(source):
    watcher = SideEffects()
    outcome = run_hostile(source, watcher)
    assert watcher.events == [], f"side effects: {watcher.events}"
    if isinstance(outcome, ExpressionError | DataError):
        assert not leaks(str(outcome)), str(outcome)
        return
    assert plain(outcome), f"{source} produced a non-data value: {outcome!r}"
    assert not leaks(outcome), f"{source} leaked {leaks(outcome)}: {outcome!r}"


@pytest.mark.parametrize(
    "source",
    [
        '{{eval("1+1")}}',
        '{{__import__("os")}}',
        '{{open("/etc/passwd")}}',
        '{{getattr(1; "__class__")}}',
        '{{exec("x")}}',
        "{{globals()}}",
    ],
)
def test_python_builtins_are_unknown_functions(source):
    with pytest.raises(ExpressionError, match="unknown function"):
        compile_template(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{1.__class__}}",
        "{{1.name.__class__}}",
        '{{get(1; "__class__")}}',
        "{{var.__class__}}",
        "{{1.items.__len__}}",
        "{{__proto__}}",
        "{{1.constructor.constructor}}",
    ],
)
def test_dunder_and_prototype_paths_are_empty(source):
    assert compile_template(source).evaluate(EvalContext(bundles=BUNDLES)) is None


def test_format_string_text_is_kept_literally():
    context = EvalContext(bundles=BUNDLES)
    assert compile_template("{{1.text}}!").evaluate(context) == "{0.__class__}!"
    replaced = compile_template('{{replace(1.name; "Ada"; "{0.__class__}")}}').evaluate(context)
    assert replaced == "{0.__class__}"


def test_mapper_keys_and_values_stay_data():
    mapper = compile_mapper({"__class__": "{{1.__class__}}", "{{1.name}}": ["{{1.n}}"]})
    result = mapper.evaluate(EvalContext(bundles=BUNDLES))
    assert result == {"__class__": None, "{{1.name}}": [3]}


def test_environment_is_not_reachable():
    os.environ["SB_SECRET_CANARY"] = CANARY
    context = EvalContext(bundles={}, variables={})
    for source in [
        "{{var.SB_SECRET_CANARY}}",
        "{{SB_SECRET_CANARY}}",
        "{{get(var; env)}}",
        "{{var.environ.SB_SECRET_CANARY}}",
    ]:
        assert compile_template(source).evaluate(context) in (None, ""), source


# -- the detector itself must be able to fail --------------------------------------------------


def test_the_side_effect_watcher_sees_a_file_open():
    watcher = SideEffects()
    with watcher.watching(), open(__file__, "rb"):
        pass
    assert [event for event, _ in watcher.events] == ["open"]


def test_the_side_effect_watcher_sees_a_socket_and_a_process():
    import socket
    import subprocess

    watcher = SideEffects()
    with watcher.watching():
        socket.socket().close()
        subprocess.run(["true"], check=True)
    names = {event for event, _ in watcher.events}
    assert "socket.__new__" in names and "subprocess.Popen" in names


def test_the_leak_check_sees_a_python_object():
    assert leaks(object()) and not plain(object())
    assert not plain(os)


def test_the_time_limit_interrupts_a_loop():
    from tests.security.guards import Hang

    started = time.process_time()
    with pytest.raises(Hang), time_limit(0.2):
        while True:
            pass
    assert time.process_time() - started < 1


def test_the_time_limit_interrupts_a_wait():
    from tests.security.guards import Hang

    started = time.monotonic()
    with pytest.raises(Hang), time_limit(0.02, wall=0.2):
        time.sleep(5)
    assert time.monotonic() - started < 4
