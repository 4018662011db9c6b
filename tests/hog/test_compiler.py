"""Compiler output: exact bytecode for core constructs, compile errors, and execution on the reference VM."""

from __future__ import annotations

from typing import Any

import pytest

from assay.hog.compiler import compile_program
from assay.hog.errors import HogSyntaxError
from assay.hog.opcodes import Operation as Op


def body(source: str) -> list[Any]:
    code = compile_program(source)
    assert code[:2] == ["_H", 1]
    return code[2:]


def test_binary_operators_push_right_operand_first() -> None:
    assert body("return 1 - 2") == [Op.INTEGER, 2, Op.INTEGER, 1, Op.MINUS, Op.RETURN]
    assert body("return 'a' =~ 'b'") == [Op.STRING, "b", Op.STRING, "a", Op.REGEX, Op.RETURN]
    assert body("return 1 not in [1]") == [Op.INTEGER, 1, Op.ARRAY, 1, Op.INTEGER, 1, Op.NOT_IN, Op.RETURN]


def test_and_or_are_n_ary() -> None:
    assert body("return true and false and null") == [Op.TRUE, Op.FALSE, Op.NULL, Op.AND, 3, Op.RETURN]
    assert body("return true or false") == [Op.TRUE, Op.FALSE, Op.OR, 2, Op.RETURN]


def test_globals_compile_to_reversed_chain() -> None:
    assert body("return properties.$ai_model") == [
        Op.STRING,
        "$ai_model",
        Op.STRING,
        "properties",
        Op.GET_GLOBAL,
        2,
        Op.RETURN,
    ]


def test_locals_are_stack_slots_popped_at_scope_end() -> None:
    assert body("let a := 1\nlet b := a\nb := 3") == [
        Op.INTEGER,
        1,
        Op.GET_LOCAL,
        0,
        Op.INTEGER,
        3,
        Op.SET_LOCAL,
        1,
        Op.POP,
        Op.POP,
    ]


def test_expression_statements_are_popped() -> None:
    assert body("print(1)") == [Op.INTEGER, 1, Op.CALL_GLOBAL, "print", 1, Op.POP]


def test_if_else_jumps() -> None:
    assert body("if (true) { print(1) } else { print(2) }") == [
        Op.TRUE,
        Op.JUMP_IF_FALSE,
        8,
        Op.INTEGER,
        1,
        Op.CALL_GLOBAL,
        "print",
        1,
        Op.POP,
        Op.JUMP,
        6,
        Op.INTEGER,
        2,
        Op.CALL_GLOBAL,
        "print",
        1,
        Op.POP,
    ]


def test_while_jumps_back_to_condition() -> None:
    assert body("while (false) print(1)") == [
        Op.FALSE,
        Op.JUMP_IF_FALSE,
        8,
        Op.INTEGER,
        1,
        Op.CALL_GLOBAL,
        "print",
        1,
        Op.POP,
        Op.JUMP,
        -11,
    ]


def test_null_coalescing_uses_jump_if_stack_not_null() -> None:
    assert body("return null ?? 2") == [Op.NULL, Op.JUMP_IF_STACK_NOT_NULL, 3, Op.POP, Op.INTEGER, 2, Op.RETURN]


def test_function_declaration_is_a_closure_in_a_local() -> None:
    assert body("fun f(a) { return a }\nreturn f(5)") == [
        Op.CALLABLE,
        "f",
        1,
        0,
        3,
        Op.GET_LOCAL,
        0,
        Op.RETURN,
        Op.CLOSURE,
        0,
        Op.INTEGER,
        5,
        Op.GET_LOCAL,
        0,
        Op.CALL_LOCAL,
        1,
        Op.RETURN,
        Op.POP,
    ]


def test_lambda_captures_upvalue_and_closes_it() -> None:
    assert body("let x := 1\nlet f := () -> x") == [
        Op.INTEGER,
        1,
        Op.CALLABLE,
        "lambda",
        0,
        1,
        3,
        Op.GET_UPVALUE,
        0,
        Op.RETURN,
        Op.CLOSURE,
        1,
        True,
        0,
        Op.POP,
        Op.CLOSE_UPVALUE,
    ]


def test_unknown_function_is_call_global() -> None:
    assert body("return someHostFunction(1, 'a')") == [
        Op.INTEGER,
        1,
        Op.STRING,
        "a",
        Op.CALL_GLOBAL,
        "someHostFunction",
        2,
        Op.RETURN,
    ]


def test_template_string_is_concat() -> None:
    assert body("return f'a{1}'") == [Op.STRING, "a", Op.INTEGER, 1, Op.CALL_GLOBAL, "concat", 2, Op.RETURN]


def test_output_is_plain_json_values() -> None:
    code = compile_program("fun f() { let y := 1; return () -> y }\nreturn f()()")
    assert all(type(x) in (str, int, float, bool) or x is None for x in code)


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("let a := 1\nlet a := 2", "Variable `a` already declared in this scope", 2, 1),
        ("x := 1", 'Variable "x" not declared in this scope', 1, 1),
        ("\n  y.z := 1", 'Variable "y" not declared', 2, 3),
        ("try { } catch (e) { } finally { }", "finally blocks are not supported", 1, 31),
    ],
)
def test_compile_errors_have_line_and_column(source: str, message: str, line: int, column: int) -> None:
    with pytest.raises(HogSyntaxError, match=message) as info:
        compile_program(source)
    assert (info.value.line, info.value.column) == (line, column)


# (source, expected stdout, expected printed result) run on @posthog/hogvm
REFERENCE_CASES: list[tuple[str, list[str], str]] = [
    ("return 2 + 3 * 4", [], "14"),
    ("let a := [1, 2]\na[2] := 5\nreturn a", [], "[1, 5]"),
    ("let d := {'a': {'b': 1}}\nd.a.b := 2\nreturn d", [], "{'a': {'b': 2}}"),
    ("for (let i := 0; i < 3; i := i + 1) print(i)", ["0", "1", "2"], "null"),
    ("for (let k, v in {'a': 1}) print(k, v)", ["a 1"], "null"),
    ("fun f(n) { if (n < 2) return n; return f(n - 1) + f(n - 2) }\nreturn f(15)", [], "610"),
    ("fun mk() { let c := 0; return () -> { c := c + 1; return c } }\nlet c := mk()\nc()\nreturn c()", [], "2"),
    ("try { throw Error('x') } catch (e) { print(e.message) }\nreturn 1", ["x"], "1"),
    ("try { throw RetryError('r') } catch (e: Other) { print(1) } catch (e: RetryError) { print(2) }", ["2"], "null"),
    ("return if(false, 1)", [], "null"),
    ("return multiIf(false, 1, false, 2)", [], "null"),
    ("for (let i := 0; false; ) print(i)\nfor (let j := 0; j < 2; ) { j := j + 1 }\nreturn 'ok'", [], "'ok'"),
    ("return (x -> x + 1)(1)", [], "2"),
    ("let t := (1, (2, 3))\nreturn t.2.1", [], "2"),
    ("let x := 1\n{ let x := 2\n print(x) }\nreturn x", ["2"], "1"),
]


@pytest.mark.node
def test_compiled_programs_run_on_reference_vm(run_node) -> None:
    outcomes = run_node([compile_program(source) for source, _, _ in REFERENCE_CASES])
    for (source, stdout, result), outcome in zip(REFERENCE_CASES, outcomes, strict=True):
        assert outcome["error"] is None, (source, outcome)
        assert (outcome["stdout"], outcome["result_repr"]) == (stdout, result), source
