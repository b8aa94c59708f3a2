"""Make's Markdown app: Markdown to HTML."""

from __future__ import annotations

from engine.registry import default_registry
from tests.modules.helpers import call_module

COMPILE = default_registry()["markdown:Compile"]


def html(markdown, **options):
    [out] = call_module(COMPILE, {"data": markdown, **options})
    return out["data"]


def test_markdown_to_html_with_github_tables_and_strikethrough():
    text = "# Report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ **new**"
    assert html(text, gfm=True) == (
        "<h1>Report</h1>\n<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n"
        "<p><s>old</s> <strong>new</strong></p>\n"
    )
    assert html("~~old~~", gfm=False) == "<p>~~old~~</p>\n"


def test_sanitize_escapes_raw_html():
    assert html("hi <script>x()</script>", sanitize=True) == (
        "<p>hi &lt;script&gt;x()&lt;/script&gt;</p>\n"
    )
    assert html("hi <b>there</b>", sanitize=False) == "<p>hi <b>there</b></p>\n"
