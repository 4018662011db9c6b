"""JSON functions: jsonParse, jsonStringify, isValidJSON, JSONHas, JSONLength and JSONExtract*."""

from __future__ import annotations

import json
from typing import Any

from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.print import MAX_NESTING_DEPTH, Budget
from assay.hog.stdlib.registry import ExecContext, stl
from assay.hog.stdlib.values import (
    HogCallable,
    HogClosure,
    format_number,
    get_property,
    js_parse_float,
    js_parse_int,
    js_string,
)

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_TABLE = str.maketrans({**{chr(i): f"\\u{i:04x}" for i in range(0x20)}, **_ESCAPES})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name} in JSON")


def parse_json(text: Any) -> Any:
    """Parse JSON text the way ``JSON.parse`` does (no NaN/Infinity); raises ``ValueError``."""
    if type(text) is not str:
        text = js_string(text)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as e:
        raise ValueError("JSON is nested too deeply") from e


def _quote(text: str) -> str:
    return '"' + text.translate(_JSON_TABLE) + '"'


class _Writer:
    __slots__ = ("parts", "budget", "indent")

    def __init__(self, limit: int, indent: str, deadline: float | None) -> None:
        self.parts: list[str] = []
        self.budget = Budget(limit, deadline)
        self.indent = indent

    def add(self, text: str) -> None:
        self.budget.spend(len(text))
        self.parts.append(text)


def _key_text(key: Any) -> str:
    if type(key) is str:
        return key
    if isinstance(key, (HogClosure, HogCallable)):
        fn = key.callable if isinstance(key, HogClosure) else key
        return f"fn<{fn.name or 'lambda'}({fn.arg_count})>"
    return js_string(key)


def _write(value: Any, out: _Writer, marked: set[int], depth: int) -> None:
    t = type(value)
    if t is str:
        out.add(_quote(value))
        return
    if value is None:
        out.add("null")
        return
    if t is bool:
        out.add("true" if value else "false")
        return
    if t is int or t is float:
        out.add("null" if value != value or value in (float("inf"), float("-inf")) else format_number(value))
        return
    if isinstance(value, (HogClosure, HogCallable)):
        fn = value.callable if isinstance(value, HogClosure) else value
        out.add(_quote(f"fn<{fn.name or 'lambda'}({fn.arg_count})>"))
        return
    if depth > MAX_NESTING_DEPTH:
        raise HogRuntimeError("Value is nested too deeply to serialize")
    oid = id(value)
    if oid in marked:
        out.add("null")
        return
    marked.add(oid)
    try:
        pad = "\n" + out.indent * (depth + 1) if out.indent else ""
        end = "\n" + out.indent * depth if out.indent else ""
        if t is list or t is tuple:
            if not value:
                out.add("[]")
                return
            out.add("[")
            for i, item in enumerate(value):
                if i:
                    out.add(",")
                out.add(pad)
                _write(item, out, marked, depth + 1)
            out.add(end + "]")
            return
        if t is dict:
            if not value:
                out.add("{}")
                return
            out.add("{")
            colon = ": " if out.indent else ":"
            seen: dict[str, Any] = {}
            for k, v in value.items():
                seen[_key_text(k)] = v
            for i, (k, v) in enumerate(seen.items()):
                if i:
                    out.add(",")
                out.add(pad + _quote(k) + colon)
                _write(v, out, marked, depth + 1)
            out.add(end + "}")
            return
        out.add(_quote(str(value)))
    finally:
        marked.discard(oid)


def stringify(value: Any, indent: int = 0, limit: int = 16 * 1024 * 1024, deadline: float | None = None) -> str:
    """``JSON.stringify`` over Hog values: cycles become null, functions ``"fn<name(n)>"``."""
    out = _Writer(limit, " " * min(indent, 10) if indent > 0 else "", deadline)
    _write(value, out, set(), 0)
    return "".join(out.parts)


@stl("jsonParse", 1, 1)
def _json_parse(args: list[Any], ctx: ExecContext) -> Any:
    try:
        return parse_json(args[0])
    except ValueError as e:
        raise HogRuntimeError(f"jsonParse: invalid JSON: {e}") from e


@stl("jsonStringify", 1, 2)
def _json_stringify(args: list[Any], ctx: ExecContext) -> str:
    indent = args[1] if len(args) > 1 and type(args[1]) in (int, float) and args[1] > 0 else 0
    return stringify(args[0], int(indent), ctx.max_string_length, ctx.deadline)


@stl("isValidJSON", 1, 1)
def _is_valid_json(args: list[Any], ctx: ExecContext) -> bool:
    try:
        parse_json(args[0])
        return True
    except ValueError:
        return False


def _load(obj: Any) -> tuple[bool, Any]:
    if type(obj) is str:
        try:
            return True, parse_json(obj)
        except ValueError:
            return False, None
    return True, obj


def _nested(obj: Any, path: list[Any]) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = get_property(obj, key)
    return obj


@stl("JSONHas", 1, None)
def _json_has(args: list[Any], ctx: ExecContext) -> bool:
    current = args[0]
    for key in args[1:]:
        if type(current) is str:
            ok, current = _load(current)
            if not ok:
                return False
        if type(current) is dict:
            if key not in current:
                return False
            current = current[key]
        elif type(current) in (list, tuple):
            if type(key) in (int, float):
                k = int(key)
                if k == 0 or k > len(current) or k < -len(current):
                    return False
                current = current[k - 1] if k > 0 else current[k]
            else:
                return False
        else:
            return False
    return True


@stl("JSONLength", 1, None)
def _json_length(args: list[Any], ctx: ExecContext) -> int:
    ok, obj = _load(args[0])
    if not ok or type(obj) not in (dict, list, tuple):
        return 0
    value = _nested(obj, args[1:])
    if type(value) in (dict, list, tuple):
        return len(value)
    return 0


@stl("JSONExtractBool", 1, None)
def _json_extract_bool(args: list[Any], ctx: ExecContext) -> bool:
    ok, obj = _load(args[0])
    if not ok:
        return False
    if len(args) > 1:
        obj = _nested(obj, args[1:])
    return obj if type(obj) is bool else False


@stl("JSONExtractArrayRaw", 1, None)
def _json_extract_array_raw(args: list[Any], ctx: ExecContext) -> list[Any] | None:
    ok, obj = _load(args[0])
    if not ok:
        return None
    value = _nested(obj, args[1:])
    return value if type(value) is list else None


@stl("JSONExtractFloat", 1, None)
def _json_extract_float(args: list[Any], ctx: ExecContext) -> int | float | None:
    ok, obj = _load(args[0])
    if not ok:
        return None
    n = js_parse_float(_nested(obj, args[1:]))
    return None if n != n else n


@stl("JSONExtractInt", 1, None)
def _json_extract_int(args: list[Any], ctx: ExecContext) -> int | float | None:
    ok, obj = _load(args[0])
    if not ok:
        return None
    n = js_parse_int(_nested(obj, args[1:]))
    return None if n != n else n


@stl("JSONExtractString", 1, None)
def _json_extract_string(args: list[Any], ctx: ExecContext) -> str | None:
    ok, obj = _load(args[0])
    if not ok:
        return None
    value = _nested(obj, args[1:])
    return None if value is None else js_string(value)


@stl("JSONExtract", 2, None)
def _json_extract(args: list[Any], ctx: ExecContext) -> Any:
    ok, obj = _load(args[0])
    if not ok:
        return None
    return _nested(obj, args[1:-1])
