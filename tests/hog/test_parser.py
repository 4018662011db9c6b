"""Lexer and parser: tokens, syntax tree shapes, and error positions."""

from __future__ import annotations

import pytest

from assay.hog import ast
from assay.hog.errors import HogSyntaxError
from assay.hog.lexer import TemplateExpr, TokenKind, tokenize
from assay.hog.parser import parse_expression, parse_program


def kinds_values(source: str) -> list[tuple[TokenKind, object]]:
    return [(t.kind, t.value) for t in tokenize(source)][:-1]


def test_lexer_numbers_strings_identifiers_and_positions() -> None:
    tokens = tokenize("let x := 0x1F + 1.5e2\n  'a\\nb' \"quoted id\" $y")
    assert [(t.kind, t.value) for t in tokens[:-1]] == [
        (TokenKind.KEYWORD, "let"),
        (TokenKind.IDENTIFIER, "x"),
        (TokenKind.OPERATOR, ":="),
        (TokenKind.INTEGER, 31),
        (TokenKind.OPERATOR, "+"),
        (TokenKind.FLOAT, 150.0),
        (TokenKind.STRING, "a\nb"),
        (TokenKind.IDENTIFIER, "quoted id"),
        (TokenKind.IDENTIFIER, "$y"),
    ]
    assert (tokens[6].line, tokens[6].column) == (2, 3)


def test_lexer_keeps_unknown_escapes_and_doubled_quotes() -> None:
    assert kinds_values(r"'\d+' 'it''s'") == [(TokenKind.STRING, "\\d+"), (TokenKind.STRING, "it's")]


def test_lexer_tuple_access_is_not_a_float() -> None:
    assert kinds_values("t.1.2") == [
        (TokenKind.IDENTIFIER, "t"),
        (TokenKind.OPERATOR, "."),
        (TokenKind.INTEGER, 1),
        (TokenKind.OPERATOR, "."),
        (TokenKind.INTEGER, 2),
    ]


def test_lexer_skips_all_comment_styles() -> None:
    assert kinds_values("1 // a\n/* b\n c */ 2 -- d\n3") == [(TokenKind.INTEGER, n) for n in (1, 2, 3)]


def test_lexer_template_parts_carry_positions() -> None:
    (token,) = tokenize("f'a {x + 1} b'")[:-1]
    assert token.kind is TokenKind.TEMPLATE
    assert token.value == ["a ", TemplateExpr("x + 1", 1, 6), " b"]


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("let s := 'abc", "Unterminated string literal", 1, 10),
        ("let a := 1\n  # 2", "Unexpected character '#'", 2, 3),
        ("/* never closed", "Unterminated comment", 1, 1),
        ("let a := f'{x'", "Unterminated string literal", 1, 14),
        ("let a := 12abc", "Invalid number literal", 1, 10),
    ],
)
def test_lexer_errors_have_line_and_column(source: str, message: str, line: int, column: int) -> None:
    with pytest.raises(HogSyntaxError, match=message) as info:
        parse_program(source)
    assert (info.value.line, info.value.column) == (line, column)


def test_precedence_of_arithmetic_and_comparison() -> None:
    expr = parse_expression("1 + 2 * 3 = 7 and not x or y")
    assert isinstance(expr, ast.Or)
    first = expr.exprs[0]
    assert isinstance(first, ast.And)
    compare = first.exprs[0]
    assert isinstance(compare, ast.BinaryOp) and compare.op == "=="
    assert isinstance(compare.left, ast.BinaryOp) and compare.left.op == "+"
    assert isinstance(compare.left.right, ast.BinaryOp) and compare.left.right.op == "*"
    assert isinstance(first.exprs[1], ast.Not)


@pytest.mark.parametrize(
    ("source", "op"),
    [
        ("a = b", "=="),
        ("a == b", "=="),
        ("a != b", "!="),
        ("a <> b", "!="),
        ("a like b", "like"),
        ("a ILIKE b", "ilike"),
        ("a not like b", "not like"),
        ("a not ilike b", "not ilike"),
        ("a in b", "in"),
        ("a not in b", "not in"),
        ("a =~ b", "=~"),
        ("a ~ b", "=~"),
        ("a !~ b", "!~"),
        ("a =~* b", "=~*"),
        ("a ~* b", "=~*"),
        ("a !~* b", "!~*"),
    ],
)
def test_comparison_operators(source: str, op: str) -> None:
    expr = parse_expression(source)
    assert isinstance(expr, ast.BinaryOp) and expr.op == op


def test_nullish_is_null_between_and_ternary() -> None:
    nullish = parse_expression("a ?? b ?? c")
    assert isinstance(nullish, ast.Call) and nullish.name == "ifNull"
    assert isinstance(nullish.args[0], ast.Call)
    is_null = parse_expression("a is not null")
    assert isinstance(is_null, ast.BinaryOp) and is_null.op == "!="
    between = parse_expression("x not between 1 and 2 + 3")
    assert isinstance(between, ast.Between) and between.negated
    ternary = parse_expression("a ? b : c ? d : e")
    assert isinstance(ternary, ast.Call) and ternary.name == "if"
    assert isinstance(ternary.args[2], ast.Call)


def test_field_chains_property_access_and_calls() -> None:
    field = parse_expression("properties.$browser.name")
    assert isinstance(field, ast.Field) and field.chain == ["properties", "$browser", "name"]
    nullish = parse_expression("a?.b")
    assert isinstance(nullish, ast.PropertyAccess) and nullish.nullish
    index = parse_expression("a?.['x'][2]")
    assert isinstance(index, ast.PropertyAccess) and not index.nullish
    assert isinstance(index.obj, ast.PropertyAccess) and index.obj.nullish
    call = parse_expression("f(1, 2)")
    assert isinstance(call, ast.Call) and call.name == "f" and len(call.args) == 2
    method = parse_expression("obj.fn(1)(2)")
    assert isinstance(method, ast.ExprCall) and isinstance(method.callee, ast.ExprCall)


def test_literals_tuples_and_lambdas() -> None:
    assert isinstance(parse_expression("(1)"), ast.Constant)
    assert isinstance(parse_expression("(1, 2)"), ast.TupleLiteral)
    assert isinstance(parse_expression("[1, 2,]"), ast.ArrayLiteral)
    dict_expr = parse_expression("{'a': 1, 'b': [2]}")
    assert isinstance(dict_expr, ast.DictLiteral) and len(dict_expr.items) == 2
    single = parse_expression("x -> x * 2")
    assert isinstance(single, ast.Lambda) and single.params == ["x"]
    multi = parse_expression("(a, b) -> a + b")
    assert isinstance(multi, ast.Lambda) and multi.params == ["a", "b"]
    block = parse_expression("() -> { return 1 }")
    assert isinstance(block, ast.Lambda) and isinstance(block.body, ast.Block)
    returns_dict = parse_expression("x -> {'k': x}")
    assert isinstance(returns_dict, ast.Lambda) and isinstance(returns_dict.body, ast.DictLiteral)
    assert parse_expression("-5") == ast.Constant(value=-5, line=1, column=1)
    assert parse_expression("f'x{1}'") == ast.Call(
        name="concat",
        args=[ast.Constant(value="x", line=1, column=1), ast.Constant(value=1, line=1, column=5)],
        line=1,
        column=1,
    )


def test_statements() -> None:
    program = parse_program(
        """
        let a := 1
        a := 2; a.b := 3; a[1] := 4
        if (a) { print(a) } else if (b) c() else { d() }
        while (a < 3) a := a + 1
        for (let i := 0; i < 3; i := i + 1) print(i)
        for (let k, v in a) print(k)
        for (v in a) print(v)
        fun f(x, y) { return x }
        try { throw Error('x') } catch (e: RetryError) { } catch { }
        return
        """
    )
    kinds = [type(s).__name__ for s in program.body]
    assert kinds == [
        "VarDecl",
        "Assign",
        "Assign",
        "Assign",
        "If",
        "While",
        "For",
        "ForIn",
        "ForIn",
        "Function",
        "Try",
        "Return",
    ]
    for_in = program.body[7]
    assert isinstance(for_in, ast.ForIn) and (for_in.key_var, for_in.value_var) == ("k", "v")
    try_stmt = program.body[10]
    assert isinstance(try_stmt, ast.Try)
    assert [(c.var, c.type_name) for c in try_stmt.catches] == [("e", "RetryError"), (None, None)]
    assert program.body[11] == ast.Return(expr=None, line=11, column=9)


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("print((1 + 2)", "Expected ',' or ')' but found end of input", 1, 14),
        ("let a = 1", "Use ':='", 1, 7),
        ("let := 1", "Expected a variable name", 1, 5),
        ("if (x) {\n  print(1)\n", "Expected '}' to close the block opened at line 1, column 8", 3, 1),
        ("1 + 2 := 3", "Can only assign", 1, 1),
        ("fun f(a, a) { }", "Duplicate parameter 'a'", 1, 10),
        ("return a[0]", "Array access starts from 1", 1, 9),
        ("try { }", "Expected 'catch' or 'finally'", 1, 8),
        ("let x := \n\n   )", "Unexpected ')'", 3, 4),
        ("else { }", "Unexpected 'else'", 1, 1),
        ("throw", "Expected an expression after 'throw'", 1, 6),
        ("let s := f'{1 +}'", "Unexpected end of input", 1, 16),
    ],
)
def test_parse_errors_have_line_and_column(source: str, message: str, line: int, column: int) -> None:
    with pytest.raises(HogSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_program(source)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"(line {line}, column {column})" in str(info.value)
