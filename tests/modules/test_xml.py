"""Make's XML app: Parse XML and Create XML, and a corpus blueprint that reads two XML APIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DataError
from engine.registry import default_registry
from tests.modules.corpus_runs import LocalServer, run_corpus_blueprint
from tests.modules.helpers import call_module

REGISTRY = default_registry()
FIXTURES = Path(__file__).parent / "fixtures"


def parse(xml, **parameters):
    [bundle] = call_module(REGISTRY["xml:ParseXML"], {"xml": xml}, parameters)
    return bundle


def test_parse_xml_follows_makes_conventions():
    xml = (
        '<?xml version="1.0"?><shop xmlns:x="urn:x" id="7"><x:name>Pens &amp; ink</x:name>'
        '<item sku="a1"><qty>2</qty><price>1.50</price></item><item sku="b2"><qty>010</qty>'
        "</item><note><![CDATA[<b>raw</b>]]></note><empty/></shop>"
    )
    assert parse(xml) == {
        "shop": {
            "_attributes": {"xmlns:x": "urn:x", "id": "7"},
            "x:name": ["Pens & ink"],
            "item": [
                {"_attributes": {"sku": "a1"}, "qty": [2], "price": [1.5]},
                {"_attributes": {"sku": "b2"}, "qty": ["010"]},
            ],
            "note": ["<b>raw</b>"],
            "empty": [""],
        }
    }


def test_parse_xml_keeps_numbers_as_text_when_asked():
    assert parse("<r><n>12</n></r>", preserveNumbersAsText=True) == {"r": {"n": ["12"]}}


def test_parse_xml_text_beside_attributes_is_the_value():
    assert parse('<r><t lang="en">Hello <i>x</i> world</t></r>') == {
        "r": {"t": [{"_attributes": {"lang": "en"}, "i": ["x"], "_value": "Hello  world"}]}
    }


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("", "empty"),
        ("<a><b></a>", "not well-formed"),
        ('<!DOCTYPE r [<!ENTITY e "eeee">]><r>&e;</r>', "refused"),
        ('<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>', "refused"),
    ],
)
def test_parse_xml_refuses_broken_and_dangerous_documents(xml, message):
    with pytest.raises(DataError, match=message):
        parse(xml)


def test_create_xml_writes_attributes_values_and_repeated_elements():
    structure = {
        "invoice": {
            "_attributes": {"id": 7, "paid": False},
            "customer": {"_value": "Ann & Co", "_attributes": {"vip": True}},
            "line": [{"sku": "a<1>", "qty": 2}, {"sku": "b"}],
            "note": None,
        }
    }
    [out] = call_module(REGISTRY["xml:TransformToXML"], structure)
    assert out["xml"] == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<invoice id="7" paid="false"><customer vip="true">Ann &amp; Co</customer>'
        "<line><sku>a&lt;1&gt;</sku><qty>2</qty></line><line><sku>b</sku></line></invoice>"
    )


def test_create_xml_round_trips_through_parse_xml():
    structure = {"order": {"_attributes": {"n": "1"}, "item": [{"name": "pen"}, {"name": "ink"}]}}
    [out] = call_module(REGISTRY["xml:TransformToXML"], structure)
    assert parse(out["xml"]) == {
        "order": {"_attributes": {"n": "1"}, "item": [{"name": ["pen"]}, {"name": ["ink"]}]}
    }


def test_create_xml_refuses_a_name_xml_cannot_carry():
    with pytest.raises(DataError, match=r"mapper\.order\.bad name: 'bad name' cannot be"):
        call_module(REGISTRY["xml:TransformToXML"], {"order": {"bad name": 1}})


def _xml(name):
    body = (FIXTURES / name).read_text(encoding="utf-8")
    return lambda: (body, 200, {"content-type": "application/xml"})


def test_corpus_frbr_extraction_reads_both_xml_documents():
    """Omoze5's FRBR XML Extraction: SRU search → Parse XML → iterate records → follow the XML
    manifestation's URL → Parse XML → one Google Sheets row (stubbed) per record."""
    server = LocalServer(
        routes={"/sru": _xml("sru-response.xml"), "/gmb-2026-4711.xml": _xml("gemeenteblad.xml")}
    )
    run = run_corpus_blueprint(
        "Omoze5__AI-Automation-Projects__FRBR_XML_Extraction.blueprint_1_.json",
        server,
        stubs=("google-sheets:addRow",),
    )
    assert run.record["status"] == "success", run.record.get("error")
    assert [r["path"] for r in server.seen] == ["/sru", "/gmb-2026-4711.xml"]
    [row] = run.stub_calls["google-sheets:addRow"]
    values = row["values"]
    assert values["0"] == "gmb-2026-4711"
    assert values["2"] == "gmb"  # get(split(identifier; "-"); 1)
    assert values["3"] == "Omgevingsvergunning Dorpsstraat 1"
    assert values["4"] == "gemeenteblad"  # dcterms:type[]._value
    assert values["5"] == "Utrecht"
    assert values["11"] == "Verleende omgevingsvergunning"
    assert values["13"] == "Zaaknummer HZ-2026-0815"  # al[4]
    assert values["15"] == "Dorpsstraat 1, 3512 AB Utrecht"  # al[1]
