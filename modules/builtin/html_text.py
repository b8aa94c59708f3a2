"""HTML as plain text, the way Make's "HTML to text" writes it, and the elements of an HTML page.

Block elements (paragraphs, headings, list items, table rows, ``<br>``) become line breaks,
headings may be upper-cased, links keep their address in brackets (``text [href]``) unless it
is the text itself, list items are bulleted (``*``) or numbered, scripts and styles are dropped
and runs of whitespace collapse as a browser collapses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

_SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_PARAGRAPHS = frozenset({"p", "blockquote", "pre", "table", "ul", "ol", "hr", *_HEADINGS})
_LINES = frozenset({"div", "tr", "li", "section", "article", "header", "footer", "dl", "dt", "dd"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr"})
_SPACES = re.compile(r"[ \t\r\n\f]+")


@dataclass
class _List:
    ordered: bool
    count: int = 0


@dataclass
class _Link:
    href: str
    start: int


@dataclass
class _TextWriter(HTMLParser):
    """Collects the text; ``parts`` are pieces of output, ``breaks`` pending line breaks."""

    uppercase_headings: bool = True
    parts: list[str] = field(default_factory=list)
    breaks: int = 0
    skipping: int = 0
    heading: int = 0
    pre: int = 0
    lists: list[_List] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += tag not in _VOID
            return
        if tag == "br":
            self._line_break(force=True)
        elif tag in _PARAGRAPHS:
            self._block(2)
        elif tag in _LINES:
            self._block(1)
        self._open(tag, dict(attrs))

    def _open(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag in _HEADINGS:
            self.heading += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append(_List(ordered=tag == "ol"))
        elif tag == "li":
            self._write(self._bullet())
        elif tag == "a":
            self.links.append(_Link(href=(attrs.get("href") or "").strip(), start=len(self.parts)))
        elif tag in ("td", "th") and self.parts and not self.breaks:
            self._write("\t")

    def _bullet(self) -> str:
        current = self.lists[-1] if self.lists else _List(ordered=False)
        current.count += 1
        return f"{current.count}. " if current.ordered else " * "

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
            return
        if tag in _HEADINGS:
            self.heading = max(0, self.heading - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "a" and self.links:
            self._close_link(self.links.pop())
        if tag in _PARAGRAPHS:
            self._block(2)
        elif tag in _LINES:
            self._block(1)

    def _close_link(self, link: _Link) -> None:
        text = "".join(self.parts[link.start :]).strip()
        if link.href and not link.href.startswith(("#", "javascript:")) and link.href != text:
            self._write(f" [{link.href}]" if text else f"[{link.href}]")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = data if self.pre else _SPACES.sub(" ", data)
        if not self.pre and (not self.parts or self.breaks or self.parts[-1].endswith(" ")):
            text = text.lstrip(" ")
        if text:
            self._write(text.upper() if self.heading and self.uppercase_headings else text)

    def _write(self, text: str) -> None:
        if self.breaks and self.parts:
            self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append("\n" * self.breaks)
        self.breaks = 0
        self.parts.append(text)

    def _block(self, lines: int) -> None:
        if self.parts:
            self.breaks = max(self.breaks, lines)

    def _line_break(self, force: bool = False) -> None:
        if force and self.parts:
            if self.breaks:
                self.breaks += 1
            else:
                self.parts[-1] = self.parts[-1].rstrip(" ")
                self.parts.append("\n")

    def text(self) -> str:
        lines = "".join(self.parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")


NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def html_to_text(html: str, *, newline: str = "lf", uppercase_headings: bool = True) -> str:
    """``html`` as plain text; ``newline`` is ``lf``, ``crlf`` or ``cr``."""
    writer = _TextWriter(uppercase_headings=uppercase_headings)
    writer.feed(html)
    writer.close()
    return writer.text().replace("\n", NEWLINES.get(newline, "\n"))


@dataclass
class _ElementCollector(HTMLParser):
    """Start tags named ``tag`` with their attributes (and, for links, their text)."""

    tag: str = "a"
    found: list[dict[str, Any]] = field(default_factory=list)
    open_links: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != self.tag:
            return
        element: dict[str, Any] = {name: value or "" for name, value in attrs}
        self.found.append(element)
        if tag == "a":
            element["text"] = ""
            self.open_links.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open_links:
            link = self.open_links.pop()
            link["text"] = _SPACES.sub(" ", link["text"]).strip()

    def handle_data(self, data: str) -> None:
        for link in self.open_links:
            link["text"] += data


def html_elements(html: str, tag: str) -> Iterator[dict[str, Any]]:
    """Every ``<tag>`` of ``html``: its attributes, and ``text`` for links."""
    collector = _ElementCollector(tag=tag)
    collector.feed(html)
    collector.close()
    yield from collector.found
