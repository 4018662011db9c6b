"""Compile PostHog property filters (`{key, value, operator, type}`) to HogVM bytecode.

The bytecode runs against the globals `{event, elements_chain, distinct_id, person: {properties}, properties}`
and returns `true` when every filter matches (an empty list always matches). Filters are ANDed.
"""

from __future__ import annotations

import re
from typing import Any

from assay.domain.user_regex import UserRegexError, compile_user_regex
from assay.hog import ast
from assay.hog.compiler import compile_ast


class FilterCompileError(ValueError):
    """A property filter cannot be compiled (unknown operator or type, or a bad value)."""


_TYPE_PREFIX: dict[str, list[str]] = {
    "event": ["properties"],
    "person": ["person", "properties"],
}

_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "min": ">=", "max": "<="}
_DATE_COMPARISONS = {"is_date_before": "<", "is_date_after": ">"}
# Operators whose list form means "none of" (ANDed) rather than "any of" (ORed).
_NEGATED = {"is_not", "not_icontains", "not_regex", "not_in"}

OPERATORS = frozenset(
    {
        "exact",
        "is_not",
        "icontains",
        "not_icontains",
        "regex",
        "not_regex",
        "gt",
        "gte",
        "lt",
        "lte",
        "is_set",
        "is_not_set",
        "is_date_exact",
        "is_date_before",
        "is_date_after",
        "between",
        "not_between",
        "min",
        "max",
        "in",
        "not_in",
    }
)


def _const(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


def _call(name: str, *args: ast.Expr) -> ast.Call:
    return ast.Call(name=name, args=list(args))


def _binary(op: str, left: ast.Expr, right: ast.Expr) -> ast.BinaryOp:
    return ast.BinaryOp(op=op, left=left, right=right)


def _number(value: Any, operator: str) -> int | float:
    if isinstance(value, bool):
        raise FilterCompileError(f"Operator {operator!r} needs a number, got {value!r}")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        raise FilterCompileError(f"Operator {operator!r} needs a number, got {value!r}") from None
    return int(number) if number.is_integer() and re.fullmatch(r"\s*-?\d+\s*", str(value)) else number


def _scalar(value: Any) -> ast.Constant:
    if value is None or isinstance(value, bool | int | float | str):
        return _const(value)
    raise FilterCompileError(f"Unsupported filter value {value!r}")


def _pattern(value: Any) -> str:
    """A regex filter's pattern, refused now if RE2 cannot compile it (rather than failing on every event)."""
    pattern = str(value)
    try:
        compile_user_regex(pattern)
    except UserRegexError as e:
        raise FilterCompileError(f"Invalid regex pattern {pattern!r}: {e.reason}") from None
    return pattern


def _text(field: ast.Expr) -> ast.Expr:
    """The property as a string, with null read as the empty string."""
    return _call("toString", _call("ifNull", field, _const("")))


def _when_set(field: ast.Expr, test: ast.Expr) -> ast.Expr:
    """`test` if the property is set, otherwise false (jumps, so `test` never sees null)."""
    return _call("if", _binary("!=", field, _const(None)), test, _const(False))


def _contains(field: ast.Expr, needle: Any) -> ast.Expr:
    text = str(needle)
    if "%" in text or "_" in text:  # like-patterns cannot escape these; search literally instead
        return _binary(">", _call("positionCaseInsensitive", _text(field), _const(text)), _const(0))
    return _binary("ilike", _text(field), _const(f"%{text}%"))


def _single(field: ast.Expr, operator: str, value: Any) -> ast.Expr:
    """One operator applied to one scalar value."""
    if operator == "exact":
        return _binary("==", field, _scalar(value))
    if operator == "is_not":
        return _binary("!=", field, _scalar(value))
    if operator == "icontains":
        return _contains(field, value)
    if operator == "not_icontains":
        return ast.Not(expr=_contains(field, value))
    if operator == "regex":
        return _binary("=~", _text(field), _const(_pattern(value)))
    if operator == "not_regex":
        return _binary("!~", _text(field), _const(_pattern(value)))
    if operator in _COMPARISONS:
        number = _number(value, operator)
        return _binary(_COMPARISONS[operator], _call("toFloat", field), _const(number))
    if operator in _DATE_COMPARISONS:
        cmp = _binary(_DATE_COMPARISONS[operator], _call("toDateTime", field), _call("toDateTime", _const(str(value))))
        return _when_set(field, cmp)
    if operator == "is_date_exact":
        return _when_set(field, _binary("==", _call("toDate", field), _call("toDate", _const(str(value)))))
    if operator == "in":
        return _binary("in", field, ast.TupleLiteral(items=[_scalar(value)]))
    if operator == "not_in":
        return _binary("not in", field, ast.TupleLiteral(items=[_scalar(value)]))
    raise FilterCompileError(f"Unknown property filter operator {operator!r}")


def _range(field: ast.Expr, operator: str, value: Any) -> ast.Expr:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise FilterCompileError(f"Operator {operator!r} needs a [low, high] list, got {value!r}")
    low, high = (_const(_number(v, operator)) for v in value)
    number = _call("toFloat", field)
    if operator == "between":
        return ast.And(exprs=[_binary(">=", number, low), _binary("<=", number, high)])
    return ast.Or(exprs=[_binary("<", number, low), _binary(">", number, high)])


def property_to_expr(prop: dict[str, Any]) -> ast.Expr:
    """The expression for one property filter; raises FilterCompileError when it cannot be compiled."""
    if not isinstance(prop, dict):
        raise FilterCompileError(f"A property filter must be an object, got {prop!r}")
    key = prop.get("key")
    if not isinstance(key, str) or not key:
        raise FilterCompileError(f"A property filter needs a non-empty string key, got {key!r}")
    prop_type = prop.get("type", "event")
    if prop_type not in _TYPE_PREFIX:
        raise FilterCompileError(f"Unsupported property filter type {prop_type!r}")
    operator = prop.get("operator") or "exact"
    if operator not in OPERATORS:
        raise FilterCompileError(f"Unknown property filter operator {operator!r}")
    field = ast.Field(chain=[*_TYPE_PREFIX[prop_type], key])
    value = prop.get("value")

    if operator == "is_set":
        return _binary("!=", field, _const(None))
    if operator == "is_not_set":
        return _binary("==", field, _const(None))
    if operator in ("between", "not_between"):
        return _range(field, operator, value)
    if isinstance(value, list | tuple):
        values = list(value)
        if not values:
            return _const(True)
        if len(values) == 1:
            return _single(field, operator, values[0])
        if operator in ("exact", "in"):
            return _binary("in", field, ast.TupleLiteral(items=[_scalar(v) for v in values]))
        if operator in ("is_not", "not_in"):
            return _binary("not in", field, ast.TupleLiteral(items=[_scalar(v) for v in values]))
        parts = [_single(field, operator, v) for v in values]
        return ast.And(exprs=parts) if operator in _NEGATED else ast.Or(exprs=parts)
    return _single(field, operator, value)


def compile_property_filters(properties: list[dict[str, Any]]) -> list[Any]:
    """Compile ANDed property filters to bytecode returning a boolean; raises FilterCompileError."""
    if not isinstance(properties, list):
        raise FilterCompileError(f"Property filters must be a list, got {type(properties).__name__}")
    exprs = [property_to_expr(prop) for prop in properties]
    if not exprs:
        expr: ast.Expr = _const(True)
    elif len(exprs) == 1:
        expr = exprs[0]
    else:
        expr = ast.And(exprs=exprs)
    return compile_ast(ast.Program(body=[ast.Return(expr=expr)]))
