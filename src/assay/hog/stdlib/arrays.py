"""Array functions: push/pop, sort, reverse, join, has, indexOf, keys and values."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from assay.hog.stdlib.registry import ExecContext, stl
from assay.hog.stdlib.values import js_string, strict_equals

#: Name of the in-place append used by the Hog-coded array functions; not expressible in Hog source.
APPEND_IN_PLACE = "<append>"


def _is_array(value: Any) -> bool:
    return type(value) is list or type(value) is tuple


@stl("arrayPushBack", 2, 2)
def _push_back(args: list[Any], ctx: ExecContext) -> list[Any]:
    arr, item = args
    if not _is_array(arr):
        return [item]
    ctx.reserve_array(len(arr) + 1)
    return [*arr, item]


@stl("arrayPushFront", 2, 2)
def _push_front(args: list[Any], ctx: ExecContext) -> list[Any]:
    arr, item = args
    if not _is_array(arr):
        return [item]
    ctx.reserve_array(len(arr) + 1)
    return [item, *arr]


@stl("arrayPopBack", 1, 1)
def _pop_back(args: list[Any], ctx: ExecContext) -> list[Any]:
    arr = args[0]
    return list(arr[:-1]) if _is_array(arr) else []


@stl("arrayPopFront", 1, 1)
def _pop_front(args: list[Any], ctx: ExecContext) -> list[Any]:
    arr = args[0]
    return list(arr[1:]) if _is_array(arr) else []


def _js_sorted(arr: Any) -> list[Any]:
    """JavaScript's default ``sort()``: compare the string forms, code unit by code unit."""

    def cmp(a: Any, b: Any) -> int:
        ka = js_string(a).encode("utf-16-be")
        kb = js_string(b).encode("utf-16-be")
        return (ka > kb) - (ka < kb)

    return sorted(arr, key=cmp_to_key(cmp))


@stl("arraySort", 1, None)
def _sort(args: list[Any], ctx: ExecContext) -> list[Any]:
    return _js_sorted(args[0]) if _is_array(args[0]) else []


@stl("arrayReverse", 1, 1)
def _reverse(args: list[Any], ctx: ExecContext) -> list[Any]:
    return list(reversed(args[0])) if _is_array(args[0]) else []


@stl("arrayReverseSort", 1, None)
def _reverse_sort(args: list[Any], ctx: ExecContext) -> list[Any]:
    if not _is_array(args[0]):
        return []
    result = _js_sorted(args[0])
    result.reverse()
    return result


@stl("arrayStringConcat", 1, 2)
def _string_concat(args: list[Any], ctx: ExecContext) -> str:
    arr = args[0]
    if not _is_array(arr):
        return ""
    # Like JavaScript's join: no separator means "", but an explicit null one is the text "null".
    separator = js_string(args[1]) if len(args) > 1 else ""
    parts = ["" if v is None else js_string(v) for v in arr]
    ctx.reserve_string(sum(len(p) for p in parts) + len(separator) * max(0, len(parts) - 1))
    return separator.join(parts)


@stl("has", 2, 2)
def _has(args: list[Any], ctx: ExecContext) -> bool:
    arr, elem = args
    if not _is_array(arr):
        return False
    return any(strict_equals(v, elem) for v in arr)


@stl("indexOf", 2, 2)
def _index_of(args: list[Any], ctx: ExecContext) -> int:
    arr, elem = args
    if _is_array(arr):
        for i, v in enumerate(arr):
            if strict_equals(v, elem):
                return i + 1
    return 0


@stl("keys", 1, 1)
def _keys(args: list[Any], ctx: ExecContext) -> list[Any]:
    obj = args[0]
    if _is_array(obj):
        return list(range(len(obj)))
    if type(obj) is dict:
        return list(obj.keys())
    return []


@stl("values", 1, 1)
def _values(args: list[Any], ctx: ExecContext) -> list[Any]:
    obj = args[0]
    if _is_array(obj):
        return list(obj)
    if type(obj) is dict:
        return list(obj.values())
    return []


@stl(APPEND_IN_PLACE, 2, 2)
def _append_in_place(args: list[Any], ctx: ExecContext) -> None:
    arr, item = args
    if len(arr) >= ctx.max_array_length:
        ctx.reserve_array(len(arr) + 1)
    ctx.allocated += 8
    arr.append(item)
