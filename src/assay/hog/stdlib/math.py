"""Numeric functions: round, floor, plus, minus, range, randomFloat."""

from __future__ import annotations

import math
import secrets
from typing import Any

from assay.hog.stdlib.registry import ExecContext, stl
from assay.hog.stdlib.values import js_string, to_number


def _js_floor(value: Any) -> int | float:
    n = to_number(value)
    if type(n) is int:
        return n
    if n != n or math.isinf(n):
        return n
    return math.floor(n)


@stl("floor", 1, 2)
def _floor(args: list[Any], ctx: ExecContext) -> int | float:
    return _js_floor(args[0])


@stl("round", 1, 2)
def _round(args: list[Any], ctx: ExecContext) -> int | float:
    n = to_number(args[0])
    if type(n) is int:
        return n
    if n != n or math.isinf(n):
        return n
    return math.floor(n + 0.5)


def _is_stringy(value: Any) -> bool:
    return type(value) in (str, list, tuple, dict)


@stl("plus", 2, 2)
def _plus(args: list[Any], ctx: ExecContext) -> Any:
    a, b = args
    if _is_stringy(a) or _is_stringy(b):
        text = js_string(a) + js_string(b)
        ctx.reserve_string(len(text))
        return text
    return to_number(a) + to_number(b)


@stl("minus", 2, 2)
def _minus(args: list[Any], ctx: ExecContext) -> int | float:
    return to_number(args[0]) - to_number(args[1])


@stl("range", 1, 2)
def _range(args: list[Any], ctx: ExecContext) -> list[int | float]:
    start: int | float
    if len(args) == 1 or args[1] is None:
        start, stop = 0, to_number(args[0])
    else:
        start, stop = to_number(args[0]), to_number(args[1])
    if start != start or stop != stop or math.isinf(start) or math.isinf(stop):
        return []
    count = max(0, math.floor(stop - start))
    ctx.reserve_array(count)
    if type(start) is int:
        return list(range(start, start + count))
    return [start + i for i in range(count)]


@stl("randomFloat", 0, 0)
def _random_float(args: list[Any], ctx: ExecContext) -> float:
    return secrets.randbelow(2**53) / 2**53
