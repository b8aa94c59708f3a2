"""Compile errors name the place and column; run-time failures are DataErrors naming the
function; hostile templates are bounded."""

from __future__ import annotations

import time

import pytest

from engine.errors import DataError, ExpressionError
from engine.mapping import compile_mapper, compile_template
from engine.mapping.parser import MAX_DEPTH, MAX_NESTING
from tests.mapping.world import evaluate, make_context


def error_case(template, reason, column):
    return pytest.param(template, reason, column, id=template[:60])


COMPILE_ERRORS = [
    error_case("{{1.name", "'{{' is never closed with '}}'", 1),
    error_case("text {{1.name} more", "'{{' is never closed with '}}'", 6),
    error_case("{{nope(1)}}", "unknown function 'nope'", 3),
    error_case("{{upper(nope(1))}}", "unknown function 'nope'", 9),
    error_case(
        "{{formatdate(now; X)}}", "unknown function 'formatdate' (did you mean 'formatDate'?)", 3
    ),
    error_case("{{lower()}}", "function 'lower' needs at least 1 argument(s), got 0", 3),
    error_case("{{lower(1; 2)}}", "function 'lower' takes at most 1 argument(s), got 2", 3),
    error_case("{{if(1; 2)}}", "function 'if' needs at least 3 argument(s), got 2", 3),
    error_case("{{1 +}}", "unexpected end of the expression", 6),
    error_case('{{"abc}}', "unterminated text literal", 3),
    error_case("{{`abc}}", "unterminated backtick name", 3),
    error_case("{{(1 + 2}}", "expected ')' but found the end of the expression", 9),
    error_case("{{1.}}", "unexpected '.'", 4),
    error_case("{{1.a.}}", "expected a name after '.', found the end of the expression", 7),
    error_case("{{)}}", "unexpected ')'", 3),
    error_case("{{1 2}}", "unexpected '2'", 5),
    error_case("{{1.a[}}", "unexpected end of the expression", 7),
    error_case(
        '{{upper("a" "b")}}', "expected ';' or ')' in the arguments of 'upper', found '\"b\"'", 13
    ),
    error_case(
        "{{if(1.name = Ada Lovelace; 1; 2)}}",
        "expected ';' or ')' in the arguments of 'if', found 'Lovelace'",
        19,
    ),
    error_case("{{1.a ! 2}}", "unexpected '!'", 7),
    error_case("{{upper(1; }}", "unexpected end of the expression", 12),
    error_case("{{upper(1 ]}}", "expected ';' or ')' in the arguments of 'upper', found ']'", 11),
    error_case(
        "{{" + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1) + "}}",
        f"expression is nested more than {MAX_NESTING} levels deep",
        MAX_NESTING + 3,
    ),
    error_case(
        "{{" + "1+" * (MAX_DEPTH + 1) + "1}}",
        f"expression is more than {MAX_DEPTH} operations deep",
        2 * MAX_DEPTH + 2,
    ),
    error_case(
        "{{" + "-" * 40 + "1}}",
        f"expression is nested more than {MAX_NESTING} levels deep",
        MAX_NESTING + 3,
    ),
]


@pytest.mark.parametrize(("template", "reason", "column"), COMPILE_ERRORS)
def test_compile_error(template, reason, column):
    with pytest.raises(ExpressionError) as caught:
        compile_template(template, where="module 3, mapper.url")
    error = caught.value
    assert error.reason == reason
    assert error.where == "module 3, mapper.url"
    assert error.column == column
    assert str(error) == f"module 3, mapper.url, column {column}: {reason}"


def test_mapper_errors_name_the_json_path():
    with pytest.raises(ExpressionError) as caught:
        compile_mapper(
            {"headers": [{"name": "a", "value": "{{nope(1)}}"}]}, where="module 3, mapper"
        )
    assert caught.value.where == "module 3, mapper.headers[0].value"


def run_error(template, message, **context):
    return pytest.param(template, message, context, id=template[:60])


RUN_ERRORS = [
    run_error(
        '{{parseDate("xx"; "YYYY-MM-DD")}}',
        "Function 'parseDate' finished with error! text 'xx' does not match the date "
        "format 'YYYY-MM-DD'",
    ),
    run_error(
        '{{parseDate("2024-02-30"; "YYYY-MM-DD")}}',
        "Function 'parseDate' finished with error! text '2024-02-30' is not a valid date",
    ),
    run_error(
        '{{formatDate("not a date"; "YYYY")}}',
        "Function 'formatDate' finished with error! text 'not a date' is not a date",
    ),
    run_error(
        '{{formatDate(now; "")}}', "Function 'formatDate' finished with error! the format is empty"
    ),
    run_error("{{1 / 0}}", "Operator '/' failed: division by zero"),
    run_error("{{1 % 0}}", "Operator '%' failed: modulo by zero"),
    run_error('{{"abc" - 1}}', "Operator '-' failed: text 'abc' is not a number"),
    run_error('{{-"abc"}}', "Operator '-' cannot use text 'abc' is not a number"),
    run_error('{{abs("x")}}', "Function 'abs' finished with error! text 'x' is not a number"),
    run_error(
        "{{abs(1.missing)}}",
        "Function 'abs' finished with error! the value is empty, a number is required",
    ),
    run_error(
        '{{replace("a"; "/(/"; "b")}}',
        "Function 'replace' finished with error! invalid regular expression '('",
    ),
    run_error(
        '{{mergeCollections("x")}}',
        "Function 'mergeCollections' finished with error! text 'x' is not a collection",
    ),
    run_error("{{keys(1.tags)}}", "Function 'keys' finished with error! array is not a collection"),
    run_error(
        '{{toBinary("zz"; hex)}}', "Function 'toBinary' finished with error! text is not valid hex"
    ),
    run_error(
        '{{toBinary("zz"; rot13)}}',
        "Function 'toBinary' finished with error! unknown encoding 'rot13'",
    ),
    run_error(
        '{{replace("aaa"; "/(?:a{1000}){1000}/"; "b")}}',
        "Function 'replace' finished with error! the regular expression '(?:a{1000}){1000}' "
        "repeats too much: it would compile to 1,002,002 steps, over the limit of 20,000",
    ),
    run_error(
        "{{sort(1.tags; sideways)}}",
        "Function 'sort' finished with error! unknown sort order 'sideways'",
    ),
    run_error(
        '{{setDay(now; "Funday")}}',
        "Function 'setDay' finished with error! 'Funday' is not a day of the week",
    ),
    run_error(
        "{{round(1; 1000)}}", "Function 'round' finished with error! decimals must be between"
    ),
    run_error(
        "{{addDays(now; 100000000)}}",
        "Function 'addDays' finished with error! the resulting date is out of range",
    ),
    run_error(
        '{{sha256("a"; rot13)}}',
        "Function 'sha256' finished with error! unknown digest encoding 'rot13'",
    ),
    run_error('{{upper(parseDate("x"; "YYYY"))}}', "Function 'parseDate' finished with error!"),
    run_error(
        '{{join(split("a,b,c,d,e,f"; ","); "----")}}',
        "Function 'join' produced a value larger than the limit of 10",
        max_output=10,
    ),
    run_error("{{1.name}} and more text", "larger than the limit of 10", max_output=10),
    run_error(
        '{{"abcdef" + "ghijkl"}}',
        "Operator '+' produced a value larger than the limit",
        max_output=10,
    ),
]


@pytest.mark.parametrize(("template", "message", "context"), RUN_ERRORS)
def test_run_error(template, message, context):
    with pytest.raises(DataError) as caught:
        evaluate(template, **context)
    assert message in str(caught.value)
    assert caught.value.type == "DataError"


def test_catastrophic_regex_is_cut_off():
    template = compile_template('{{replace(1.text; "/(x+x+)+y/"; "z")}}')
    hostile = {1: {"text": "x" * 5000}}
    started = time.perf_counter()
    with pytest.raises(DataError, match="Function 'replace' finished with error!"):
        template.evaluate(make_context(bundles=hostile))
    assert time.perf_counter() - started < 5


def test_exponential_growth_hits_the_output_limit():
    doubling = '"a"'
    for _ in range(30):
        doubling = f'replace({doubling}; "a"; "aa")'  # each level doubles the text
    template = compile_template("{{" + doubling + "}}")
    with pytest.raises(DataError, match="larger than the limit"):
        template.evaluate(make_context(max_output=1_000_000))


def test_no_python_attribute_access():
    context = make_context(bundles={1: {"__class__": "only data"}})
    assert compile_template("{{1.__class__}}").evaluate(context) == "only data"
    assert compile_template("{{1.name.__class__}}").evaluate(context) is None
    assert compile_template("{{1.upper}}").evaluate(make_context(bundles={1: "text"})) is None


def test_deep_mapper_is_refused():
    value: object = "leaf"
    for _ in range(100):
        value = {"k": value}
    with pytest.raises(ExpressionError, match="nested more than"):
        compile_mapper(value, where="module 1, mapper")


def test_unknown_time_zone_falls_back_to_the_scenario_zone_with_a_warning():
    context = make_context(timezone="Europe/Prague")
    template = compile_template('{{formatDate(now; "HH:mm"; "Mars/Olympus")}}')
    assert template.evaluate(context) == "13:00"
    assert context.warnings == ["unknown time zone 'Mars/Olympus'; using Europe/Prague"]


def _deep_list(depth):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_deeply_nested_data_is_a_data_error_not_a_crash():
    context = make_context(bundles={1: {"deep": _deep_list(5000)}, 2: {"deep": _deep_list(5000)}})
    with pytest.raises(DataError, match="nested too deeply"):
        compile_template("x {{1.deep}}").evaluate(context)
    with pytest.raises(DataError, match="Operator '=' failed"):
        compile_template("{{1.deep = 2.deep}}").evaluate(context)
    with pytest.raises(DataError, match="Function 'toString' finished with error!"):
        compile_template("{{toString(1.deep)}}").evaluate(context)
    assert compile_template("{{length(flatten(1.deep; 100))}}").evaluate(context) == 1
