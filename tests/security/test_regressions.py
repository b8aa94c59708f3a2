"""One regression test per bug the security and fuzz suites found; each failed before its fix.

The broader suites (``test_expression_limits.py``, ``tests/fuzz/``) cover the same ground with
many more inputs; these pin the exact shape that broke.
"""

from __future__ import annotations

import tracemalloc

from engine.errors import BlueprintError, DataError, ExpressionError
from engine.mapping import EvalContext, compile_template


def _doubled(times: int) -> str:
    expression = '"a"'
    for _ in range(times):
        expression = f'replace({expression}; "a"; "aa")'
    return expression


def _peak_while_refused(source: str, limit: int) -> int:
    tracemalloc.start()
    try:
        try:
            compile_template(source).evaluate(EvalContext(bundles={}, max_output=limit))
        except DataError as error:
            assert "larger than the limit" in str(error)
        else:
            raise AssertionError("the over-limit value was accepted")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_replace_by_itself_is_refused_before_the_quadratic_value_is_built():
    # 8,192 "a" each replaced by 8,192 "a": 67 million characters (17 GB at 2**17).
    text = _doubled(13)
    assert _peak_while_refused(f'{{{{replace({text}; "a"; {text})}}}}', 10_000) < 5_000_000


def test_join_with_a_long_separator_is_refused_before_it_is_built():
    text = _doubled(13)
    assert _peak_while_refused(f"{{{{join(split({text}; emptystring); {text})}}}}", 10_000) < (
        5_000_000
    )


def _outcome(source: str, bundles: dict | None = None) -> object:
    try:
        return compile_template(source).evaluate(EvalContext(bundles=bundles or {}))
    except (ExpressionError, DataError) as error:
        return error


def test_a_number_literal_of_thousands_of_digits_is_a_number():
    # int() of more than 4,300 digits raises ValueError; it escaped the parser.
    assert _outcome("{{" + "9" * 5000 + "}}") == float("inf")
    assert _outcome("{{" + "9" * 20 + "}}") == 1e20


def test_a_huge_module_id_is_an_expression_error():
    assert isinstance(_outcome("{{" + "9" * 5000 + ".x}}"), ExpressionError)
    assert _outcome("{{`" + "9" * 5000 + "`}}") is None


def test_a_backtick_name_of_non_decimal_digits_is_a_word():
    # "²".isdigit() is true but int("²") raises ValueError.
    assert _outcome("{{`²`}}") is None


def test_numeric_text_of_hundreds_of_digits_is_a_data_error_not_an_overflow():
    # "9" * 400 raised OverflowError and "9" * 5000 ValueError out of every operator.
    bundles = {1: {"wide": "9" * 400, "huge": "9" * 5000}}
    for source in ["{{1.wide * 1}}", "{{1.huge * 1}}", "{{-1.wide}}"]:
        assert isinstance(_outcome(source, bundles), DataError), source
    assert _outcome("{{1.huge > 1}}", bundles) is True  # compared as text
    assert _outcome("{{1.huge = 1}}", bundles) is False
    assert _outcome('{{"12345678901234567890" * 1}}') == 1.2345678901234567e19


def test_a_number_filter_on_huge_numeric_text_is_false():
    from engine.filters import compile_filter

    condition = {"a": "{{1.huge}}", "o": "number:greater", "b": "1"}
    context = EvalContext(bundles={1: {"huge": "9" * 5000}})
    assert compile_filter({"conditions": [[condition]]}).passes(context) is False


def test_odd_indexes_are_empty_not_a_value_error():
    # int("²"), int("9" * 5000), int(float("inf")) and int(float("nan")) all raised.
    bundles = {
        1: {
            "list": [1, 2],
            "sup": "²",
            "huge": "9" * 5000,
            "inf": float("inf"),
            "nan": float("nan"),
        }
    }
    for source in [
        '{{1.list["²"]}}',
        "{{1.list[1.sup]}}",
        "{{1.list[1.huge]}}",
        "{{1.list[1.inf]}}",
        "{{1.list[1.nan]}}",
        '{{get(1.list; "²")}}',
        "{{get(1.list; 1.inf)}}",
    ]:
        assert _outcome(source, bundles) is None, source
    assert _outcome("{{1.list[2.5]}}", bundles) == 2
    assert _outcome('{{1.list[" 2 "]}}', bundles) == 2


def test_parse_date_of_a_huge_millisecond_timestamp_is_a_data_error():
    # datetime.fromtimestamp raised OSError (EOVERFLOW), which no caller expected.
    for source in [
        '{{parseDate("99999999999999999999"; x)}}',
        '{{parseDate("-99999999999999999999"; x)}}',
        '{{parseDate("99999999999999999999"; X)}}',
    ]:
        assert isinstance(_outcome(source), DataError), source
    assert _outcome('{{formatDate(parseDate("86400000"; x); "YYYY-MM-DD")}}') == "1970-01-02"


def _blueprint_error(source: object) -> BlueprintError:
    from engine.blueprint import load_blueprint

    try:
        load_blueprint(source)
    except BlueprintError as error:
        return error
    raise AssertionError("the blueprint was accepted")


def test_blueprint_json_nested_beyond_the_recursion_limit_is_a_blueprint_error():
    # json.loads raised RecursionError, and an integer of 5,000 digits ValueError.
    assert "nested too deeply" in str(_blueprint_error("[" * 100_000))
    assert _blueprint_error('{"name": "x", "flow": [], "n": ' + "1" * 5000 + "}").problems


def test_a_blueprint_too_deep_to_export_again_is_refused_with_its_path():
    from engine.blueprint import export_blueprint, load_blueprint

    def nested(levels: int) -> object:
        value: object = "x"
        for _ in range(levels):
            value = [value]
        return value

    def blueprint(levels: int) -> dict:
        return {"name": "x", "flow": [{"id": 1, "module": "a:b", "mapper": {"x": nested(levels)}}]}

    assert export_blueprint(load_blueprint(blueprint(150)))["flow"][0]["mapper"]["x"]
    # 300 levels loaded, then export raised PydanticSerializationError.
    [problem] = _blueprint_error(blueprint(300)).problems
    assert problem.path.startswith("flow[0].mapper.x[0][0]")


def test_a_webhook_body_nested_too_deeply_is_a_data_error():
    # RecursionError and ValueError escaped request_to_bundle: a 500 at the ingress.
    from engine.webhooks import request_to_bundle

    for body in [b"[" * 100_000, b'{"n": ' + b"1" * 5000 + b"}"]:
        try:
            request_to_bundle(
                method="POST", headers={"Content-Type": "application/json"}, query={}, body=body
            )
        except DataError as error:
            assert "not valid JSON" in error.message
        else:
            raise AssertionError("the body was accepted")


def test_nan_and_infinity_in_blueprint_text_are_refused_not_exported_as_null():
    # json.loads accepted them; export gave null, breaking the lossless round trip.
    for constant in ["NaN", "Infinity", "-Infinity"]:
        error = _blueprint_error('{"name": "x", "flow": [], "zz": ' + constant + "}")
        assert constant in str(error)


def test_a_malformed_url_is_refused_by_the_ssrf_guard_not_a_value_error():
    # urlsplit raises ValueError on .port/.hostname for these; it escaped the HTTP modules.
    from modules.http.guard import BlockedAddressError, check_url

    for url in ["http://93.184.216.34:99999/", "http://[::1/", "http://127.0.0.1:80:80/"]:
        try:
            check_url(url, allow_private_network=False)
        except BlockedAddressError as error:
            assert "not valid" in str(error)
        else:
            raise AssertionError(f"{url} passed the guard")


def test_a_backslash_before_the_userinfo_does_not_hide_an_internal_host():
    # urlsplit saw 93.184.216.34 (after "@"); requests connected to 127.0.0.1.
    from modules.http.guard import BlockedAddressError, check_url

    for url in ["http://127.0.0.1:8080\\@93.184.216.34/", "http://169.254.169.254\\@8.8.8.8/"]:
        try:
            check_url(url, allow_private_network=False)
        except BlockedAddressError as error:
            assert "127.0.0.1" in str(error) or "169.254.169.254" in str(error)
        else:
            raise AssertionError(f"{url} passed the guard")


def test_shared_6to4_and_site_local_addresses_are_internal():
    # 100.64.0.0/10 is neither private nor global in ipaddress; 6to4 and fec0::/10 passed too.
    from modules.http.guard import BlockedAddressError, check_url

    for url in [
        "http://100.100.100.200/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[2002:7f00:1::]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[fec0::1]/",
    ]:
        try:
            check_url(url, allow_private_network=False)
        except BlockedAddressError:
            pass
        else:
            raise AssertionError(f"{url} passed the guard")
    check_url("http://[2002:5db8:d822::]/", allow_private_network=False)  # 6to4 of a public one


def test_a_connection_error_does_not_carry_an_api_key_placed_in_the_query():
    # The message named "url: /closed?key=<the key>" and went into the execution record.
    import requests

    from engine.errors import ConnectionError
    from modules.http.request import HttpRequest, send

    request = HttpRequest(
        method="GET", url="http://127.0.0.1:9/closed", params=[("key", "sk_live_leak")]
    )
    try:
        send(requests.Session(), request, allow_private_network=True)
    except ConnectionError as error:
        assert "sk_live_leak" not in str(error) and "127.0.0.1:9/closed" in str(error)
    else:
        raise AssertionError("port 9 answered")


def test_many_references_to_one_big_value_are_refused_before_their_text_is_built():
    # A 27 KB template over a 100 KB value built 300 MB of text before the size check
    # (template length x input size: gigabytes with a 5 MB webhook body).
    bundles = {1: {"big": "x" * 100_000}}
    many = "; ".join(["1.big"] * 3000)
    for source in [
        "{{1.big}}" * 3000,
        f"{{{{toString(add(emptyarray; {many}))}}}}",
        f"<{{{{add(emptyarray; {many})}}}}>",
    ]:
        tracemalloc.start()
        try:
            context = EvalContext(bundles=bundles, max_output=1_000_000)
            try:
                compile_template(source).evaluate(context)
            except DataError:
                pass
            else:
                raise AssertionError("accepted")
            assert tracemalloc.get_traced_memory()[1] < 50_000_000
        finally:
            tracemalloc.stop()
