"""String functions: case, trimming, searching, replacing, splitting and concatenation.

A null string gives null from the functions that transform it (case, trimming, reversing, replacing,
splitting), as in PostHog's VMs; the searching ones answer 0, false or '' as before.
"""

from __future__ import annotations

from typing import Any

from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.registry import ExecContext, arg, stl
from assay.hog.stdlib.types import to_string
from assay.hog.stdlib.values import js_string


def _require_str(value: Any, fn: str, method: str) -> str:
    if type(value) is str:
        return value
    if value is None:
        raise HogRuntimeError(f"Cannot read properties of null (reading '{method}')")
    raise HogRuntimeError(f"{fn}() expects a string, got {js_string(value)!r}")


@stl("concat", 1, None)
def _concat(args: list[Any], ctx: ExecContext) -> str:
    parts = ["" if a is None else to_string(a) for a in args]
    ctx.reserve_string(sum(len(p) for p in parts))
    return "".join(parts)


@stl("lower", 1, 1)
def _lower(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    return _require_str(args[0], "lower", "toLowerCase").lower()


@stl("upper", 1, 1)
def _upper(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    return _require_str(args[0], "upper", "toUpperCase").upper()


@stl("reverse", 1, 1)
def _reverse(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    return _require_str(args[0], "reverse", "split")[::-1]


def _trim_char(args: list[Any], fn: str) -> tuple[str, str] | None:
    text = _require_str(args[0], fn, "slice")
    char = arg(args, 1)
    if char is None:
        char = " "
    if type(char) is not str or len(char) != 1:
        return None
    return text, char


@stl("trim", 1, 2)
def _trim(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    found = _trim_char(args, "trim")
    return "" if found is None else found[0].strip(found[1])


@stl("trimLeft", 1, 2)
def _trim_left(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    found = _trim_char(args, "trimLeft")
    return "" if found is None else found[0].lstrip(found[1])


@stl("trimRight", 1, 2)
def _trim_right(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    found = _trim_char(args, "trimRight")
    return "" if found is None else found[0].rstrip(found[1])


@stl("replaceOne", 3, 3)
def _replace_one(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    text = _require_str(args[0], "replaceOne", "replace")
    search, replacement = js_string(args[1]), js_string(args[2])
    ctx.reserve_string(len(text) + len(replacement))
    return text.replace(search, replacement, 1)


@stl("replaceAll", 3, 3)
def _replace_all(args: list[Any], ctx: ExecContext) -> str | None:
    if args[0] is None:
        return None
    text = _require_str(args[0], "replaceAll", "replaceAll")
    search, replacement = js_string(args[1]), js_string(args[2])
    count = text.count(search) if search else len(text) + 1
    ctx.reserve_string(len(text) + count * max(0, len(replacement) - len(search)))
    return text.replace(search, replacement)


@stl("splitByString", 2, 3)
def _split_by_string(args: list[Any], ctx: ExecContext) -> list[str] | None:
    if args[1] is None:
        return None
    separator = js_string(args[0])
    text = _require_str(args[1], "splitByString", "split")
    limit = arg(args, 2)
    parts = list(text) if separator == "" else text.split(separator)
    ctx.reserve_array(len(parts))
    if limit is not None:
        n = int(limit) if type(limit) in (int, float) else 0
        parts = parts[: max(n, 0)]
    return parts


@stl("substring", 2, 3)
def _substring(args: list[Any], ctx: ExecContext) -> str:
    text, start = args[0], args[1]
    if type(text) is not str:
        return ""
    if type(start) not in (int, float):
        return ""
    start_idx = int(start) - 1
    length = arg(args, 2)
    length = int(length) if type(length) in (int, float) else len(text) - start_idx
    if start_idx < 0 or length < 0:
        return ""
    return text[start_idx : start_idx + length] if start_idx < len(text) else ""


@stl("position", 2, 3)
def _position(args: list[Any], ctx: ExecContext) -> int:
    if type(args[0]) is not str:
        return 0
    return args[0].find(js_string(args[1])) + 1


@stl("positionCaseInsensitive", 2, 3)
def _position_ci(args: list[Any], ctx: ExecContext) -> int:
    if type(args[0]) is not str:
        return 0
    return args[0].lower().find(js_string(args[1]).lower()) + 1


@stl("startsWith", 2, 2)
def _starts_with(args: list[Any], ctx: ExecContext) -> bool:
    return type(args[0]) is str and type(args[1]) is str and args[0].startswith(args[1])


@stl("multiSearchAnyCaseInsensitive", 2, 2)
def _multi_search_any_ci(args: list[Any], ctx: ExecContext) -> int:
    if args[0] is None or args[1] is None or type(args[1]) not in (list, tuple):
        return 0
    haystack = js_string(args[0]).lower()
    return 1 if any(js_string(n).lower() in haystack for n in args[1]) else 0
