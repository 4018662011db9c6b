"""HogVM opcode semantics on hand-assembled bytecode (operand order, jumps, frames, try/catch)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from assay.hog.errors import HogRuntimeError
from assay.hog.opcodes import Operation as Op
from assay.hog.vm import HogUncaughtError, execute_bytecode


def run(*ops: Any, globals: dict[str, Any] | None = None) -> Any:
    return execute_bytecode(["_H", 1, *ops], globals).result


def test_opcode_numbers_match_the_published_vm() -> None:
    assert Op.GET_GLOBAL == 1 and Op.CALL_GLOBAL == 2 and Op.STRING == 32 and Op.RETURN == 38
    assert Op.CALLABLE == 52 and Op.CLOSURE == 53 and Op.CLOSE_UPVALUE == 57
    assert len(Op) == 57


def test_binary_ops_take_the_left_operand_from_the_top_of_the_stack() -> None:
    # `left - right` is compiled as: push right, push left, MINUS
    assert run(Op.INTEGER, 3, Op.INTEGER, 10, Op.MINUS, Op.RETURN) == 7
    assert run(Op.INTEGER, 4, Op.INTEGER, 10, Op.DIVIDE, Op.RETURN) == 2.5
    assert run(Op.INTEGER, 3, Op.INTEGER, 10, Op.MOD, Op.RETURN) == 1
    assert run(Op.INTEGER, 3, Op.INTEGER, 10, Op.LT, Op.RETURN) is False
    assert run(Op.INTEGER, 3, Op.INTEGER, 10, Op.GT, Op.RETURN) is True


@pytest.mark.parametrize(
    ("left", "right", "op", "expected"),
    [
        (1, "1", Op.EQ, True),
        (True, "true", Op.EQ, True),
        (True, 1, Op.EQ, True),
        (None, 0, Op.EQ, False),
        ("abc", "abd", Op.LT, True),
        (None, 1, Op.LT, False),  # PostHog orders nothing against null
        (1, None, Op.GT, False),
        (None, None, Op.LT_EQ, False),
        ("x", 1, Op.GT, False),
        (2.5, 2, Op.GT_EQ, True),
    ],
)
def test_comparisons_coerce_like_the_reference(left: Any, right: Any, op: Op, expected: bool) -> None:
    def push(v: Any) -> list[Any]:
        if v is None:
            return [Op.NULL]
        if v is True:
            return [Op.TRUE]
        if isinstance(v, str):
            return [Op.STRING, v]
        return [Op.FLOAT if isinstance(v, float) else Op.INTEGER, v]

    assert run(*push(right), *push(left), op, Op.RETURN) is expected


def test_arithmetic_follows_javascript_numbers() -> None:
    assert run(Op.INTEGER, 0, Op.INTEGER, 1, Op.DIVIDE, Op.RETURN) == math.inf
    assert math.isnan(run(Op.INTEGER, 0, Op.INTEGER, 0, Op.DIVIDE, Op.RETURN))
    assert run(Op.INTEGER, 3, Op.INTEGER, -7, Op.MOD, Op.RETURN) == -1
    assert run(Op.STRING, "2", Op.STRING, "3", Op.PLUS, Op.RETURN) == 5
    assert run(Op.NULL, Op.INTEGER, 4, Op.PLUS, Op.RETURN) == 4
    assert math.isnan(run(Op.STRING, "x", Op.INTEGER, 4, Op.PLUS, Op.RETURN))


def test_and_or_not_use_truthiness() -> None:
    assert run(Op.INTEGER, 1, Op.STRING, "a", Op.AND, 2, Op.RETURN) is True
    assert run(Op.INTEGER, 0, Op.STRING, "a", Op.AND, 2, Op.RETURN) is False
    assert run(Op.STRING, "", Op.NULL, Op.OR, 2, Op.RETURN) is False
    assert run(Op.ARRAY, 0, Op.NOT, Op.RETURN) is False


def test_jumps_are_relative_to_the_next_instruction() -> None:
    # if (false) return 1; return 2
    assert run(Op.FALSE, Op.JUMP_IF_FALSE, 3, Op.INTEGER, 1, Op.RETURN, Op.INTEGER, 2, Op.RETURN) == 2
    assert run(Op.NULL, Op.JUMP_IF_STACK_NOT_NULL, 3, Op.POP, Op.STRING, "d", Op.RETURN) == "d"
    assert run(Op.STRING, "v", Op.JUMP_IF_STACK_NOT_NULL, 3, Op.POP, Op.STRING, "d", Op.RETURN) == "v"


def test_locals_and_collections() -> None:
    program = [
        Op.STRING,
        "a",
        Op.INTEGER,
        1,
        Op.DICT,
        1,  # local 0 = {'a': 1}
        Op.GET_LOCAL,
        0,
        Op.STRING,
        "b",
        Op.ARRAY,
        0,
        Op.SET_PROPERTY,  # local0.b := []
        Op.GET_LOCAL,
        0,
        Op.RETURN,
    ]
    assert run(*program) == {"a": 1, "b": []}
    assert run(Op.INTEGER, 1, Op.INTEGER, 2, Op.TUPLE, 2, Op.RETURN) == (1, 2)


def test_indexing_is_one_based_and_negative_from_the_end() -> None:
    arr = [Op.INTEGER, 10, Op.INTEGER, 20, Op.INTEGER, 30, Op.ARRAY, 3]
    assert run(*arr, Op.INTEGER, 1, Op.GET_PROPERTY, Op.RETURN) == 10
    assert run(*arr, Op.INTEGER, -1, Op.GET_PROPERTY, Op.RETURN) == 30
    assert run(*arr, Op.INTEGER, 4, Op.GET_PROPERTY, Op.RETURN) is None
    with pytest.raises(HogRuntimeError, match="start from index 1"):
        run(*arr, Op.INTEGER, 0, Op.GET_PROPERTY, Op.RETURN)


def test_globals_are_copied_on_read() -> None:
    host = {"properties": {"a": [1, 2]}}
    program = [
        Op.STRING,
        "a",
        Op.STRING,
        "properties",
        Op.GET_GLOBAL,
        2,
        Op.INTEGER,
        1,
        Op.INTEGER,
        99,
        Op.SET_PROPERTY,
        Op.STRING,
        "a",
        Op.STRING,
        "properties",
        Op.GET_GLOBAL,
        2,
        Op.RETURN,
    ]
    assert run(*program, globals=host) == [1, 2]
    assert host == {"properties": {"a": [1, 2]}}
    with pytest.raises(HogRuntimeError, match="Global variable not found: nope"):
        run(Op.STRING, "nope", Op.GET_GLOBAL, 1, Op.RETURN)


def test_host_objects_never_reach_the_program() -> None:
    class Secret:
        def __str__(self) -> str:
            return "secret-as-text"

    assert run(Op.STRING, "x", Op.GET_GLOBAL, 1, Op.RETURN, globals={"x": Secret()}) == "secret-as-text"


def test_callable_closure_and_call_local() -> None:
    # fn(a, b) -> a - b, called with (10, 3)
    program = [
        Op.CALLABLE,
        "sub",
        2,
        0,
        6,
        Op.GET_LOCAL,
        1,
        Op.GET_LOCAL,
        0,
        Op.MINUS,
        Op.RETURN,
        Op.CLOSURE,
        0,
        Op.INTEGER,
        10,
        Op.INTEGER,
        3,
        Op.GET_LOCAL,
        0,
        Op.CALL_LOCAL,
        2,
        Op.RETURN,
    ]
    assert run(*program) == 7


def test_missing_arguments_are_null_and_extra_arguments_fail() -> None:
    program = [Op.CALLABLE, "f", 2, 0, 3, Op.GET_LOCAL, 1, Op.RETURN, Op.CLOSURE, 0]
    assert run(*program, Op.INTEGER, 1, Op.GET_LOCAL, 0, Op.CALL_LOCAL, 1, Op.RETURN) is None
    with pytest.raises(HogRuntimeError, match="Too many arguments"):
        run(*program, Op.INTEGER, 1, Op.INTEGER, 1, Op.INTEGER, 1, Op.GET_LOCAL, 0, Op.CALL_LOCAL, 3)


def test_upvalues_are_shared_and_survive_their_frame() -> None:
    # let x := 1; let f := () -> { x := x + 1 }; f(); f(); return x
    program = [
        Op.INTEGER,
        1,
        Op.CALLABLE,
        "f",
        0,
        1,
        9,
        Op.GET_UPVALUE,
        0,
        Op.INTEGER,
        1,
        Op.PLUS,
        Op.SET_UPVALUE,
        0,
        Op.NULL,
        Op.RETURN,
        Op.CLOSURE,
        1,
        1,
        0,
        Op.GET_LOCAL,
        1,
        Op.CALL_LOCAL,
        0,
        Op.POP,
        Op.GET_LOCAL,
        1,
        Op.CALL_LOCAL,
        0,
        Op.POP,
        Op.GET_LOCAL,
        0,
        Op.RETURN,
    ]
    assert run(*program) == 3


def test_try_catch_receives_the_error_dict() -> None:
    # try { throw Error('boom') } catch (e) { return e.message }
    program = [
        Op.TRY,
        10,
        Op.STRING,
        "boom",
        Op.CALL_GLOBAL,
        "Error",
        1,
        Op.THROW,
        Op.POP_TRY,
        Op.JUMP,
        5,
        Op.STRING,
        "message",
        Op.GET_PROPERTY,
        Op.RETURN,
    ]
    assert run(*program) == "boom"


def test_uncaught_throw_and_non_error_throw() -> None:
    with pytest.raises(HogUncaughtError) as info:
        run(Op.STRING, "bad", Op.CALL_GLOBAL, "Error", 1, Op.THROW)
    assert (info.value.type, info.value.message, str(info.value)) == ("Error", "bad", "Error('bad')")
    with pytest.raises(HogRuntimeError, match="not of type Error"):
        run(Op.STRING, "x", Op.THROW)


def test_stl_functions_can_be_passed_as_values() -> None:
    program = [Op.STRING, "abc", Op.STRING, "upper", Op.GET_GLOBAL, 1, Op.CALL_LOCAL, 1, Op.RETURN]
    assert run(*program) == "ABC"


@pytest.mark.parametrize(
    "bytecode",
    [[], ["nope"], ["_H", 1, 9999], ["_H", 1, Op.POP], ["_H", 1, Op.GET_LOCAL, 5, Op.RETURN], ["_H", 1, Op.JUMP]],
)
def test_malformed_bytecode_raises_a_runtime_error(bytecode: list[Any]) -> None:
    with pytest.raises(HogRuntimeError):
        execute_bytecode(bytecode)


def test_unavailable_io_functions_are_refused() -> None:
    for name in ("fetch", "postHogCapture", "sleep"):
        with pytest.raises(HogRuntimeError, match=f"{name}\\(\\) is not available in Assay evaluations"):
            run(Op.STRING, "x", Op.CALL_GLOBAL, name, 1, Op.RETURN)


def test_version_zero_bytecode_pops_arguments_in_reverse() -> None:
    assert execute_bytecode(["_h", Op.STRING, "b", Op.STRING, "a", Op.CALL_GLOBAL, "concat", 2]).result == "ab"
