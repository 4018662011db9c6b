"""Tokenizer for Hog source code.

Produces a flat list of `Token`s. Template strings (``f'hello {name}'``) become a single
`TokenKind.TEMPLATE` token whose value is a list of literal text pieces and embedded
expression sources; the parser tokenizes those expression pieces again with their own
line and column so error positions stay correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from assay.hog.errors import HogSyntaxError


class TokenKind(Enum):
    """The kinds of token the lexer emits."""

    INTEGER = "integer"
    FLOAT = "float"
    STRING = "string"
    TEMPLATE = "template"
    IDENTIFIER = "identifier"
    KEYWORD = "keyword"
    OPERATOR = "operator"
    EOF = "eof"


#: Words that are keywords when unquoted (matched case-insensitively, stored lower-case).
KEYWORDS = frozenset(
    {
        "let",
        "fun",
        "fn",
        "if",
        "else",
        "while",
        "for",
        "return",
        "throw",
        "try",
        "catch",
        "finally",
        "true",
        "false",
        "null",
        "and",
        "or",
        "not",
        "like",
        "ilike",
        "in",
        "is",
        "between",
    }
)

# Longest first so that e.g. `=~*` wins over `=~` and `=`.
_OPERATORS = (
    "=~*",
    "!~*",
    "?.[",
    ":=",
    "==",
    "!=",
    "<>",
    "<=",
    ">=",
    "=~",
    "!~",
    "~*",
    "??",
    "?.",
    "->",
    "||",
    "=",
    "<",
    ">",
    "~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    ".",
    "?",
)

_ESCAPES = {
    "b": "\b",
    "f": "\f",
    "r": "\r",
    "n": "\n",
    "t": "\t",
    "0": "\0",
    "a": "\a",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
}


@dataclass(frozen=True)
class TemplateExpr:
    """An expression embedded in a template string, with where its source starts."""

    source: str
    line: int
    column: int


@dataclass(frozen=True)
class Token:
    """One token with its 1-based source position."""

    kind: TokenKind
    value: Any
    line: int
    column: int

    def is_op(self, *ops: str) -> bool:
        """True if this is one of the given operator/punctuation tokens."""
        return self.kind is TokenKind.OPERATOR and self.value in ops

    def is_kw(self, *words: str) -> bool:
        """True if this is one of the given keywords."""
        return self.kind is TokenKind.KEYWORD and self.value in words


def _is_ident_start(ch: str) -> bool:
    return ch != "" and (ch.isalpha() or ch in "_$")


def _is_ident_part(ch: str) -> bool:
    return ch != "" and (ch.isalnum() or ch in "_$")


class Lexer:
    """Turns Hog source into tokens. Positions are 1-based and may be offset for sub-sources."""

    def __init__(self, source: str, line: int = 1, column: int = 1) -> None:
        self.src = source
        self.pos = 0
        self.line = line
        self.col = column

    def _error(self, message: str, line: int | None = None, column: int | None = None) -> HogSyntaxError:
        return HogSyntaxError(
            message, line if line is not None else self.line, column if column is not None else self.col
        )

    def _peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.src[i] if i < len(self.src) else ""

    def _advance(self, count: int = 1) -> str:
        text = self.src[self.pos : self.pos + count]
        for ch in text:
            if ch == "\n":
                self.line += 1
                self.col = 1
            else:
                self.col += 1
        self.pos += count
        return text

    def tokenize(self) -> list[Token]:
        """Return every token of the source, ending with an EOF token."""
        tokens: list[Token] = []
        while True:
            self._skip_space_and_comments()
            if self.pos >= len(self.src):
                tokens.append(Token(TokenKind.EOF, None, self.line, self.col))
                return tokens
            prev = tokens[-1] if tokens else None
            after_dot = prev is not None and prev.is_op(".", "?.")
            tuple_index = (
                prev is not None and prev.kind is TokenKind.INTEGER and len(tokens) > 1 and tokens[-2].is_op(".", "?.")
            )
            after_operand = prev is not None and (
                prev.kind is TokenKind.IDENTIFIER or prev.is_op(")", "]") or tuple_index
            )
            tokens.append(self._next_token(after_dot, after_operand))

    def _skip_space_and_comments(self) -> None:
        while self.pos < len(self.src):
            ch = self._peek()
            if ch.isspace():
                self._advance()
            elif ch == "/" and self._peek(1) == "/" or ch == "-" and self._peek(1) == "-":
                while self.pos < len(self.src) and self._peek() not in "\r\n":
                    self._advance()
            elif ch == "/" and self._peek(1) == "*":
                line, col = self.line, self.col
                end = self.src.find("*/", self.pos + 2)
                if end < 0:
                    raise self._error("Unterminated comment", line, col)
                self._advance(end + 2 - self.pos)
            else:
                return

    def _next_token(self, after_dot: bool = False, after_operand: bool = False) -> Token:
        ch = self._peek()
        line, col = self.line, self.col
        if after_dot and ch.isdigit():  # tuple access such as `t.1`: an integer, never a float
            start = self.pos
            while self._peek().isdigit():
                self._advance()
            return Token(TokenKind.INTEGER, int(self.src[start : self.pos]), line, col)
        if ch in "fF" and self._peek(1) == "'":
            self._advance()
            return Token(TokenKind.TEMPLATE, self._read_template(line, col), line, col)
        if ch == "'":
            return Token(TokenKind.STRING, self._read_quoted("'", line, col), line, col)
        if ch in '"`':
            return Token(TokenKind.IDENTIFIER, self._read_quoted(ch, line, col), line, col)
        if ch.isdigit() or (ch == "." and self._peek(1).isdigit() and not after_dot and not after_operand):
            return self._read_number(line, col)
        if _is_ident_start(ch):
            start = self.pos
            while self.pos < len(self.src) and _is_ident_part(self._peek()):
                self._advance()
            word = self.src[start : self.pos]
            if word.lower() in KEYWORDS:
                return Token(TokenKind.KEYWORD, word.lower(), line, col)
            return Token(TokenKind.IDENTIFIER, word, line, col)
        for op in _OPERATORS:
            if self.src.startswith(op, self.pos):
                self._advance(len(op))
                return Token(TokenKind.OPERATOR, op, line, col)
        raise self._error(f"Unexpected character {ch!r}", line, col)

    def _read_number(self, line: int, col: int) -> Token:
        start = self.pos
        if (
            self._peek() == "0"
            and self._peek(1) in "xX"
            and self._peek(2)
            and self._peek(2) in "0123456789abcdefABCDEF"
        ):
            self._advance(2)
            while self._peek() and self._peek() in "0123456789abcdefABCDEF":
                self._advance()
            return Token(TokenKind.INTEGER, int(self.src[start : self.pos], 16), line, col)
        is_float = False
        while self._peek().isdigit():
            self._advance()
        if self._peek() == "." and self._peek(1).isdigit():
            is_float = True
            self._advance()
            while self._peek().isdigit():
                self._advance()
        if self._peek() in ("e", "E") and (
            self._peek(1).isdigit() or (self._peek(1) in ("+", "-") and self._peek(2).isdigit())
        ):
            is_float = True
            self._advance(2)
            while self._peek().isdigit():
                self._advance()
        if _is_ident_start(self._peek()):
            raise self._error(f"Invalid number literal {self.src[start : self.pos + 1]!r}", line, col)
        text = self.src[start : self.pos]
        if is_float:
            return Token(TokenKind.FLOAT, float(text), line, col)
        return Token(TokenKind.INTEGER, int(text), line, col)

    def _read_escape(self, out: list[str]) -> None:
        """Consume a backslash escape; unknown escapes keep their backslash (useful for regexes)."""
        self._advance()  # the backslash
        nxt = self._peek()
        if not nxt:
            raise self._error("Unterminated string")
        self._advance()
        out.append(_ESCAPES.get(nxt, "\\" + nxt))

    def _read_quoted(self, quote: str, line: int, col: int) -> str:
        self._advance()  # opening quote
        out: list[str] = []
        while True:
            ch = self._peek()
            if not ch:
                raise self._error("Unterminated string literal", line, col)
            if ch == "\\":
                self._read_escape(out)
            elif ch == quote:
                if self._peek(1) == quote:  # doubled quote is a literal quote
                    self._advance(2)
                    out.append(quote)
                else:
                    self._advance()
                    return "".join(out)
            else:
                out.append(self._advance())

    def _read_template(self, line: int, col: int) -> list[str | TemplateExpr]:
        self._advance()  # opening quote
        parts: list[str | TemplateExpr] = []
        text: list[str] = []
        while True:
            ch = self._peek()
            if not ch:
                raise self._error("Unterminated template string", line, col)
            if ch == "\\":
                if self._peek(1) in "{}":
                    self._advance()
                    text.append(self._advance())
                else:
                    self._read_escape(text)
            elif ch == "'":
                if self._peek(1) == "'":
                    self._advance(2)
                    text.append("'")
                else:
                    self._advance()
                    if text:
                        parts.append("".join(text))
                    return parts
            elif ch == "{":
                if text:
                    parts.append("".join(text))
                    text = []
                self._advance()
                parts.append(self._read_template_expr())
            else:
                text.append(self._advance())

    def _read_template_expr(self) -> TemplateExpr:
        """Read the source of `{ expr }` up to its matching brace, skipping nested strings."""
        line, col = self.line, self.col
        start = self.pos
        depth = 0
        while True:
            ch = self._peek()
            if not ch:
                raise self._error("Unterminated expression in template string", line, col)
            if ch in "'\"`":
                self._read_quoted(ch, self.line, self.col)
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0:
                    source = self.src[start : self.pos]
                    self._advance()
                    if not source.strip():
                        raise self._error("Empty expression in template string", line, col)
                    return TemplateExpr(source, line, col)
                depth -= 1
            self._advance()


def tokenize(source: str, line: int = 1, column: int = 1) -> list[Token]:
    """Tokenize Hog source; positions start at the given line and column."""
    return Lexer(source, line, column).tokenize()
