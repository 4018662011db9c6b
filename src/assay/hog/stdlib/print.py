"""Printing Hog values as Hog literals (``print``, ``toString``, error messages)."""

from __future__ import annotations

import re
import time
from typing import Any

from assay.hog.errors import HogMemoryLimitError, HogRuntimeError, HogTimeoutError
from assay.hog.stdlib.values import (
    HogCallable,
    HogClosure,
    format_number,
    is_hog_date,
    is_hog_datetime,
    is_hog_error,
)

#: Deepest nesting the printer and serializers follow before giving up.
MAX_NESTING_DEPTH = 256
#: Default cap on the length of one printed value.
DEFAULT_PRINT_BUDGET = 16 * 1024 * 1024

_ESCAPES = {
    "\b": "\\b",
    "\f": "\\f",
    "\r": "\\r",
    "\n": "\\n",
    "\t": "\\t",
    "\0": "\\0",
    "\v": "\\v",
    "\\": "\\\\",
}
_QUOTE_TABLE = str.maketrans({**_ESCAPES, "'": "\\'"})
_BACKTICK_TABLE = str.maketrans({**_ESCAPES, "`": "``"})
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def escape_string(value: str) -> str:
    """Quote a string as a Hog single-quoted literal."""
    return "'" + value.translate(_QUOTE_TABLE) + "'"


def escape_identifier(identifier: str | int) -> str:
    """Render an identifier, backtick-quoting it when it is not a plain name."""
    if isinstance(identifier, int):
        return str(identifier)
    if _IDENTIFIER.fullmatch(identifier):
        return identifier
    return "`" + identifier.translate(_BACKTICK_TABLE) + "`"


class Budget:
    """Output-size and wall-time allowance for printing or serializing one value."""

    __slots__ = ("left", "deadline", "calls")

    def __init__(self, left: int, deadline: float | None = None) -> None:
        self.left = left
        self.deadline = deadline
        self.calls = 0

    def spend(self, n: int) -> None:
        """Charge ``n`` characters; fail past the size cap, and check the clock now and then."""
        self.left -= n
        if self.left < 0:
            raise HogMemoryLimitError("Memory limit exceeded")
        self.calls += 1
        if self.deadline is not None and not self.calls & 4095 and time.monotonic() > self.deadline:
            raise HogTimeoutError("Execution timed out while printing a value")


def _print(obj: Any, marked: set[int], budget: Budget, depth: int) -> str:
    t = type(obj)
    if t is str:
        budget.spend(len(obj) + 2)
        return escape_string(obj)
    if obj is None:
        return "null"
    if t is bool:
        return "true" if obj else "false"
    if t is int or t is float:
        return format_number(obj)
    if depth > MAX_NESTING_DEPTH:
        raise HogRuntimeError("Value is nested too deeply to print")
    if isinstance(obj, HogClosure):
        obj = obj.callable
    if isinstance(obj, HogCallable):
        return f"fn<{escape_identifier(obj.name or 'lambda')}({obj.arg_count})>"
    oid = id(obj)
    if t is dict:
        if is_hog_datetime(obj):
            millis = format_number(obj["dt"]) if type(obj["dt"]) in (int, float) else str(obj["dt"])
            return f"DateTime({millis}{'' if '.' in millis else '.0'}, {escape_string(str(obj['zone']))})"
        if is_hog_date(obj):
            parts = (obj[k] for k in ("year", "month", "day"))
            return "Date(" + ", ".join(format_number(v) if type(v) in (int, float) else str(v) for v in parts) + ")"
        if is_hog_error(obj):
            payload = obj.get("payload")
            message = obj["message"] if type(obj["message"]) is str else str(obj["message"])
            extra = f", {_print(payload, marked, budget, depth + 1)}" if payload else ""
            return f"{obj['type']}({escape_string(message)}{extra})"
    if oid in marked:
        return "null"
    marked.add(oid)
    try:
        budget.spend(2 + len(obj))
        if t is list:
            return "[" + ", ".join(_print(v, marked, budget, depth + 1) for v in obj) + "]"
        if t is tuple:
            inner = ", ".join(_print(v, marked, budget, depth + 1) for v in obj)
            return f"tuple({inner})" if len(obj) < 2 else f"({inner})"
        if t is dict:
            return (
                "{"
                + ", ".join(
                    f"{_print(k, marked, budget, depth + 1)}: {_print(v, marked, budget, depth + 1)}"
                    for k, v in obj.items()
                )
                + "}"
            )
    finally:
        marked.discard(oid)
    return escape_string(str(obj))


def print_hog_value(obj: Any, budget: int = DEFAULT_PRINT_BUDGET, deadline: float | None = None) -> str:
    """Render any value as a Hog literal: strings quoted, ``null``, ``[1, 2]``, ``{'a': 1}``."""
    return _print(obj, set(), Budget(budget, deadline), 0)


def print_hog_string_output(obj: Any, budget: int = DEFAULT_PRINT_BUDGET, deadline: float | None = None) -> str:
    """Like :func:`print_hog_value`, but a top-level string is returned without quotes."""
    if type(obj) is str:
        return obj
    return _print(obj, set(), Budget(budget, deadline), 0)


def _register() -> None:
    from assay.hog.stdlib.registry import ExecContext, stl

    @stl("print", 0, None)
    def _print_fn(args: list[Any], ctx: ExecContext) -> None:
        ctx.write(" ".join(print_hog_string_output(a, ctx.max_string_length, ctx.deadline) for a in args))


_register()
