"""Standard-library functions written in HogVM bytecode, so they can call Hog lambdas.

``arrayMap(fn, arr)`` and friends must call back into Hog closures. Running them as bytecode
chunks keeps the VM iterative (no Python recursion per call). The programs are assembled here
from a small label-aware description.
"""

from __future__ import annotations

from typing import Any

from assay.hog.opcodes import BYTECODE_MARKER, Operation
from assay.hog.stdlib.arrays import APPEND_IN_PLACE

_JUMPS = {Operation.JUMP, Operation.JUMP_IF_FALSE, Operation.JUMP_IF_STACK_NOT_NULL}


def assemble(*items: Any) -> list[Any]:
    """Assemble ``items`` into a bytecode chunk.

    A string starting with ``:`` defines a label; a tuple ``(JUMP*, ":label")`` emits a relative
    jump to it; anything else is emitted as-is.
    """
    labels: dict[str, int] = {}
    pos = 2
    for item in items:
        if isinstance(item, str) and item.startswith(":"):
            labels[item] = pos
        elif isinstance(item, tuple):
            pos += 2
        else:
            pos += 1
    out: list[Any] = [BYTECODE_MARKER, 1]
    for item in items:
        if isinstance(item, str) and item.startswith(":"):
            continue
        if isinstance(item, tuple):
            op, label = item
            assert op in _JUMPS
            here = len(out)
            out.extend([int(op), labels[label] - (here + 2)])
        else:
            out.append(int(item) if isinstance(item, Operation) else item)
    return out


Op = Operation


def _loop(prologue: list[Any], body: list[Any], epilogue: list[Any], items: int, n: int, i: int) -> list[Any]:
    """``for i in 1..n`` over local ``items`` with ``body`` run per element."""
    return assemble(
        *prologue,
        Op.GET_LOCAL,
        1,
        Op.CALL_GLOBAL,
        "values",
        1,  # items = values(arr)
        Op.GET_LOCAL,
        items,
        Op.CALL_GLOBAL,
        "length",
        1,  # n = length(items)
        Op.INTEGER,
        1,  # i = 1
        ":loop",
        Op.GET_LOCAL,
        n,
        Op.GET_LOCAL,
        i,
        Op.LT_EQ,  # i <= n
        (Op.JUMP_IF_FALSE, ":end"),
        *body,
        ":next",
        Op.GET_LOCAL,
        i,
        Op.INTEGER,
        1,
        Op.PLUS,
        Op.SET_LOCAL,
        i,
        (Op.JUMP, ":loop"),
        ":end",
        *epilogue,
    )


def _item(items: int, i: int) -> list[Any]:
    return [Op.GET_LOCAL, items, Op.GET_LOCAL, i, Op.GET_PROPERTY]


# arrayMap(func, arr): locals 0 func, 1 arr, 2 result, 3 items, 4 n, 5 i
_ARRAY_MAP = _loop(
    [Op.ARRAY, 0],
    [Op.GET_LOCAL, 2, *_item(3, 5), Op.GET_LOCAL, 0, Op.CALL_LOCAL, 1, Op.CALL_GLOBAL, APPEND_IN_PLACE, 2, Op.POP],
    [Op.GET_LOCAL, 2, Op.RETURN],
    items=3,
    n=4,
    i=5,
)

# arrayFilter(func, arr): locals 0 func, 1 arr, 2 item, 3 result, 4 items, 5 n, 6 i
_ARRAY_FILTER = _loop(
    [Op.NULL, Op.ARRAY, 0],
    [
        *_item(4, 6),
        Op.SET_LOCAL,
        2,
        Op.GET_LOCAL,
        2,
        Op.GET_LOCAL,
        0,
        Op.CALL_LOCAL,
        1,
        (Op.JUMP_IF_FALSE, ":next"),
        Op.GET_LOCAL,
        3,
        Op.GET_LOCAL,
        2,
        Op.CALL_GLOBAL,
        APPEND_IN_PLACE,
        2,
        Op.POP,
    ],
    [Op.GET_LOCAL, 3, Op.RETURN],
    items=4,
    n=5,
    i=6,
)

# arrayExists(func, arr): locals 0 func, 1 arr, 2 unused, 3 items, 4 n, 5 i
_ARRAY_EXISTS = _loop(
    [Op.NULL],
    [*_item(3, 5), Op.GET_LOCAL, 0, Op.CALL_LOCAL, 1, (Op.JUMP_IF_FALSE, ":next"), Op.TRUE, Op.RETURN],
    [Op.FALSE, Op.RETURN],
    items=3,
    n=4,
    i=5,
)

# arrayCount(func, arr): locals 0 func, 1 arr, 2 count, 3 items, 4 n, 5 i
_ARRAY_COUNT = _loop(
    [Op.INTEGER, 0],
    [
        *_item(3, 5),
        Op.GET_LOCAL,
        0,
        Op.CALL_LOCAL,
        1,
        (Op.JUMP_IF_FALSE, ":next"),
        Op.GET_LOCAL,
        2,
        Op.INTEGER,
        1,
        Op.PLUS,
        Op.SET_LOCAL,
        2,
    ],
    [Op.GET_LOCAL, 2, Op.RETURN],
    items=3,
    n=4,
    i=5,
)

# arrayReduce(func, arr, initial): locals 0 func, 1 arr, 2 accumulator, 3 unused, 4 items, 5 n, 6 i
_ARRAY_REDUCE = _loop(
    [Op.NULL],
    [Op.GET_LOCAL, 2, *_item(4, 6), Op.GET_LOCAL, 0, Op.CALL_LOCAL, 2, Op.SET_LOCAL, 2],
    [Op.GET_LOCAL, 2, Op.RETURN],
    items=4,
    n=5,
    i=6,
)

#: name -> (argument names, bytecode)
BYTECODE_FUNCTIONS: dict[str, tuple[list[str], list[Any]]] = {
    "arrayMap": (["func", "arr"], _ARRAY_MAP),
    "arrayFilter": (["func", "arr"], _ARRAY_FILTER),
    "arrayExists": (["func", "arr"], _ARRAY_EXISTS),
    "arrayCount": (["func", "arr"], _ARRAY_COUNT),
    "arrayReduce": (["func", "arr", "initial"], _ARRAY_REDUCE),
}
