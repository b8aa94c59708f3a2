"""Coverage-guided fuzzing with atheris (libFuzzer) for the three parsers that take untrusted
input: expressions, blueprints and webhook bodies. Not collected by pytest (no ``test_`` prefix);
``test_atheris.py`` runs each target briefly, and a long hunt is::

    .venv/bin/python -m tests.fuzz.atheris_targets expression -max_total_time=600
    .venv/bin/python -m tests.fuzz.atheris_targets blueprint -max_total_time=600
    .venv/bin/python -m tests.fuzz.atheris_targets webhook -max_total_time=600

A crash (any exception other than the documented user errors) stops the run, prints the input
and writes it to ``crash-<sha1>`` in the current directory.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

# Only our parsers are instrumented: instrumenting pydantic and friends takes minutes.
with atheris.instrument_imports(
    include=["engine.mapping", "engine.blueprint", "engine.filters", "engine.webhooks"]
):
    from engine.blueprint import load_blueprint
    from engine.errors import BlueprintError, DataError, ExpressionError
    from engine.filters import compile_filter
    from engine.mapping import EvalContext, compile_template
    from engine.webhooks import request_to_bundle

BUNDLES = {1: {"a": "9" * 400, "list": [1, "²", None, {"a": [1]}], "text": "ab,c"}, 2: [1.5]}


def expression(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    source = provider.ConsumeUnicodeNoSurrogates(200)
    try:
        template = compile_template("{{" + source + "}}")
        template.evaluate(EvalContext(bundles=BUNDLES, max_output=100_000))
        condition = {"a": "{{" + source + "}}", "o": "number:greater", "b": "1"}
        compile_filter({"conditions": [[condition]]}).passes(EvalContext(bundles=BUNDLES))
    except (ExpressionError, DataError):
        pass


def blueprint(data: bytes) -> None:
    try:
        load_blueprint(data)
    except BlueprintError as error:
        assert error.problems


CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]


def webhook(data: bytes) -> None:
    content_type = CONTENT_TYPES[data[0] % len(CONTENT_TYPES)] if data else ""
    with contextlib.suppress(DataError):
        request_to_bundle(
            method="POST", headers={"Content-Type": content_type}, query={}, body=data[1:]
        )


TARGETS = {"expression": expression, "blueprint": blueprint, "webhook": webhook}


def main(argv: list[str]) -> None:
    target = TARGETS[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
