"""Type inspection and conversion: typeof, toString, toInt, toFloat, length, empty, errors, tuples."""

from __future__ import annotations

import math
from typing import Any

from assay.hog.stdlib.print import print_hog_string_output
from assay.hog.stdlib.registry import ExecContext, arg, stl
from assay.hog.stdlib.values import (
    is_hog_date,
    is_hog_datetime,
    js_parse_float,
    js_parse_int,
    new_hog_error,
    type_name,
)


def to_string(value: Any) -> str:
    """``toString(value)``: dates as ISO text, strings as-is, everything else as a Hog literal."""
    if type(value) is dict:
        if is_hog_date(value):
            return f"{value['year']}-{int(value['month']):02d}-{int(value['day']):02d}"
        if is_hog_datetime(value):
            from assay.hog.stdlib.datetime import datetime_to_iso

            return datetime_to_iso(value)
    return print_hog_string_output(value)


@stl("toString", 1, 2)
def _to_string(args: list[Any], ctx: ExecContext) -> str:
    return to_string(args[0])


@stl("toUUID", 1, 1)
def _to_uuid(args: list[Any], ctx: ExecContext) -> str:
    return to_string(args[0])


def _days_since_epoch(value: dict[str, Any]) -> int:
    from assay.hog.stdlib.datetime import date_to_seconds

    return math.floor(date_to_seconds(value) / 86400)


@stl("toInt", 1, 1)
def _to_int(args: list[Any], ctx: ExecContext) -> int | None:
    value = args[0]
    if is_hog_datetime(value):
        return math.floor(value["dt"])
    if is_hog_date(value):
        return _days_since_epoch(value)
    n = js_parse_int(value)
    return None if n != n else n  # type: ignore[return-value]


@stl("toFloat", 1, 1)
def _to_float(args: list[Any], ctx: ExecContext) -> int | float | None:
    value = args[0]
    if is_hog_datetime(value):
        return value["dt"]
    if is_hog_date(value):
        return _days_since_epoch(value)
    n = js_parse_float(value)
    return None if n != n else n


@stl("typeof", 1, 1)
def _typeof(args: list[Any], ctx: ExecContext) -> str:
    return type_name(args[0])


@stl("isNull", 1, 1)
def _is_null(args: list[Any], ctx: ExecContext) -> bool:
    return args[0] is None


@stl("isNotNull", 1, 1)
def _is_not_null(args: list[Any], ctx: ExecContext) -> bool:
    return args[0] is not None


@stl("ifNull", 2, 2)
def _if_null(args: list[Any], ctx: ExecContext) -> Any:
    return args[0] if args[0] is not None else args[1]


@stl("length", 1, 1)
def _length(args: list[Any], ctx: ExecContext) -> int | None:
    value = args[0]
    t = type(value)
    if t is str or t is list or t is tuple:
        return len(value)
    return None  # null (PostHog returns null for it) and values without a length


def is_empty(value: Any) -> bool:
    """``empty(value)``: null, '', [] and {} are empty; numbers and booleans never are."""
    t = type(value)
    if value is None:
        return True
    if t is list or t is tuple or t is dict:
        return len(value) == 0
    if t is int or t is float or t is bool:
        return False
    if t is str:
        return value == ""
    return False


@stl("empty", 1, 1)
def _empty(args: list[Any], ctx: ExecContext) -> bool:
    return is_empty(args[0])


@stl("notEmpty", 1, 1)
def _not_empty(args: list[Any], ctx: ExecContext) -> bool:
    return not is_empty(args[0])


@stl("tuple", 0, None)
def _tuple(args: list[Any], ctx: ExecContext) -> tuple[Any, ...]:
    return tuple(args)


@stl("HogError", 1, 3)
def _hog_error(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
    return new_hog_error(args[0], arg(args, 1), arg(args, 2))


def _named_error(name: str) -> None:
    @stl(name, 0, 2)
    def _error(args: list[Any], ctx: ExecContext) -> dict[str, Any]:
        return new_hog_error(name, arg(args, 0), arg(args, 1))


for _name in ("Error", "RetryError", "NotImplementedError"):
    _named_error(_name)
