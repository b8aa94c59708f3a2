"""Tokens of one ``{{…}}`` expression.

The lexer never guesses: characters IML has no token for become ``error`` tokens, so the parser
can still read an argument such as ``HH:mm`` as bare text, and report a column when it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import ExpressionError

_TOKEN = re.compile(
    r"""
     (?P<space>\s+)
    |(?P<close>\}\})
    |(?P<string>"(?:[^"]|"")*"|'(?:[^']|'')*')
    |(?P<backtick>`[^`]*`)
    |(?P<module>\d+(?=\.[^\W\d]|\.[`$]))
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<word>[^\W\d][\w$]*|\$[\w$]*)
    |(?P<op><=|>=|!=|==|&&|\|\||[=<>&|+\-*/%])
    |(?P<punct>[().;\[\]])
    |(?P<error>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is a group name of ``_TOKEN`` (or ``end``), ``text`` its source."""

    kind: str
    text: str
    start: int
    end: int

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.text == text


class SyntaxFailure(Exception):
    """A recoverable syntax problem at ``offset`` (the parser may re-read the text as bare text)."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def tokenize_expression(source: str, start: int, where: str) -> list[Token]:
    """Tokens from ``start`` up to and including the ``}}`` that closes the expression.

    Raises:
        ExpressionError: an unterminated text literal or backtick name, or no closing ``}}``.
    """
    tokens: list[Token] = []
    position = start
    length = len(source)
    while position < length:
        match = _TOKEN.match(source, position)
        assert match is not None  # the ``error`` alternative matches any character
        kind = match.lastgroup or "error"
        if kind == "error" and match.group() in "\"'`":
            name = "backtick name" if match.group() == "`" else "text literal"
            raise ExpressionError(f"unterminated {name}", where=where, column=position + 1)
        if kind != "space":
            tokens.append(Token(kind, match.group(), position, match.end()))
            if kind == "close":
                return tokens
        position = match.end()
    raise ExpressionError("'{{' is never closed with '}}'", where=where, column=start - 1)


def string_value(token: Token) -> str:
    """The text of a string literal; a doubled quote inside stands for one quote."""
    quote = token.text[0]
    return token.text[1:-1].replace(quote * 2, quote)
