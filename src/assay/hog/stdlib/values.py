"""Hog value model and the JavaScript-compatible conversions the VM relies on.

Values are plain Python data: ``None``, ``bool``, ``int``, ``float``, ``str``, ``list`` (array),
``tuple`` (Hog tuple), ``dict`` (Hog dictionary), plus marker dicts for dates, datetimes and
errors, and the :class:`HogCallable` / :class:`HogClosure` function objects. Nothing else ever
reaches a Hog program, so programs cannot touch Python objects.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from assay.hog.errors import HogRuntimeError


class HogCallable:
    """A function body: where it lives in which chunk and how many arguments and upvalues it takes."""

    __slots__ = ("kind", "name", "arg_count", "upvalue_count", "ip", "chunk")

    def __init__(self, kind: str, name: str, arg_count: int, upvalue_count: int, ip: int, chunk: str) -> None:
        self.kind = kind  # "local" | "stl" | "async"
        self.name = name
        self.arg_count = arg_count
        self.upvalue_count = upvalue_count
        self.ip = ip
        self.chunk = chunk

    def __repr__(self) -> str:
        return f"fn<{self.name or 'lambda'}({self.arg_count})>"


class UpValue:
    """A captured variable: open while it lives on the stack, closed once its frame is gone."""

    __slots__ = ("location", "closed", "value")

    def __init__(self, location: int) -> None:
        self.location = location
        self.closed = False
        self.value: Any = None


class HogClosure:
    """A callable together with the upvalues it captured."""

    __slots__ = ("callable", "upvalues")

    def __init__(self, callable_: HogCallable, upvalues: list[UpValue] | None = None) -> None:
        self.callable = callable_
        self.upvalues: list[UpValue] = upvalues if upvalues is not None else []

    def __repr__(self) -> str:
        return repr(self.callable)


def new_hog_error(type_: Any, message: Any, payload: Any = None) -> dict[str, Any]:
    """Build the error value that `throw` accepts: ``{type, message, payload}`` plus a marker."""
    return {
        "__hogError__": True,
        "type": type_ or "Error",
        "message": message or "An error occurred",
        "payload": payload,
    }


def is_hog_error(value: Any) -> bool:
    """True for error values created by ``Error(...)``/``HogError(...)``."""
    return type(value) is dict and "__hogError__" in value and "type" in value and "message" in value


def is_hog_datetime(value: Any) -> bool:
    """True for DateTime values."""
    return type(value) is dict and "__hogDateTime__" in value and "dt" in value and "zone" in value


def is_hog_date(value: Any) -> bool:
    """True for Date values."""
    return type(value) is dict and "__hogDate__" in value and "year" in value and "month" in value and "day" in value


def is_function(value: Any) -> bool:
    """True for closures and bare callables."""
    return isinstance(value, (HogClosure, HogCallable))


# ---------------------------------------------------------------- numbers

_JS_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_JS_INT = re.compile(r"[+-]?\d+")
_JS_WS = " \t\n\r\v\f\u00a0\ufeff\u2028\u2029"


def _string_to_number(text: str) -> int | float:
    s = text.strip(_JS_WS)
    if s == "":
        return 0
    if _JS_INT.fullmatch(s):
        return int(s)
    if _JS_NUMBER.fullmatch(s):
        return float(s)
    low = s.lower()
    if low[:2] in ("0x", "0o", "0b"):
        try:
            return int(s, 0)
        except ValueError:
            return math.nan
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    return math.nan


def to_number(value: Any) -> int | float:
    """Convert like JavaScript's ``Number(value)``."""
    t = type(value)
    if t is int or t is float:
        return value
    if t is bool:
        return 1 if value else 0
    if value is None:
        return 0
    if t is str:
        return _string_to_number(value)
    if t is list or t is tuple:
        if len(value) == 0:
            return 0
        if len(value) == 1:
            return to_number(js_string(value[0]) if value[0] is not None else "")
        return math.nan
    return math.nan


def is_finite_number(value: Any) -> bool:
    """True for ints and finite floats (not bools)."""
    t = type(value)
    return t is int or (t is float and math.isfinite(value))


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: containers and functions are always true."""
    if value is None or value is False:
        return False
    t = type(value)
    if t is str:
        return value != ""
    if t is int:
        return value != 0
    if t is float:
        return value != 0 and value == value
    return True


def format_number(value: int | float) -> str:
    """Render a number the way JavaScript's ``String(number)`` does."""
    if type(value) is int:
        if abs(value) < 10**21:
            return str(value)
        value = float(value)
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e21:
        return str(int(value))
    sign = "-" if value < 0 else ""
    _, digit_tuple, exp = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    n = len(digit_tuple) + int(exp)  # position of the decimal point after the first digit group
    lead = len("".join(map(str, digit_tuple))) - len("".join(map(str, digit_tuple)).lstrip("0"))
    digits = digits.lstrip("0") or "0"
    n -= lead
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp_str = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + exp_str
    return sign + digits[0] + "." + digits[1:] + exp_str


def js_string(value: Any) -> str:
    """JavaScript ``String(value)`` for primitives; used by conversions such as ``position``."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if t is int or t is float:
        return format_number(value)
    if t is list or t is tuple:
        return ",".join("" if v is None else js_string(v) for v in value)
    if t is dict:
        if is_hog_datetime(value) or is_hog_date(value) or is_hog_error(value):
            return "[object Object]"
        return "[object Map]"
    return str(value)


_PARSE_INT = re.compile(r"[+-]?\d+")
_PARSE_HEX = re.compile(r"([+-]?)0[xX]([0-9a-fA-F]+)")
_PARSE_FLOAT = re.compile(r"[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")


def js_parse_int(value: Any) -> int | float:
    """JavaScript ``parseInt(value)``: leading integer of the string form, else NaN."""
    text = js_string(value) if type(value) is not float else format_number(value)
    text = text.lstrip(_JS_WS)
    m = _PARSE_HEX.match(text)
    if m:
        n = int(m.group(2), 16)
        return -n if m.group(1) == "-" else n
    m = _PARSE_INT.match(text)
    if not m:
        return math.nan
    return int(m.group(0))


def js_parse_float(value: Any) -> int | float:
    """JavaScript ``parseFloat(value)``: leading decimal number of the string form, else NaN."""
    text = js_string(value).lstrip(_JS_WS)
    m = _PARSE_FLOAT.match(text)
    if not m:
        return math.nan
    s = m.group(0)
    if s.endswith("Infinity"):
        return -math.inf if s.startswith("-") else math.inf
    if _JS_INT.fullmatch(s):
        return int(s)
    return float(s)


# ---------------------------------------------------------------- comparisons


def _temporal_seconds(value: Any) -> float | None:
    if type(value) is dict:
        if is_hog_datetime(value):
            return value["dt"]
        if is_hog_date(value):
            from assay.hog.stdlib.datetime import date_to_seconds

            return date_to_seconds(value)
    return None


def unify_comparison_types(left: Any, right: Any) -> tuple[Any, Any]:
    """Coerce mismatched operand types before comparing, as the reference VM does."""
    tl, tr = type(left), type(right)
    if tl is dict or tr is dict:
        ls, rs = _temporal_seconds(left), _temporal_seconds(right)
        if ls is not None and rs is not None:
            return ls, rs
        if ls is not None and tr is str:
            from assay.hog.stdlib.datetime import date_string_to_seconds

            secs = date_string_to_seconds(right)
            if secs is not None:
                return ls, secs
        if rs is not None and tl is str:
            from assay.hog.stdlib.datetime import date_string_to_seconds

            secs = date_string_to_seconds(left)
            if secs is not None:
                return secs, rs
        return left, right
    num_l = tl is int or tl is float
    num_r = tr is int or tr is float
    if num_l and tr is str:
        return left, to_number(right)
    if tl is str and num_r:
        return to_number(left), right
    if tl is bool and tr is str:
        return left, right == "true"
    if tl is str and tr is bool:
        return left == "true", right
    if tl is bool and num_r:
        return (1 if left else 0), right
    if num_l and tr is bool:
        return left, (1 if right else 0)
    return left, right


def _numeric_sequence(value: Any) -> bool:
    t = type(value)
    if t is not list and t is not tuple:
        return False
    for v in value:
        tv = type(v)
        if not (tv is int or (tv is float and math.isfinite(v))):
            return False
    return True


def _to_primitive(value: Any) -> Any:
    t = type(value)
    if t is list or t is tuple or t is dict or isinstance(value, (HogClosure, HogCallable)):
        return js_string(value)
    return value


def strict_equals(left: Any, right: Any) -> bool:
    """JavaScript ``===`` over Hog values (containers compare by identity)."""
    tl, tr = type(left), type(right)
    if tl is str or tr is str:
        return tl is tr and left == right
    if left is None or right is None:
        return left is right
    if tl is bool or tr is bool:
        return tl is tr and left == right
    if (tl is int or tl is float) and (tr is int or tr is float):
        return left == right
    if tl in (list, tuple, dict) or tr in (list, tuple, dict):
        return left is right
    return left is right


def _relational(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Operands ready for ``<``; None when the JavaScript comparison would be false (NaN)."""
    left, right = _to_primitive(left), _to_primitive(right)
    if type(left) is str and type(right) is str:
        return left, right
    ln, rn = to_number(left), to_number(right)
    if ln != ln or rn != rn:
        return None
    return ln, rn


def compare(left: Any, right: Any, op: str) -> bool:
    """Compare two values with one of ``== != > >= < <=`` using the reference VM's rules."""
    left, right = unify_comparison_types(left, right)
    if _numeric_sequence(left) and _numeric_sequence(right):
        ordering = 0
        for a, b in zip(left, right, strict=False):
            if a != b:
                ordering = -1 if a < b else 1
                break
        if ordering == 0:
            ordering = (len(left) > len(right)) - (len(left) < len(right))
        if op == "==":
            return ordering == 0
        if op == "!=":
            return ordering != 0
        if op == ">":
            return ordering > 0
        if op == ">=":
            return ordering >= 0
        if op == "<":
            return ordering < 0
        return ordering <= 0
    if op == "==":
        return strict_equals(left, right)
    if op == "!=":
        return not strict_equals(left, right)
    if left is None or right is None:
        return False  # PostHog's VMs order nothing against null (JavaScript would read null as 0)
    pair = _relational(left, right)
    if pair is None:
        return False
    a, b = pair
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    raise HogRuntimeError(f"Invalid comparison operation: {op}")


def contains(container: Any, item: Any) -> bool:
    """JavaScript ``includes`` for arrays, tuples and strings (strict equality)."""
    t = type(container)
    if t is list or t is tuple:
        for v in container:
            if strict_equals(v, item):
                return True
        return False
    if t is str:
        return js_string(item) in container if item is not None else "null" in container
    if container is None:
        raise HogRuntimeError("Cannot read properties of null (reading 'includes')")
    raise HogRuntimeError(f"Can not use 'in' with a value of type {type_name(container)}")


def type_name(value: Any) -> str:
    """The name ``typeof`` returns for a value."""
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "integer" if value.is_integer() else "float"
    if t is str:
        return "string"
    if t is list:
        return "array"
    if t is tuple:
        return "tuple"
    if t is dict:
        if is_hog_datetime(value):
            return "datetime"
        if is_hog_date(value):
            return "date"
        if is_hog_error(value):
            return "error"
        return "object"
    if isinstance(value, (HogClosure, HogCallable)):
        return "function"
    return "unknown"


# ---------------------------------------------------------------- property access


def get_property(obj: Any, key: Any, nullish: bool = False) -> Any:
    """``obj[key]`` / ``obj.key`` with Hog rules: 1-based, negative from the end, missing is null."""
    t = type(obj)
    if t is dict:
        if type(key) is float and key.is_integer():
            key = int(key)
        try:
            return obj.get(key)
        except TypeError:
            return None
    if t is list or t is tuple:
        tk = type(key)
        if tk is int or (tk is float and key.is_integer()):
            key = int(key)
            if key == 0:
                raise HogRuntimeError("Hog arrays start from index 1")
            if key > 0:
                return obj[key - 1] if key <= len(obj) else None
            return obj[len(obj) + key] if -key <= len(obj) else None
        return None
    return None


def set_property(obj: Any, key: Any, value: Any) -> None:
    """``obj[key] := value`` for dictionaries and arrays."""
    t = type(obj)
    if t is dict:
        if type(key) is float and key.is_integer():
            key = int(key)
        try:
            obj[key] = value
        except TypeError as e:
            raise HogRuntimeError(f"Can not use a value of type {type_name(key)} as a dictionary key") from e
        return
    if t is list:
        tk = type(key)
        if tk is int or (tk is float and key.is_integer()):
            key = int(key)
            if key <= 0:
                raise HogRuntimeError("Hog arrays start from index 1")
            if key <= len(obj):
                obj[key - 1] = value
                return
            raise HogRuntimeError(f"Array index {key} is out of bounds (length {len(obj)})")
    raise HogRuntimeError(f"Can not set {js_string(key)} on element of type {_js_typeof(obj)}")


def _js_typeof(value: Any) -> str:
    if value is None or type(value) in (list, tuple, dict):
        return "object"
    if type(value) is bool:
        return "boolean"
    if type(value) in (int, float):
        return "number"
    if type(value) is str:
        return "string"
    return "object"
