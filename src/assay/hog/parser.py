"""Recursive-descent parser for Hog programs.

Operator precedence, lowest first: ternary `? :`, `or`, `and`, `not`, `??`, `is [not] null`,
comparisons (`= == != <> < <= > >= like ilike not like not ilike in not in =~ !~ =~* !~* ~ ~*`,
`[not] between`), `+ - ||`, `* / %`, unary `-`, then postfix access and calls.
"""

from __future__ import annotations

from assay.hog import ast
from assay.hog.errors import HogSyntaxError
from assay.hog.lexer import TemplateExpr, Token, TokenKind, tokenize

_COMPARE_OPS = {
    "=": "==",
    "==": "==",
    "!=": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "=~": "=~",
    "~": "=~",
    "!~": "!~",
    "=~*": "=~*",
    "~*": "=~*",
    "!~*": "!~*",
}
_COMPARE_WORDS = {"like": "like", "ilike": "ilike", "in": "in"}
_STATEMENT_END = (";", "}")


class Parser:
    """Parses one token stream. Use `parse_program` or `parse_expression` instead of this class."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    # ------------------------------------------------------------ helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def _peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def _next(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind is not TokenKind.EOF:
            self.pos += 1
        return token

    def _error(self, message: str, token: Token | None = None) -> HogSyntaxError:
        token = token or self.tok
        return HogSyntaxError(message, token.line, token.column)

    def _describe(self, token: Token) -> str:
        if token.kind is TokenKind.EOF:
            return "end of input"
        if token.kind is TokenKind.STRING:
            return f"string {token.value!r}"
        return f"{token.value!r}"

    def _expect_op(self, op: str) -> Token:
        if not self.tok.is_op(op):
            raise self._error(f"Expected '{op}' but found {self._describe(self.tok)}")
        return self._next()

    def _expect_kw(self, word: str) -> Token:
        if not self.tok.is_kw(word):
            raise self._error(f"Expected '{word}' but found {self._describe(self.tok)}")
        return self._next()

    def _expect_identifier(self, what: str = "an identifier") -> str:
        if self.tok.kind is not TokenKind.IDENTIFIER:
            raise self._error(f"Expected {what} but found {self._describe(self.tok)}")
        return str(self._next().value)

    def _skip_semicolon(self) -> None:
        if self.tok.is_op(";"):
            self._next()

    @staticmethod
    def _at(node: ast.Node, token: Token) -> ast.Node:
        node.line, node.column = token.line, token.column
        return node

    # ------------------------------------------------------------ statements

    def parse_program(self) -> ast.Program:
        start = self.tok
        body: list[ast.Statement] = []
        while self.tok.kind is not TokenKind.EOF:
            statement = self._statement()
            if statement is not None:
                body.append(statement)
        return ast.Program(body=body, line=start.line, column=start.column)

    def _block(self) -> ast.Block:
        start = self._expect_op("{")
        body: list[ast.Statement] = []
        while not self.tok.is_op("}"):
            if self.tok.kind is TokenKind.EOF:
                raise self._error(
                    f"Expected '}}' to close the block opened at line {start.line}, column {start.column}"
                )
            statement = self._statement()
            if statement is not None:
                body.append(statement)
        self._next()
        return ast.Block(body=body, line=start.line, column=start.column)

    def _statement(self) -> ast.Statement | None:
        tok = self.tok
        if tok.is_op(";"):
            self._next()
            return None
        if tok.is_op("{"):
            return self._block()
        if tok.kind is TokenKind.KEYWORD:
            handler = {
                "let": self._var_decl,
                "fun": self._function,
                "fn": self._function,
                "if": self._if,
                "while": self._while,
                "for": self._for,
                "return": self._return,
                "throw": self._throw,
                "try": self._try,
            }.get(tok.value)
            if handler is not None:
                return handler()
            if tok.value in ("else", "catch", "finally"):
                raise self._error(f"Unexpected '{tok.value}'")
        statement = self._simple_statement()
        self._skip_semicolon()
        return statement

    def _simple_statement(self) -> ast.Statement:
        """An expression statement or an assignment (no trailing `;` handling)."""
        tok = self.tok
        expr = self.parse_expr()
        if self.tok.is_op(":="):
            if not isinstance(expr, ast.Field | ast.PropertyAccess):
                raise self._error("Can only assign to a variable, a property or an index", tok)
            self._next()
            value = self.parse_expr()
            return ast.Assign(target=expr, value=value, line=tok.line, column=tok.column)
        return ast.ExprStatement(expr=expr, line=tok.line, column=tok.column)

    def _var_decl_body(self) -> ast.VarDecl:
        tok = self._expect_kw("let")
        name = self._expect_identifier("a variable name after 'let'")
        expr: ast.Expr | None = None
        if self.tok.is_op(":="):
            self._next()
            expr = self.parse_expr()
        elif self.tok.is_op("="):
            raise self._error("Use ':=' to assign a value in 'let'")
        return ast.VarDecl(name=name, expr=expr, line=tok.line, column=tok.column)

    def _var_decl(self) -> ast.VarDecl:
        decl = self._var_decl_body()
        self._skip_semicolon()
        return decl

    def _function(self) -> ast.Function:
        tok = self._next()
        name = self._expect_identifier("a function name")
        self._expect_op("(")
        params = self._param_list()
        body = self._block()
        return ast.Function(name=name, params=params, body=body, line=tok.line, column=tok.column)

    def _param_list(self) -> list[str]:
        """Parse `a, b, c)` after an opening parenthesis."""
        params: list[str] = []
        while not self.tok.is_op(")"):
            name_tok = self.tok
            name = self._expect_identifier("a parameter name")
            if name in params:
                raise self._error(f"Duplicate parameter '{name}'", name_tok)
            params.append(name)
            if not self.tok.is_op(")"):
                self._expect_op(",")
        self._next()
        return params

    def _if(self) -> ast.If:
        tok = self._next()
        self._expect_op("(")
        cond = self.parse_expr()
        self._expect_op(")")
        then = self._required_statement()
        otherwise = None
        if self.tok.is_kw("else"):
            self._next()
            otherwise = self._required_statement()
        return ast.If(cond=cond, then=then, otherwise=otherwise, line=tok.line, column=tok.column)

    def _required_statement(self) -> ast.Statement:
        tok = self.tok
        if tok.kind is TokenKind.EOF:
            raise self._error("Expected a statement but found end of input")
        statement = self._statement()
        return statement if statement is not None else ast.Block(body=[], line=tok.line, column=tok.column)

    def _while(self) -> ast.While:
        tok = self._next()
        self._expect_op("(")
        cond = self.parse_expr()
        self._expect_op(")")
        body = self._required_statement()
        return ast.While(cond=cond, body=body, line=tok.line, column=tok.column)

    def _is_for_in(self) -> bool:
        i = 1 if self.tok.is_kw("let") else 0
        if self._peek(i).kind is not TokenKind.IDENTIFIER:
            return False
        i += 1
        if self._peek(i).is_op(","):
            if self._peek(i + 1).kind is not TokenKind.IDENTIFIER:
                return False
            i += 2
        return self._peek(i).is_kw("in")

    def _for(self) -> ast.For | ast.ForIn:
        tok = self._next()
        self._expect_op("(")
        if self._is_for_in():
            if self.tok.is_kw("let"):
                self._next()
            first = self._expect_identifier()
            second = None
            if self.tok.is_op(","):
                self._next()
                second = self._expect_identifier()
            self._expect_kw("in")
            expr = self.parse_expr()
            self._expect_op(")")
            body = self._required_statement()
            key_var, value_var = (first, second) if second is not None else (None, first)
            return ast.ForIn(
                key_var=key_var, value_var=value_var, expr=expr, body=body, line=tok.line, column=tok.column
            )
        init: ast.Statement | None = None
        if not self.tok.is_op(";"):
            init = self._var_decl_body() if self.tok.is_kw("let") else self._simple_statement()
        self._expect_op(";")
        cond = None if self.tok.is_op(";") else self.parse_expr()
        self._expect_op(";")
        step: ast.Statement | None = None
        if not self.tok.is_op(")"):
            step = self._var_decl_body() if self.tok.is_kw("let") else self._simple_statement()
        self._expect_op(")")
        body = self._required_statement()
        return ast.For(init=init, cond=cond, step=step, body=body, line=tok.line, column=tok.column)

    def _return(self) -> ast.Return:
        tok = self._next()
        expr = None
        if not (self.tok.kind is TokenKind.EOF or self.tok.is_op(*_STATEMENT_END)):
            expr = self.parse_expr()
        self._skip_semicolon()
        return ast.Return(expr=expr, line=tok.line, column=tok.column)

    def _throw(self) -> ast.Throw:
        tok = self._next()
        if self.tok.kind is TokenKind.EOF or self.tok.is_op(*_STATEMENT_END):
            raise self._error("Expected an expression after 'throw'")
        expr = self.parse_expr()
        self._skip_semicolon()
        return ast.Throw(expr=expr, line=tok.line, column=tok.column)

    def _try(self) -> ast.Try:
        tok = self._next()
        body = self._block()
        catches: list[ast.Catch] = []
        while self.tok.is_kw("catch"):
            catch_tok = self._next()
            var = type_name = None
            if self.tok.is_op("("):
                self._next()
                var = self._expect_identifier("a variable name in 'catch'")
                if self.tok.is_op(":"):
                    self._next()
                    type_name = self._expect_identifier("an error type in 'catch'")
                self._expect_op(")")
            catches.append(
                ast.Catch(
                    var=var, type_name=type_name, body=self._block(), line=catch_tok.line, column=catch_tok.column
                )
            )
        finally_body = None
        if self.tok.is_kw("finally"):
            self._next()
            finally_body = self._block()
        if not catches and finally_body is None:
            raise self._error("Expected 'catch' or 'finally' after the 'try' block")
        return ast.Try(body=body, catches=catches, finally_body=finally_body, line=tok.line, column=tok.column)

    # ------------------------------------------------------------ expressions

    def parse_expr(self) -> ast.Expr:
        """Parse one full expression."""
        return self._ternary()

    def _ternary(self) -> ast.Expr:
        cond = self._or()
        if self.tok.is_op("?"):
            tok = self._next()
            then = self._ternary()
            self._expect_op(":")
            otherwise = self._ternary()
            return ast.Call(name="if", args=[cond, then, otherwise], line=tok.line, column=tok.column)
        return cond

    def _or(self) -> ast.Expr:
        first = self._and()
        exprs = [first]
        while self.tok.is_kw("or"):
            self._next()
            exprs.append(self._and())
        return first if len(exprs) == 1 else ast.Or(exprs=exprs, line=first.line, column=first.column)

    def _and(self) -> ast.Expr:
        first = self._not()
        exprs = [first]
        while self.tok.is_kw("and"):
            self._next()
            exprs.append(self._not())
        return first if len(exprs) == 1 else ast.And(exprs=exprs, line=first.line, column=first.column)

    def _not(self) -> ast.Expr:
        if self.tok.is_kw("not") and not self._peek().is_op("("):
            tok = self._next()
            return ast.Not(expr=self._not(), line=tok.line, column=tok.column)
        return self._nullish()

    def _nullish(self) -> ast.Expr:
        left = self._is_null()
        while self.tok.is_op("??"):
            tok = self._next()
            right = self._is_null()
            left = ast.Call(name="ifNull", args=[left, right], line=tok.line, column=tok.column)
        return left

    def _is_null(self) -> ast.Expr:
        left = self._compare()
        while self.tok.is_kw("is"):
            tok = self._next()
            negated = False
            if self.tok.is_kw("not"):
                self._next()
                negated = True
            self._expect_kw("null")
            null = ast.Constant(value=None, line=tok.line, column=tok.column)
            left = ast.BinaryOp(op="!=" if negated else "==", left=left, right=null, line=tok.line, column=tok.column)
        return left

    def _compare(self) -> ast.Expr:
        left = self._additive()
        while True:
            tok = self.tok
            op: str | None = None
            if tok.kind is TokenKind.OPERATOR and tok.value in _COMPARE_OPS:
                self._next()
                op = _COMPARE_OPS[tok.value]
            elif tok.kind is TokenKind.KEYWORD and tok.value in _COMPARE_WORDS:
                self._next()
                op = _COMPARE_WORDS[tok.value]
            elif tok.is_kw("not") and self._peek().kind is TokenKind.KEYWORD and self._peek().value in _COMPARE_WORDS:
                self._next()
                op = "not " + _COMPARE_WORDS[self._next().value]
            elif tok.is_kw("between") or (tok.is_kw("not") and self._peek().is_kw("between")):
                negated = tok.is_kw("not")
                if negated:
                    self._next()
                self._next()
                low = self._additive()
                self._expect_kw("and")
                high = self._additive()
                left = ast.Between(expr=left, low=low, high=high, negated=negated, line=tok.line, column=tok.column)
                continue
            if op is None:
                return left
            right = self._additive()
            left = ast.BinaryOp(op=op, left=left, right=right, line=tok.line, column=tok.column)

    def _additive(self) -> ast.Expr:
        left = self._multiplicative()
        while self.tok.is_op("+", "-", "||"):
            tok = self._next()
            right = self._multiplicative()
            if tok.value == "||":
                left = ast.Call(name="concat", args=[left, right], line=tok.line, column=tok.column)
            else:
                left = ast.BinaryOp(op=tok.value, left=left, right=right, line=tok.line, column=tok.column)
        return left

    def _multiplicative(self) -> ast.Expr:
        left = self._unary()
        while self.tok.is_op("*", "/", "%"):
            tok = self._next()
            right = self._unary()
            left = ast.BinaryOp(op=tok.value, left=left, right=right, line=tok.line, column=tok.column)
        return left

    def _unary(self) -> ast.Expr:
        if self.tok.is_op("-"):
            tok = self._next()
            nxt = self.tok
            if nxt.kind in (TokenKind.INTEGER, TokenKind.FLOAT) and not self._peek().is_op(".", "[", "?.", "?.[", "("):
                self._next()
                return ast.Constant(value=-nxt.value, line=tok.line, column=tok.column)
            operand = self._unary()
            zero = ast.Constant(value=0, line=tok.line, column=tok.column)
            return ast.BinaryOp(op="-", left=zero, right=operand, line=tok.line, column=tok.column)
        return self._postfix(self._primary())

    def _postfix(self, expr: ast.Expr) -> ast.Expr:
        while True:
            tok = self.tok
            if tok.is_op(".", "?."):
                self._next()
                nullish = tok.value == "?."
                name_tok = self._next()
                if name_tok.kind is TokenKind.INTEGER:
                    key: ast.Expr = ast.Constant(value=name_tok.value, line=name_tok.line, column=name_tok.column)
                elif name_tok.kind in (TokenKind.IDENTIFIER, TokenKind.KEYWORD):
                    if not nullish and isinstance(expr, ast.Field):
                        expr.chain.append(str(name_tok.value))
                        continue
                    key = ast.Constant(value=str(name_tok.value), line=name_tok.line, column=name_tok.column)
                else:
                    raise self._error(f"Expected a property name after '{tok.value}'", name_tok)
                expr = ast.PropertyAccess(obj=expr, key=key, nullish=nullish, line=tok.line, column=tok.column)
            elif tok.is_op("[", "?.["):
                self._next()
                key = self.parse_expr()
                self._expect_op("]")
                if isinstance(key, ast.Constant) and key.value == 0 and type(key.value) is int:
                    raise self._error("Array access starts from 1", tok)
                expr = ast.PropertyAccess(
                    obj=expr, key=key, nullish=tok.value == "?.[", line=tok.line, column=tok.column
                )
            elif tok.is_op("("):
                self._next()
                args = self._expr_list(")")
                if isinstance(expr, ast.Field) and len(expr.chain) == 1:
                    expr = ast.Call(name=str(expr.chain[0]), args=args, line=expr.line, column=expr.column)
                else:
                    expr = ast.ExprCall(callee=expr, args=args, line=tok.line, column=tok.column)
            else:
                return expr

    def _expr_list(self, closing: str) -> list[ast.Expr]:
        """Parse comma-separated expressions up to and including `closing` (trailing comma allowed)."""
        items: list[ast.Expr] = []
        while not self.tok.is_op(closing):
            items.append(self.parse_expr())
            if not self.tok.is_op(closing):
                if not self.tok.is_op(","):
                    raise self._error(f"Expected ',' or '{closing}' but found {self._describe(self.tok)}")
                self._next()
        self._next()
        return items

    def _lambda_params_end(self) -> int | None:
        """If a parenthesised lambda starts here, return the offset of its `->` token."""
        i = 1
        if self._peek(i).is_op(")"):
            return i + 1 if self._peek(i + 1).is_op("->") else None
        while True:
            if self._peek(i).kind is not TokenKind.IDENTIFIER:
                return None
            i += 1
            if self._peek(i).is_op(","):
                i += 1
                continue
            if self._peek(i).is_op(")"):
                return i + 1 if self._peek(i + 1).is_op("->") else None
            return None

    def _primary(self) -> ast.Expr:
        tok = self.tok
        kind = tok.kind
        if kind in (TokenKind.INTEGER, TokenKind.FLOAT, TokenKind.STRING):
            self._next()
            return ast.Constant(value=tok.value, line=tok.line, column=tok.column)
        if kind is TokenKind.TEMPLATE:
            self._next()
            return self._template(tok)
        if tok.is_kw("true", "false", "null"):
            self._next()
            value = {"true": True, "false": False, "null": None}[tok.value]
            return ast.Constant(value=value, line=tok.line, column=tok.column)
        if kind is TokenKind.IDENTIFIER:
            if self._peek().is_op("->"):
                self._next()
                self._next()
                return self._lambda_body([str(tok.value)], tok)
            self._next()
            return ast.Field(chain=[str(tok.value)], line=tok.line, column=tok.column)
        if tok.is_kw("not", "and", "or", "if", "in", "like", "ilike") and self._peek().is_op("("):
            # functions named like keywords: not(x), and(a, b), if(c, a, b) ...
            self._next()
            return ast.Field(chain=[str(tok.value)], line=tok.line, column=tok.column)
        if tok.is_op("("):
            arrow = self._lambda_params_end()
            if arrow is not None:
                self._next()
                params = self._param_list()
                self._expect_op("->")
                return self._lambda_body(params, tok)
            self._next()
            first = self.parse_expr()
            if self.tok.is_op(")"):
                self._next()
                return first
            self._expect_op(",")
            items = [first, *self._expr_list(")")]
            return ast.TupleLiteral(items=items, line=tok.line, column=tok.column)
        if tok.is_op("["):
            self._next()
            return ast.ArrayLiteral(items=self._expr_list("]"), line=tok.line, column=tok.column)
        if tok.is_op("{"):
            return self._dict()
        raise self._error(f"Unexpected {self._describe(tok)}")

    def _dict(self) -> ast.DictLiteral:
        tok = self._expect_op("{")
        items: list[tuple[ast.Expr, ast.Expr]] = []
        while not self.tok.is_op("}"):
            key = self.parse_expr()
            self._expect_op(":")
            value = self.parse_expr()
            items.append((key, value))
            if not self.tok.is_op("}"):
                self._expect_op(",")
        self._next()
        return ast.DictLiteral(items=items, line=tok.line, column=tok.column)

    def _lambda_body(self, params: list[str], start: Token) -> ast.Lambda:
        if self.tok.is_op("{"):
            saved = self.pos
            try:  # `{...}` is a dict when it parses as one, otherwise a block
                body: ast.Expr | ast.Block = self._dict()
            except HogSyntaxError:
                self.pos = saved
                body = self._block()
        else:
            body = self.parse_expr()
        return ast.Lambda(params=params, body=body, line=start.line, column=start.column)

    def _template(self, tok: Token) -> ast.Expr:
        args: list[ast.Expr] = []
        for part in tok.value:
            if isinstance(part, TemplateExpr):
                args.append(parse_expression(part.source, part.line, part.column))
            else:
                args.append(ast.Constant(value=part, line=tok.line, column=tok.column))
        if not args:
            return ast.Constant(value="", line=tok.line, column=tok.column)
        if len(args) == 1 and isinstance(args[0], ast.Constant):
            return args[0]
        return ast.Call(name="concat", args=args, line=tok.line, column=tok.column)


def parse_program(source: str) -> ast.Program:
    """Parse a whole Hog program; raises HogSyntaxError with line and column."""
    return Parser(tokenize(source)).parse_program()


def parse_expression(source: str, line: int = 1, column: int = 1) -> ast.Expr:
    """Parse a single Hog expression (the whole source must be consumed)."""
    parser = Parser(tokenize(source, line, column))
    expr = parser.parse_expr()
    if parser.tok.kind is not TokenKind.EOF:
        raise parser._error(f"Unexpected {parser._describe(parser.tok)} after the expression")
    return expr
