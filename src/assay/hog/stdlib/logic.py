"""Logical and comparison functions (``and``, ``if``, ``multiIf``, ``equals``, ``coalesce`` …)."""

from __future__ import annotations

from typing import Any

from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.registry import ExecContext, stl
from assay.hog.stdlib.values import js_truthy, strict_equals, to_number


def _raw_compare(a: Any, b: Any, op: str) -> bool:
    if type(a) is str and type(b) is str:
        x: Any = a
        y: Any = b
    else:
        x, y = to_number(a), to_number(b)
        if x != x or y != y:
            return False
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    if op == "<":
        return x < y
    return x <= y


@stl("and", 1, None)
def _and(args: list[Any], ctx: ExecContext) -> bool:
    return all(js_truthy(a) for a in args)


@stl("or", 1, None)
def _or(args: list[Any], ctx: ExecContext) -> bool:
    return any(js_truthy(a) for a in args)


@stl("not", 1, 1)
def _not(args: list[Any], ctx: ExecContext) -> bool:
    return not js_truthy(args[0])


@stl("if", 3, 3)
def _if(args: list[Any], ctx: ExecContext) -> Any:
    return args[1] if js_truthy(args[0]) else args[2]


@stl("multiIf", 3, None)
def _multi_if(args: list[Any], ctx: ExecContext) -> Any:
    pairs = args[:-1]
    for i in range(0, len(pairs), 2):
        if js_truthy(pairs[i]):
            return pairs[i + 1] if i + 1 < len(pairs) else None
    return args[-1]


@stl("in", 2, 2)
def _in(args: list[Any], ctx: ExecContext) -> bool:
    value, container = args
    if type(container) in (list, tuple):
        return any(strict_equals(v, value) for v in container)
    return False


@stl("coalesce", 1, None)
def _coalesce(args: list[Any], ctx: ExecContext) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


@stl("assumeNotNull", 1, 1)
def _assume_not_null(args: list[Any], ctx: ExecContext) -> Any:
    if args[0] is None:
        raise HogRuntimeError("Value is null in assumeNotNull")
    return args[0]


@stl("equals", 2, 2)
def _equals(args: list[Any], ctx: ExecContext) -> bool:
    return strict_equals(args[0], args[1])


@stl("notEquals", 2, 2)
def _not_equals(args: list[Any], ctx: ExecContext) -> bool:
    return not strict_equals(args[0], args[1])


def _ordered(a: Any, b: Any, op: str) -> bool:
    """``greater``/``less`` and kin: false when either side is null, as in PostHog's VMs."""
    if a is None or b is None:
        return False
    return _raw_compare(a, b, op)


@stl("greater", 2, 2)
def _greater(args: list[Any], ctx: ExecContext) -> bool:
    return _ordered(args[0], args[1], ">")


@stl("greaterOrEquals", 2, 2)
def _greater_or_equals(args: list[Any], ctx: ExecContext) -> bool:
    return _ordered(args[0], args[1], ">=")


@stl("less", 2, 2)
def _less(args: list[Any], ctx: ExecContext) -> bool:
    return _ordered(args[0], args[1], "<")


@stl("lessOrEquals", 2, 2)
def _less_or_equals(args: list[Any], ctx: ExecContext) -> bool:
    return _ordered(args[0], args[1], "<=")


@stl("min2", 2, 2)
def _min2(args: list[Any], ctx: ExecContext) -> Any:
    return args[0] if _raw_compare(args[0], args[1], "<") else args[1]
