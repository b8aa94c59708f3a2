"""Make's XML app: parse XML into a bundle (``xml:ParseXML``) and create XML from a structure
(``xml:TransformToXML``, "Create XML").

Make's conventions, both ways: the root element is a collection under its own name; every child
element is an array (an element may repeat), holding text for an element with only text, or a
collection for one with attributes or children; attributes sit in ``_attributes`` (namespace
declarations too) and the text beside children or attributes in ``_value``. Names keep their
prefixes as written (``sru:record``), so ``{{1.`sru:response`.`sru:records`[]}}`` maps as in Make.

Parsing refuses entity declarations and external references (``defusedxml``): a document cannot
expand into gigabytes or read files and URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from xml.dom.minidom import Element, Node
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.minidom import parseString
from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DataError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec

ATTRIBUTES = "_attributes"
VALUE = "_value"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?")
_TEXT_NODES = (Node.TEXT_NODE, Node.CDATA_SECTION_NODE)


class ParseXmlParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    preserveNumbersAsText: bool = Field(default=False, title="Preserve numbers as text")


class ParseXmlInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    xml: Any = Field(default=None, title="XML")


def parse_xml(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle: the root element's name → its content, by Make's conventions."""
    text = call.input_as(ParseXmlInput).xml
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    if text in (None, ""):
        raise DataError("the XML is empty")
    numbers = not call.parameters_as(ParseXmlParameters).preserveNumbersAsText
    yield parse_document(str(text), numbers=numbers)


def parse_document(text: str, *, numbers: bool = False) -> dict[str, Any]:
    """The root element's name → its content, by Make's conventions (see the module docstring).

    Raises:
        DataError: the XML is not well-formed, or declares entities or external references.
    """
    root = _document_root(text)
    return {root.tagName: _content(root, numbers, as_root=True)}


def _document_root(text: str) -> Element:
    try:
        root = parseString(text.lstrip("\ufeff").strip()).documentElement
    except DefusedXmlException as error:
        raise DataError(f"the XML was refused: {type(error).__name__} ({error})") from None
    except ExpatError as error:
        raise DataError(f"the XML is not well-formed: {error}") from None
    if root is None:  # expat refuses a document without one; minidom's type allows it
        raise DataError("the XML has no root element")
    return root


def _content(element: Element, numbers: bool, *, as_root: bool = False) -> Any:
    attributes = {name: value for name, value in element.attributes.items()}
    children: dict[str, list[Any]] = {}
    text_parts: list[str] = []
    for node in element.childNodes:
        if node.nodeType == Node.ELEMENT_NODE:
            children.setdefault(node.tagName, []).append(_content(node, numbers))
        elif node.nodeType in _TEXT_NODES:
            text_parts.append(node.data)
    text = "".join(text_parts).strip()
    if not attributes and not children and not as_root:
        return _scalar(text, numbers)
    content: dict[str, Any] = {ATTRIBUTES: attributes} if attributes else {}
    content.update(children)
    if text:
        content[VALUE] = _scalar(text, numbers)
    return content


def _scalar(text: str, numbers: bool) -> Any:
    if numbers and _NUMBER.fullmatch(text):
        number = float(text)
        return (
            int(number)
            if number.is_integer() and "." not in text and "e" not in text.lower()
            else number
        )
    return text


def transform_to_xml(call: ModuleCall) -> Iterator[Bundle]:
    """``xml``: the mapped structure as an XML document (one top-level key is the root)."""
    structure = {k: v for k, v in call.input.model_dump().items() if v is not None}
    name, content = _root_of(structure)
    body = "".join(_elements(name, content, f"mapper.{name}"))
    yield {"xml": f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'}


def _root_of(structure: Mapping[str, Any]) -> tuple[str, Any]:
    if len(structure) == 1:
        [(name, content)] = structure.items()
        if not isinstance(content, list):
            return name, content
    return "root", dict(structure)


def _elements(name: str, content: Any, where: str) -> Iterator[str]:
    """The element ``name`` for ``content``; an array repeats the element once per item."""
    if not _NAME.fullmatch(name):
        raise DataError(f"{where}: '{name}' cannot be an XML element name")
    items = content if isinstance(content, list) else [content]
    for index, item in enumerate(items):
        yield _element(name, item, f"{where}[{index}]" if isinstance(content, list) else where)


def _element(name: str, content: Any, where: str) -> str:
    if not isinstance(content, Mapping):
        return f"<{name}>{escape(_text(content))}</{name}>"
    attributes = "".join(_attributes(content.get(ATTRIBUTES), where))
    inner = escape(_text(content.get(VALUE))) if content.get(VALUE) is not None else ""
    for child, value in content.items():
        if child not in (ATTRIBUTES, VALUE) and value is not None:
            inner += "".join(_elements(str(child), value, f"{where}.{child}"))
    return f"<{name}{attributes}>{inner}</{name}>" if inner else f"<{name}{attributes}/>"


def _attributes(attributes: Any, where: str) -> Iterator[str]:
    if not isinstance(attributes, Mapping):
        return
    for name, value in attributes.items():
        if not _NAME.fullmatch(str(name)):
            raise DataError(f"{where}._attributes: '{name}' cannot be an attribute name")
        if value is not None:
            yield f" {name}={quoteattr(_text(value))}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class XmlOutput(BaseModel):
    xml: str


_DATA_STRUCTURE = (
    "the data structure describes the document for the editor; Switchboard reads (or writes) "
    "every element the document has, whether the structure names it or not"
)

XML_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="xml:ParseXML",
        kind=ModuleKind.ACTION,
        label="Parse XML",
        parameters=ParseXmlParameters,
        input=ParseXmlInput,
        run=parse_xml,
        ignored_keys={"type": _DATA_STRUCTURE},
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="xml:TransformToXML",
        kind=ModuleKind.ACTION,
        label="Create XML",
        output=XmlOutput,
        run=transform_to_xml,
        free_form=frozenset({"mapper"}),
        ignored_keys={"type": _DATA_STRUCTURE},
        effect=Effect.COMPUTE,
    ),
)
