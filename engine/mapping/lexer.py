"""Tokens of one ``{{…}}`` expression.

The lexer never guesses: characters IML has no token for become ``error`` tokens, so the parser
can still read an argument such as ``HH:mm`` as bare text, and report a column when it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import ExpressionError

_TOKENS = r"""
     (?P<space>\s+)
    |(?P<close>\}\})
    |(?P<string>"(?:[^"]|"")*"|'(?:[^']|'')*')
    |(?P<backtick>`[^`]*`)
    |(?P<module>\d+(?=\.[^\W\d]|\.[`$]))
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<word>[^\W\d][\w$]*|\$[\w$]*)
    |(?P<op>STRICT<=|>=|!=|==|&&|\|\||[=<>&|+\-*/%])
    |(?P<punct>[().;COMMA\[\]])
    |(?P<error>.)
    """
_TOKEN = re.compile(_TOKENS.replace("STRICT", "").replace("COMMA", ""), re.VERBOSE | re.DOTALL)
_TOKEN_WITH_COMMAS = re.compile(
    _TOKENS.replace("STRICT", "===|!==|").replace("COMMA", ","), re.VERBOSE | re.DOTALL
)
"""An app definition's IML: ``,`` between arguments, and JavaScript's ``===``/``!==``."""

_SAME_AS = {"===": "==", "!==": "!="}


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


def tokenize_expression(
    source: str, start: int, where: str, *, commas: bool = False
) -> list[Token]:
    """Tokens from ``start`` up to and including the ``}}`` that closes the expression;
    ``commas``: the app dialect's ``,`` separators and ``===``/``!==`` (read as ``==``/``!=``).

    Raises:
        ExpressionError: an unterminated text literal or backtick name, or no closing ``}}``.
    """
    tokens: list[Token] = []
    position = start
    length = len(source)
    pattern = _TOKEN_WITH_COMMAS if commas else _TOKEN
    while position < length:
        match = pattern.match(source, position)
        assert match is not None  # the ``error`` alternative matches any character
        kind = match.lastgroup or "error"
        if kind == "error" and match.group() in "\"'`":
            name = "backtick name" if match.group() == "`" else "text literal"
            raise ExpressionError(f"unterminated {name}", where=where, column=position + 1)
        if kind != "space":
            text = _SAME_AS.get(match.group(), match.group())
            tokens.append(Token(kind, text, position, match.end()))
            if kind == "close":
                return tokens
        position = match.end()
    raise ExpressionError("'{{' is never closed with '}}'", where=where, column=start - 1)


def string_value(token: Token) -> str:
    """The text of a string literal; a doubled quote inside stands for one quote."""
    quote = token.text[0]
    return token.text[1:-1].replace(quote * 2, quote)
