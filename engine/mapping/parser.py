"""Recursive-descent parser for one ``{{…}}`` expression.

Grammar::

    expression := binary
    binary     := unary (OP unary)*     weakest first: | & (= !=) (< > <= >=) (+ -) (* / %)
    unary      := ("-" | "+") unary | postfix
    postfix    := primary ("." segment | "[" expression? "]")*
    primary    := NUMBER | STRING | MODULE | `N` | "(" expression ")"
                | WORD "(" arguments ")" | "var" | ROOT | KEYWORD | WORD ("." segment)*
    arguments  := argument (";" argument)*     an argument may be empty or bare text

A ``ROOT`` is a name of the dialect's scopes (``parameters``, ``body`` … in an app definition,
none in a scenario); the app dialect also separates arguments with ``,``.

An argument that is not a valid expression, or that does arithmetic on bare words, is read as
bare text (``formatDate(now; YYYY-MM-DD HH:mm)``), unless it contains quotes, backticks,
parentheses, braces or a comparison/logical operator, in which case the syntax error stands.
"""

from __future__ import annotations

from engine.errors import ExpressionError
from engine.mapping.dialect import SCENARIO, Dialect
from engine.mapping.lexer import SyntaxFailure, Token, string_value
from engine.mapping.nodes import (
    KEYWORDS,
    Binary,
    Bundle,
    Call,
    Literal,
    Logical,
    Negate,
    Node,
    Path,
    Scope,
    Variables,
    Word,
    keyword_node,
)
from engine.mapping.operators import PRECEDENCE
from engine.mapping.paths import SPREAD, Key
from engine.mapping.values import normalize_number

MAX_NESTING = 32
"""Deepest nesting of parentheses, calls, indexes and unary operators in one expression."""

MAX_DEPTH = 256
"""Deepest syntax tree (long operator chains count too), so evaluation never recurses deeply."""

MAX_MODULE_ID_DIGITS = 15
"""Longest module id (``{{123.x}}``) read as a number."""

_SEGMENT_KINDS = frozenset({"word", "backtick", "number", "module"})
_NOT_BARE_TEXT = frozenset({"string", "backtick", "close"})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})


class Parser:
    """Parses the tokens of one expression of ``source`` (raises ``ExpressionError``)."""

    def __init__(
        self, source: str, tokens: list[Token], where: str, dialect: Dialect = SCENARIO
    ) -> None:
        self.source = source
        self.tokens = tokens
        self.where = where
        self.dialect = dialect
        self.position = 0
        self.nesting = 0

    # -- entry ---------------------------------------------------------------------------------

    def parse_root(self) -> Node:
        """The whole expression up to its closing ``}}``; an empty ``{{}}`` is empty."""
        try:
            if self._peek().kind == "close":
                return Literal(None)
            node = self._expression()
            if self._peek().kind != "close":
                raise SyntaxFailure(self._unexpected(self._peek()), self._peek().start)
            return node
        except SyntaxFailure as failure:
            raise ExpressionError(
                failure.reason, where=self.where, column=failure.offset + 1
            ) from None

    # -- tokens --------------------------------------------------------------------------------

    def _peek(self, ahead: int = 0) -> Token:
        index = min(self.position + ahead, len(self.tokens) - 1)
        return self.tokens[index]

    def _advance(self) -> Token:
        token = self._peek()
        if self.position < len(self.tokens) - 1:
            self.position += 1
        return token

    def _expect_punct(self, text: str) -> Token:
        token = self._peek()
        if not token.is_punct(text):
            raise SyntaxFailure(f"expected '{text}' but found {self._describe(token)}", token.start)
        return self._advance()

    @staticmethod
    def _describe(token: Token) -> str:
        return "the end of the expression" if token.kind == "close" else f"'{token.text}'"

    def _unexpected(self, token: Token) -> str:
        if token.kind == "close":
            return "unexpected end of the expression"
        return f"unexpected '{token.text}'"

    def _enter(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExpressionError(
                f"expression is nested more than {MAX_NESTING} levels deep",
                where=self.where,
                column=token.start + 1,
            )

    def _checked(self, node: Node, token: Token) -> Node:
        if node.depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression is more than {MAX_DEPTH} operations deep",
                where=self.where,
                column=token.start + 1,
            )
        return node

    # -- expressions ---------------------------------------------------------------------------

    def _expression(self) -> Node:
        return self._binary(1)

    def _binary(self, weakest: int) -> Node:
        left = self._unary()
        while True:
            token = self._peek()
            strength = PRECEDENCE.get(token.text, 0) if token.kind == "op" else 0
            if strength < weakest:
                return left
            self._advance()
            right = self._binary(strength + 1)
            node: Node = (
                Logical(token.text, left, right)
                if token.text in ("&", "&&", "|", "||")
                else Binary(token.text, left, right)
            )
            left = self._checked(node, token)

    def _unary(self) -> Node:
        token = self._peek()
        if token.kind == "op" and token.text in ("-", "+"):
            self._advance()
            self._enter(token)
            operand = self._unary()
            self.nesting -= 1
            if isinstance(operand, Literal) and isinstance(operand.value, int | float):
                value = -operand.value if token.text == "-" else operand.value
                return Literal(normalize_number(value))
            return self._checked(Negate(operand, token.text), token)
        return self._postfix()

    def _postfix(self) -> Node:
        node, accepts_steps = self._primary()
        steps: list[object] = []
        while accepts_steps:
            token = self._peek()
            if token.is_punct("."):
                self._advance()
                steps.extend(Key(name) for name in self._segment())
            elif token.is_punct("["):
                steps.append(self._index())
            else:
                break
        if not steps:
            return node
        return self._checked(Path(node, steps), self._peek())

    def _segment(self) -> list[str]:
        token = self._peek()
        if token.kind not in _SEGMENT_KINDS:
            raise SyntaxFailure(
                f"expected a name after '.', found {self._describe(token)}", token.start
            )
        self._advance()
        if token.kind == "backtick":
            return [token.text[1:-1]]
        return token.text.split(".")

    def _index(self) -> object:
        opening = self._advance()
        if self._peek().is_punct("]"):
            self._advance()
            return SPREAD
        self._enter(opening)
        index = self._expression()
        self.nesting -= 1
        self._expect_punct("]")
        return index

    def _primary(self) -> tuple[Node, bool]:
        """The next primary and whether path steps may follow it."""
        token = self._peek()
        kind = token.kind
        if kind == "number":
            self._advance()
            # Past 16 digits an integer is a float anyway (normalize_number), and int() of
            # thousands of digits raises ValueError.
            long = "." in token.text or len(token.text) > 16
            number = float(token.text) if long else int(token.text)
            return Literal(normalize_number(number)), False
        if kind == "string":
            self._advance()
            return Literal(string_value(token)), False
        if kind == "module":
            self._advance()
            if len(token.text) > MAX_MODULE_ID_DIGITS:
                raise SyntaxFailure(f"module id {token.text[:20]}… is too large", token.start)
            return Bundle(int(token.text)), True
        if kind == "backtick":
            self._advance()
            name = token.text[1:-1]
            # isdecimal, not isdigit: int() refuses digits such as "²".
            if name.isdecimal() and len(name) <= MAX_MODULE_ID_DIGITS:
                return Bundle(int(name)), True
            return Word(name), False
        if token.is_punct("("):
            self._advance()
            self._enter(token)
            inner = self._expression()
            self.nesting -= 1
            self._expect_punct(")")
            return inner, True
        if kind == "word":
            return self._word()
        raise SyntaxFailure(self._unexpected(token), token.start)

    def _word(self) -> tuple[Node, bool]:
        token = self._advance()
        following = self._peek()
        if following.is_punct("("):
            return self._call(token), True
        if token.text == "var" and following.is_punct(".") and following.start == token.end:
            return Variables(), True
        if token.text in self.dialect.roots:
            return Scope(token.text), True
        if token.text in KEYWORDS:
            return keyword_node(token.text), False
        text, end = token.text, token.end
        while self._peek().is_punct(".") and self._peek().start == end:
            segment = self._peek(1)
            if segment.kind not in _SEGMENT_KINDS or segment.start != self._peek().end:
                break
            self._advance()
            self._advance()
            text, end = f"{text}.{segment.text}", segment.end
        if self._peek().is_punct("["):
            raise SyntaxFailure("a bare word cannot be indexed", self._peek().start)
        return Word(text), False

    # -- calls ---------------------------------------------------------------------------------

    def _call(self, name: Token) -> Node:
        spec = self.dialect.functions.lookup(name.text, where=self.where, column=name.start + 1)
        opening = self._advance()
        self._enter(opening)
        args: list[Node] = []
        if self._peek().is_punct(")"):
            self._advance()
        else:
            while True:
                args.append(self._argument(name.text))
                closing = self._advance()
                if closing.is_punct(")"):
                    break
                if not self._is_separator(closing):
                    raise SyntaxFailure(
                        f"expected ';' or ')' in the arguments of '{name.text}', "
                        f"found {self._describe(closing)}",
                        closing.start,
                    )
        self.nesting -= 1
        problem = spec.check_arity(len(args))
        if problem:
            raise ExpressionError(problem, where=self.where, column=name.start + 1)
        return self._checked(Call(spec, args), name)

    def _argument(self, function_name: str) -> Node:
        start, nesting = self.position, self.nesting
        if self._at_argument_end():
            return Literal(None)
        try:
            node = self._expression()
            if not self._at_argument_end():
                found = self._peek()
                raise SyntaxFailure(
                    f"expected ';' or ')' in the arguments of '{function_name}', "
                    f"found {self._describe(found)}",
                    found.start,
                )
            if not node.has_word_arithmetic():
                return node
            failure = None
        except SyntaxFailure as error:
            failure = error
        self.position, self.nesting = start, nesting
        bare = self._bare_text(start)
        if bare is None:
            if failure is None:  # pragma: no cover - word arithmetic always has bare text
                raise SyntaxFailure("cannot read argument", self._peek().start)
            raise failure
        return bare

    def _at_argument_end(self) -> bool:
        token = self._peek()
        return self._is_separator(token) or token.is_punct(")")

    def _is_separator(self, token: Token) -> bool:
        return token.is_punct(";") or (self.dialect.comma_arguments and token.is_punct(","))

    def _bare_text(self, start: int) -> Node | None:
        """Read tokens from ``start`` up to the argument's end as bare text, if they can be."""
        depth = 0
        index = start
        while index < len(self.tokens):
            token = self.tokens[index]
            if token.kind in _NOT_BARE_TEXT or token.is_punct("(") or token.text in "{}":
                return None
            if token.kind == "op" and token.text not in _ARITHMETIC:
                return None  # "1.name = Ada Lovelace" is a mistake, not a date format
            if depth == 0 and (self._is_separator(token) or token.is_punct(")")):
                break
            if token.is_punct("["):
                depth += 1
            elif token.is_punct("]"):
                depth = max(0, depth - 1)
            index += 1
        text = self.source[self.tokens[start].start : self.tokens[index].start].strip()
        self.position = index
        return Word(text)
